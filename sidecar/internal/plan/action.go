package plan

import (
	"net/http"
	"slices"
	"strings"

	"github.com/pgway/pgway/internal/apierr"
	"github.com/pgway/pgway/internal/schemacache"
	"github.com/pgway/pgway/sidecar/internal/request"
)

// Rules are the configuration that shapes how requests are planned: one snapshot's settings.
type Rules struct {
	Limits
	PlanEnabled       bool     // db-plan-enabled: Accept: application/vnd.pgrst.plan
	AggregatesEnabled bool     // db-aggregates-enabled
	TxEnd             string   // db-tx-end: commit | commit-allow-override | rollback | rollback-allow-override
	StreamBodyBytes   int      // server-stream-body-size: write bodies this large are copied, not bound (0: never)
	RootSpec          string   // db-root-spec: the function answering GET /
	HoistedSettings   []string // db-hoisted-tx-settings: function settings applied to the call's transaction
	// StrictTargetNames refuses an aliased embed's relation name in filters (url-use-legacy-target-names off).
	StrictTargetNames bool
}

// Kind is what an Action does.
type Kind uint8

// Kinds of actions.
const (
	KindRead     Kind = iota // rows of a relation
	KindMutate               // insert, update, upsert, delete
	KindCall                 // a function
	KindInfo                 // OPTIONS: the methods a resource allows
	KindDocument             // GET /: the OpenAPI document
)

// Action is a request resolved against one snapshot: what to run and every request-level rule that shapes its
// transaction and its response. Exactly one of Read, Mutate, Call and Info is set for those kinds.
type Action struct {
	Kind   Kind
	Read   *Read
	Mutate *Mutate
	Call   *Call
	Info   *Info

	// ReadOnly runs the transaction read-only (reads, GET calls, stable and immutable functions).
	ReadOnly bool
	// Rollback ends a read-write transaction with a rollback (db-tx-end, Prefer: tx=).
	Rollback bool
	// TxApplied is the tx= preference to report as applied ("" when none was honoured).
	TxApplied string
	// FunctionSettings are the called function's own settings named in db-hoisted-tx-settings, applied to the
	// transaction after the role's (a function's statement_timeout bounds its call).
	FunctionSettings [][2]string
	// Warning is PostgREST's deprecation Warning text (url-use-legacy-target-names).
	Warning string
}

// Info is the answer to OPTIONS.
type Info struct {
	Allow string
}

// New plans req in schema of cache (the snapshot as the request's role sees it). It applies every rule of the
// request's kind: media types the configuration disables (PGRST107), aggregates (PGRST123), how the transaction
// ends, the stream threshold of write bodies, db-root-spec and hoisted function settings.
func New(req *request.Request, cache *schemacache.Cache, schema string, rules *Rules) (*Action, error) {
	req.StrictTargetNames = rules.StrictTargetNames
	if req.Accept == request.MediaGeoJSON && (cache == nil || cache.GeoJSON == nil) {
		// application/geo+json needs PostGIS (3.0 or later) in the database: without it, the next accepted
		// media type is negotiated (406 PGRST107 when there is none; a media type handler may still take it).
		if err := req.WithoutGeoJSON(); err != nil {
			return nil, err
		}
	}
	// The relation is found first (PGRST205 wins), then the request-level checks, then the plan.
	checks := func() error {
		if req.Accept == request.MediaPlan && !rules.PlanEnabled {
			return apierr.New(http.StatusNotAcceptable, "PGRST107",
				"None of these media types are available: "+req.AcceptHeader())
		}
		return CheckAggregates(req.Select, rules.AggregatesEnabled)
	}
	rollback, applied := TxEnd(rules.TxEnd, req.Prefer.Tx)
	a := &Action{TxApplied: applied}
	switch req.Action {
	case request.ActionRead:
		rel, err := Relation(cache, schema, req.Relation)
		if err != nil {
			return nil, err
		}
		if err := checks(); err != nil {
			return nil, err
		}
		if a.Read, err = ForRead(req, cache, rel, rules.Limits); err != nil {
			return nil, err
		}
		a.Kind, a.ReadOnly, a.Warning = KindRead, true, a.Read.Warning
	case request.ActionInsert, request.ActionUpdate, request.ActionUpsert, request.ActionDelete:
		rel, err := Relation(cache, schema, req.Relation)
		if err != nil {
			return nil, err
		}
		if err := checks(); err != nil {
			return nil, err
		}
		m, err := ForMutate(req, cache, rel, rollback, rules.Limits)
		if err != nil {
			return nil, err
		}
		m.StreamBody = rules.StreamBodyBytes > 0 && req.Payload != nil && len(req.Payload.JSON) >= rules.StreamBodyBytes
		a.Kind, a.Mutate, a.Rollback = KindMutate, m, rollback
		if m.Read != nil {
			a.Warning = m.Read.Warning
		}
	case request.ActionSchema:
		if rules.RootSpec == "" {
			a.Kind, a.ReadOnly = KindDocument, true
			return a, nil
		}
		// db-root-spec: the root answers with this function's result instead of the generated document.
		req.Action, req.RPC, req.Relation = request.ActionCall, true, rules.RootSpec
		return New(req, cache, schema, rules)
	case request.ActionCall:
		if err := checks(); err != nil {
			return nil, err
		}
		c, err := ForCall(req, cache, schema, rules.Limits)
		if err != nil {
			return nil, err
		}
		c.Rollback = rollback && !c.ReadOnly
		a.Kind, a.Call, a.ReadOnly, a.Rollback = KindCall, c, c.ReadOnly, c.Rollback
		a.FunctionSettings = hoistedSettings(c.Routine.Settings, rules.HoistedSettings)
		c.Isolation = isolationSetting(c.Routine.Settings)
		if c.Read != nil {
			a.Warning = c.Read.Warning
		}
	case request.ActionInfo:
		info, err := options(req, cache, schema)
		if err != nil {
			return nil, err
		}
		a.Kind, a.Info, a.ReadOnly = KindInfo, info, true
	default:
		return nil, apierr.New(http.StatusNotImplemented, "PGRST501", "Not implemented yet in pgway").
			WithDetails("This request type is not supported yet.")
	}
	return a, nil
}

// TxEnd applies db-tx-end to a Prefer: tx= value: whether to roll back, and the preference to report as applied.
func TxEnd(mode, pref string) (rollback bool, applied string) {
	override := strings.HasSuffix(mode, "-allow-override")
	rollback = strings.HasPrefix(mode, "rollback")
	if override && pref != "" {
		rollback = pref == "rollback"
		applied = pref
	}
	return rollback, applied
}

// hoistedSettings are the function's own settings named in db-hoisted-tx-settings, as PostgREST hoists them.
// The isolation level is not among them: set_config cannot change it once the transaction has run a query, so
// it is the transaction's own (Action.Isolation).
func hoistedSettings(fn [][2]string, allowed []string) [][2]string {
	var out [][2]string
	for _, kv := range fn {
		if slices.Contains(allowed, kv[0]) && kv[0] != "default_transaction_isolation" {
			out = append(out, kv)
		}
	}
	return out
}

// isolationSetting is the value of the function's default_transaction_isolation setting ("" for none).
func isolationSetting(fn [][2]string) string {
	for _, kv := range fn {
		if kv[0] == "default_transaction_isolation" {
			return kv[1]
		}
	}
	return ""
}

// options answers OPTIONS with the Allow header PostgREST sends.
func options(req *request.Request, cache *schemacache.Cache, schema string) (*Info, error) {
	switch {
	case req.Relation == "":
		return &Info{Allow: "OPTIONS,GET,HEAD"}, nil
	case req.RPC:
		// Volatile functions only take POST; stable and immutable ones may be read with GET too.
		fns := callableRoutines(cache, schema, req.Relation)
		if len(fns) == 0 {
			return nil, apierr.New(http.StatusNotFound, "PGRST202",
				"Could not find the function "+schema+"."+req.Relation+" in the schema cache")
		}
		allow := "OPTIONS,POST"
		for _, fn := range fns {
			if fn.Volatility != 'v' {
				allow = "OPTIONS,GET,HEAD,POST"
			}
		}
		return &Info{Allow: allow}, nil
	}
	rel, err := Relation(cache, schema, req.Relation)
	if err != nil {
		return nil, err
	}
	allow := "OPTIONS,GET,HEAD"
	if rel.Insertable {
		allow += ",POST"
	}
	if rel.Insertable && rel.Updatable && len(rel.PrimaryKey) > 0 {
		allow += ",PUT"
	}
	if rel.Updatable {
		allow += ",PATCH"
	}
	if rel.Deletable {
		allow += ",DELETE"
	}
	return &Info{Allow: allow}, nil
}
