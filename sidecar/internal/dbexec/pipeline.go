package dbexec

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unsafe"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/pgway/pgway/internal/apierr"
)

// Query is one statement of a pipelined exchange.
type Query struct {
	SQL  string
	Args []any // strings and int64s, sent as untyped text so PostgreSQL infers each type from its context
	// Prepare caches the statement per connection (Parse once, then only Bind/Execute). Use it for statements
	// whose text repeats; leave it off for one-offs such as EXPLAIN.
	Prepare bool
	// ResultFormats are the result columns' formats (nil: all text; 1 is binary).
	ResultFormats []int16
	// raw are already-encoded arguments (used instead of Args when set).
	raw [][]byte
	// final marks a closing check (the DO block that may roll back): the response GUCs are read before it.
	final bool
}

// maxPrepared bounds the named statements one connection keeps; past it they are all deallocated.
const maxPrepared = 1000

// stmtCache maps SQL text to the name of the statement prepared for it on one connection. A pooled connection is
// used by one request at a time, so it needs no lock.
type stmtCache struct {
	names map[string]string
	next  int
}

const stmtCacheKey = "pgway.stmts"

func stmtsOf(pc *pgconn.PgConn) *stmtCache {
	data := pc.CustomData()
	if sc, ok := data[stmtCacheKey].(*stmtCache); ok {
		return sc
	}
	sc := &stmtCache{names: map[string]string{}}
	data[stmtCacheKey] = sc
	return sc
}

// exchange runs the request's settings and then queries in one round trip: a single pipeline closed by one Sync,
// so PostgreSQL runs them as one implicit transaction (all or nothing) and parses every statement after the role
// and search_path are set. handle sees each query's result in order.
func (e *Executor) exchange(ctx context.Context, tx Tx, queries []Query, handle func(i int, rr *pgconn.ResultReader) error) error {
	for attempt := 0; ; attempt++ {
		handled := false
		err := e.exchangeOnce(ctx, tx, queries, func(i int, rr *pgconn.ResultReader) error {
			handled = true
			return handle(i, rr)
		})
		// A pooled connection the server has since closed (restart, pg_terminate_backend, idle timeout) fails
		// before anything ran: try once more on another connection.
		if err != nil && attempt == 0 && !handled && deadConnection(err, tx.ReadOnly) {
			continue
		}
		return err
	}
}

// deadConnection reports whether err means the connection was gone before the request's statements could
// take effect: nothing was sent, or the server had terminated the session (57P01/57P02/57P03). A connection
// lost mid-exchange is only retried for read-only requests.
func deadConnection(err error, readOnly bool) bool {
	if pgconn.SafeToRetry(err) {
		return true
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code == "57P01" || pe.Code == "57P02" || pe.Code == "57P03"
	}
	var ae *apierr.Error
	if errors.As(err, &ae) && ae.Code != "PGRST001" {
		return false // a client error, or no connection could be had at all
	}
	return readOnly
}

func (e *Executor) exchangeOnce(ctx context.Context, tx Tx, queries []Query, handle func(i int, rr *pgconn.ResultReader) error) error {
	conn, err := e.acquire(ctx)
	if err != nil {
		return err
	}
	defer conn.Release()
	if e.PreRequest != "" {
		// db-pre-request runs after the settings and before the request's statements, in the same transaction.
		all := make([]Query, 0, len(queries)+1)
		all = append(all, Query{SQL: "SELECT " + e.PreRequest + "()", Prepare: true})
		queries = append(all, queries...)
		inner := handle
		handle = func(i int, rr *pgconn.ResultReader) error {
			if i == 0 {
				return nil
			}
			return inner(i-1, rr)
		}
	}
	e.configure(&tx)
	if g := tx.Response; g != nil && !tx.responseInMain {
		// Read them after the statements and before a closing check, which may end the pipeline with the
		// rollback sentinel (Prefer: tx=rollback keeps the headers a function set, as PostgREST).
		at := len(queries)
		if at > 0 && queries[at-1].final {
			at--
		}
		withGUC := make([]Query, 0, len(queries)+1)
		withGUC = append(withGUC, queries[:at]...)
		withGUC = append(withGUC, Query{SQL: gucResponseSQL, Prepare: true})
		queries = append(withGUC, queries[at:]...)
		inner := handle
		handle = func(i int, rr *pgconn.ResultReader) error {
			if i < at {
				return inner(i, rr)
			}
			if i > at {
				return inner(i-1, rr)
			}
			for rr.NextRow() {
				g.take(rr.Values())
			}
			return nil
		}
	}
	return wrap(settle(ctx, exchangeOn(ctx, conn, tx, queries, !e.NoPrepare, handle)))
}

// exchangeOn runs queries in one pipeline on conn; with prepare false no named statement is created (db-prepared-statements
// off, for transaction-pooling proxies such as PgBouncer).
func exchangeOn(ctx context.Context, conn *pgxpool.Conn, tx Tx, queries []Query, prepare bool, handle func(i int, rr *pgconn.ResultReader) error) error {
	pc := conn.Conn().PgConn()
	sc := stmtsOf(pc)
	p := pc.StartPipeline(ctx)

	settings, vals := tx.settings()
	dealloc := prepare && len(sc.names) >= maxPrepared
	if dealloc {
		p.SendQueryParams("DEALLOCATE ALL", nil, nil, nil, nil)
		clear(sc.names)
	}
	// The settings statement is prepared like the others: its text only varies with the configuration.
	queries = append([]Query{{SQL: settings, raw: vals, Prepare: true}}, queries...)
	inner := handle
	handle = func(i int, rr *pgconn.ResultReader) error {
		if i == 0 {
			return nil
		}
		return inner(i-1, rr)
	}
	// fresh[i] is the statement name queries[i] prepares in this pipeline ("" if none).
	fresh := make([]string, len(queries))
	for i, q := range queries {
		vals, err := q.raw, error(nil)
		if vals == nil {
			vals, err = encodeArgs(q.Args)
		}
		if err != nil {
			_ = p.Close()
			return err
		}
		if !q.Prepare || !prepare {
			p.SendQueryParams(q.SQL, vals, nil, nil, q.ResultFormats)
			continue
		}
		name, ok := sc.names[q.SQL]
		if !ok {
			sc.next++
			name = "pgway_" + strconv.Itoa(sc.next)
			p.SendPrepare(name, q.SQL, nil)
			fresh[i] = name
		}
		p.SendQueryPrepared(name, vals, nil, q.ResultFormats)
	}
	p.SendPipelineSync()
	if err := p.Flush(); err != nil {
		_ = p.Close()
		return err
	}

	err := readPipeline(p, sc, dealloc, queries, fresh, handle)
	if cerr := p.Close(); err == nil && cerr != nil {
		err = cerr
	}
	return err
}

// readPipeline consumes the results in the order they were sent; the first error ends it (the server skipped
// everything after it up to the Sync, and Close drains what is left).
func readPipeline(p *pgconn.Pipeline, sc *stmtCache, dealloc bool, queries []Query, fresh []string, handle func(int, *pgconn.ResultReader) error) error {
	next := func() (*pgconn.ResultReader, error) {
		res, err := p.GetResults()
		if err != nil {
			return nil, err
		}
		rr, ok := res.(*pgconn.ResultReader)
		if !ok {
			return nil, fmt.Errorf("pipeline: unexpected result %T", res)
		}
		return rr, nil
	}
	discard := func() error {
		rr, err := next()
		if err != nil {
			return err
		}
		_, err = rr.Close()
		return err
	}
	if dealloc {
		if err := discard(); err != nil {
			return err
		}
	}
	for i := range queries {
		if fresh[i] != "" {
			res, err := p.GetResults()
			if err != nil {
				return err
			}
			if _, ok := res.(*pgconn.StatementDescription); !ok {
				return fmt.Errorf("pipeline: unexpected result %T for prepare", res)
			}
			sc.names[queries[i].SQL] = fresh[i]
		}
		rr, err := next()
		if err != nil {
			return err
		}
		herr := handle(i, rr)
		if _, err := rr.Close(); err != nil {
			return err
		}
		if herr != nil {
			return herr
		}
	}
	res, err := p.GetResults()
	if err != nil {
		return err
	}
	if _, ok := res.(*pgconn.PipelineSync); !ok {
		return fmt.Errorf("pipeline: expected sync, got %T", res)
	}
	return nil
}

// values are the settings statement's arguments, with room for the statement timeout.
func (t *Tx) values() [][]byte {
	claims, headers, cookies := t.Claims, t.Headers, t.Cookies
	if claims == "" {
		claims = "{}"
	}
	if headers == "" {
		headers = "{}"
	}
	if cookies == "" {
		cookies = "{}"
	}
	vals := make([][]byte, 7, 8)
	vals[0], vals[1], vals[2], vals[3] = s2b(t.SearchPath), s2b(t.Role), s2b(claims), s2b(t.Method)
	vals[4], vals[5], vals[6] = s2b(t.Path), s2b(headers), s2b(cookies)
	return vals
}

// s2b views s as bytes without copying; pgconn only reads arguments while it encodes them.
func s2b(s string) []byte {
	if s == "" {
		return []byte{} // not nil: nil is SQL NULL
	}
	return unsafe.Slice(unsafe.StringData(s), len(s))
}

// encodeArgs renders arguments in PostgreSQL's text format.
func encodeArgs(args []any) ([][]byte, error) {
	if len(args) == 0 {
		return nil, nil
	}
	vals := make([][]byte, len(args))
	for i, a := range args {
		switch v := a.(type) {
		case string:
			vals[i] = s2b(v)
		case []byte:
			vals[i] = v
		case int64:
			vals[i] = strconv.AppendInt(nil, v, 10)
		case int:
			vals[i] = strconv.AppendInt(nil, int64(v), 10)
		case nil:
			vals[i] = nil
		default:
			return nil, errors.New("dbexec: unsupported argument type " + fmt.Sprintf("%T", a))
		}
	}
	return vals, nil
}

// settings is the statement setting every per-request GUC, and its arguments. The order is PostgREST's, with
// pgway's statement timeout first: statement_timeout, the role's settings (before the role switch: a parameter
// the authenticator was granted with GRANT SET ON PARAMETER may not be settable by the role itself), then
// search_path, role, claims and request GUCs, then app.settings and the time zone. set_config calls in one
// target list run in order, so a later setting of the same name wins.
func (t *Tx) settings() (string, [][]byte) {
	base := settingsList
	if t.ReadOnly {
		base = readOnlyList
	}
	vals := t.values()
	extra := t.appSettings
	if t.Timezone != "" {
		extra = append(extra[:len(extra):len(extra)], [2]string{"", t.Timezone})
	}
	if len(extra) == 0 && len(t.RoleSettings) == 0 {
		switch {
		case t.statementTimeout == "" && t.ReadOnly:
			return readOnlySQL, vals
		case t.statementTimeout == "":
			return settingsSQL, vals
		case t.ReadOnly:
			return readOnlyTimeoutSQL, append(vals, s2b(t.statementTimeout))
		}
		return settingsTimeoutSQL, append(vals, s2b(t.statementTimeout))
	}
	var sb strings.Builder
	sb.WriteString("SELECT ")
	if t.statementTimeout != "" {
		vals = append(vals, s2b(t.statementTimeout))
		sb.WriteString(timeoutItem)
	}
	for _, kv := range t.RoleSettings {
		vals = append(vals, s2b(kv[0]), s2b(kv[1]))
		sb.WriteString("set_config($" + strconv.Itoa(len(vals)-1) + ", $" + strconv.Itoa(len(vals)) + ", true), ")
	}
	sb.WriteString(base)
	for _, kv := range extra {
		name := "app.settings." + kv[0]
		if kv[0] == "" {
			name = "timezone"
		}
		vals = append(vals, []byte(name), []byte(kv[1]))
		sb.WriteString(", set_config($" + strconv.Itoa(len(vals)-1) + ", $" + strconv.Itoa(len(vals)) + ", true)")
	}
	return sb.String(), vals
}
