package plan_test

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/pgway/pgway/internal/apierr"
	"github.com/pgway/pgway/internal/config"
	"github.com/pgway/pgway/internal/pgtest"
	"github.com/pgway/pgway/internal/schemacache"
	"github.com/pgway/pgway/sidecar/internal/plan"
	"github.com/pgway/pgway/sidecar/internal/request"
	"github.com/pgway/pgway/sidecar/internal/sqlgen"
)

var update = flag.Bool("update", false, "rewrite the golden files of testdata/<case>/")

func TestMain(m *testing.M) { pgtest.Main(m) }

// TestGolden runs every testdata/<case>: request holds "METHOD /path?query", header lines, a blank line and the
// body; config (optional) holds configuration lines as in a PostgREST config file (the defaults otherwise).
// The request is parsed and planned against the schema cache of testdata/fixture.sql, loaded from PostgreSQL;
// plan holds the dumped plan.Action and sql the statements sqlgen.For builds from it (each one EXPLAINed by
// PostgreSQL over the fixture), or error holds the error when parsing or planning fails.
func TestGolden(t *testing.T) {
	dirs, err := filepath.Glob("testdata/*/request")
	if err != nil {
		t.Fatal(err)
	}
	if len(dirs) == 0 {
		t.Fatal("no golden cases")
	}
	f := fixture(t)
	for _, file := range dirs {
		dir := filepath.Dir(file)
		t.Run(filepath.Base(dir), func(t *testing.T) {
			in := readRequest(t, file)
			rules := readRules(t, filepath.Join(dir, "config"))
			got := map[string]string{}
			a, stage, err := planFor(in, f.cache, rules)
			if err != nil {
				got["error"] = errorText(stage, err)
			} else {
				got["plan"] = dump(a)
				st := sqlgen.For(a)
				got["sql"] = statementsText(st)
				f.explain(t, st)
			}
			compare(t, dir, got)
		})
	}
}

// planFor runs the request through the stages before the SQL: parse, then plan in its schema.
func planFor(in request.Input, cache *schemacache.Cache, rules *plan.Rules) (*plan.Action, string, error) {
	req, err := request.Parse(in)
	if err != nil {
		return nil, "parse", err
	}
	schema := "api"
	if req.Schema != "" {
		schema = req.Schema
	}
	a, err := plan.New(req, cache, schema, rules)
	if err != nil {
		return nil, "plan", err
	}
	return a, "", nil
}

// compare checks (or with -update writes) the golden files a case produced; a file the case did not produce
// must not exist.
func compare(t *testing.T, dir string, got map[string]string) {
	t.Helper()
	for _, name := range []string{"plan", "sql", "error"} {
		path := filepath.Join(dir, name)
		text, produced := got[name]
		if *update {
			if produced {
				if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
					t.Fatal(err)
				}
			} else if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(path)
		switch {
		case !produced && err == nil:
			t.Errorf("%s exists but the case produced no %s (run with -update)", path, name)
		case !produced:
		case err != nil:
			t.Errorf("%v (run with -update); got:\n%s", err, text)
		case text != string(want):
			t.Errorf("%s differs\n--- got\n%s--- want\n%s", path, text, want)
		}
	}
}

// readRequest parses a request file: "METHOD /path?query", header lines, a blank line, the body.
func readRequest(t *testing.T, file string) request.Input {
	t.Helper()
	raw, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	head, body, _ := strings.Cut(string(raw), "\n\n")
	lines := strings.Split(strings.TrimRight(head, "\n"), "\n")
	method, target, _ := strings.Cut(lines[0], " ")
	path, query, _ := strings.Cut(target, "?")
	in := request.Input{Method: method, Path: path, Query: query}
	if body = strings.TrimSuffix(body, "\n"); body != "" {
		in.Body = []byte(body)
	}
	var prefer []string
	for _, line := range lines[1:] {
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			t.Fatalf("%s: bad header line %q", file, line)
		}
		v = strings.TrimSpace(v)
		switch strings.ToLower(strings.TrimSpace(k)) {
		case "accept":
			in.Accept = v
		case "prefer":
			prefer = append(prefer, v)
		case "range":
			in.Range = v
		case "range-unit":
			in.RangeUnit = v
		case "content-type":
			in.ContentType = v
		case "accept-profile":
			in.AcceptProfile = v
		case "content-profile":
			in.ContentProfile = v
		default:
			t.Fatalf("%s: header %q is not read by the request stage", file, k)
		}
	}
	in.Prefer = strings.Join(prefer, ", ")
	return in
}

// readRules loads a case's configuration (PostgREST's defaults when it has none) into the planner's rules, as
// the server's snapshot does.
func readRules(t *testing.T, file string) *plan.Rules {
	t.Helper()
	if _, err := os.Stat(file); err != nil {
		file = ""
	}
	cfg, err := config.Load(file, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	return &plan.Rules{
		Limits:            plan.Limits{MaxRows: cfg.DBMaxRows, MaxEmbedDepth: cfg.DBMaxEmbedDepth, MaxEmbeds: cfg.DBMaxEmbeds},
		PlanEnabled:       cfg.DBPlanEnabled,
		AggregatesEnabled: cfg.DBAggregatesEnabled,
		TxEnd:             cfg.DBTxEnd,
		StreamBodyBytes:   cfg.StreamBodyBytes,
		RootSpec:          cfg.DBRootSpec,
		HoistedSettings:   cfg.DBHoistedTxSettings,
		StrictTargetNames: !cfg.URLLegacyTargetNames,
	}
}

// errorText is the error as the client would see it: status, then PostgREST's JSON object.
func errorText(stage string, err error) string {
	var ae *apierr.Error
	if !errors.As(err, &ae) {
		return fmt.Sprintf("%s: not an apierr.Error: %v\n", stage, err)
	}
	return fmt.Sprintf("%s: %d\n%s\n", stage, ae.Status, ae.JSON())
}

// statementsText renders what sqlgen.For built: the estimate, the main statement, the check, each with its
// arguments, and how the executor treats them.
func statementsText(st sqlgen.Statements) string {
	var b strings.Builder
	if st.Main.SQL == "" {
		return "-- no statement\n"
	}
	if st.Estimate != nil {
		b.WriteString("-- estimate\n" + st.Estimate.SQL + "\n" + argsText(st.Estimate.Args))
	}
	b.WriteString("-- main\n" + st.Main.SQL + "\n" + argsText(st.Main.Args))
	if st.Check != "" {
		b.WriteString("-- check\n" + st.Check + "\n")
	}
	var flags []string
	for _, f := range []struct {
		on   bool
		name string
	}{{st.Explain, "explain"}, {st.BinaryBody, "binary-body"}, {st.GUCColumns, "guc-columns"},
		{st.ReadGUCsAfter, "read-gucs-after"}} {
		if f.on {
			flags = append(flags, f.name)
		}
	}
	if st.StreamBody != nil {
		flags = append(flags, fmt.Sprintf("stream-body(%d bytes)", len(st.StreamBody)))
	}
	if len(flags) > 0 {
		b.WriteString("-- " + strings.Join(flags, " ") + "\n")
	}
	if r := st.Rows; r != nil {
		fmt.Fprintf(&b, "-- rows: open %q sep %q close %q empty %q\n", r.Open, r.Sep, r.Close, r.Empty)
	}
	return b.String()
}

func argsText(args []any) string {
	if len(args) == 0 {
		return ""
	}
	var b strings.Builder
	b.WriteString("-- args:")
	for i, a := range args {
		fmt.Fprintf(&b, " $%d=", i+1)
		switch v := a.(type) {
		case string:
			b.WriteString(strconv.Quote(v))
		case []byte:
			b.WriteString(strconv.Quote(string(v)))
		default:
			fmt.Fprint(&b, v)
		}
	}
	b.WriteByte('\n')
	return b.String()
}

// fixtureDB is testdata/fixture.sql loaded once per test binary, with its schema cache.
type fixtureDB struct {
	conn  *pgx.Conn
	cache *schemacache.Cache
	mu    sync.Mutex
}

var (
	fixtureOnce sync.Once
	shared      *fixtureDB
	fixtureErr  error
)

func fixture(t testing.TB) *fixtureDB {
	t.Helper()
	fixtureOnce.Do(func() {
		sql, err := os.ReadFile("testdata/fixture.sql")
		if err != nil {
			fixtureErr = err
			return
		}
		// The database outlives the test that created it: it is dropped with the throwaway server.
		db := pgtest.NewDatabase(&keepAlive{TB: t}, string(sql))
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		conn, err := pgx.Connect(ctx, db.URL)
		if err != nil {
			fixtureErr = err
			return
		}
		c, err := schemacache.Load(ctx, conn, []string{"api"})
		if err != nil {
			fixtureErr = err
			return
		}
		shared = &fixtureDB{conn: conn, cache: c}
	})
	if fixtureErr != nil {
		t.Fatal(fixtureErr)
	}
	return shared
}

// keepAlive lets the shared fixture database survive the test that created it.
type keepAlive struct{ testing.TB }

func (k *keepAlive) Cleanup(func()) {}

// explain has PostgreSQL parse, analyze and plan every statement of st with its arguments (untyped text, as
// dbexec sends them), in a transaction rolled back afterwards: the estimate and the main statement by EXPLAIN
// (a plan statement as it is), the check by compiling it as a PL/pgSQL function.
func (f *fixtureDB) explain(t *testing.T, st sqlgen.Statements) {
	t.Helper()
	if st.Main.SQL == "" {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	pc := f.conn.PgConn()
	setup := "BEGIN; SET LOCAL search_path = api, public"
	if st.StreamBody != nil {
		setup += "; CREATE TEMP TABLE IF NOT EXISTS pgway_body (body text) ON COMMIT DELETE ROWS"
	}
	if _, err := pc.Exec(ctx, setup).ReadAll(); err != nil {
		t.Fatal(err)
	}
	defer func() { _, _ = pc.Exec(ctx, "ROLLBACK").ReadAll() }()
	run := func(what string, s sqlgen.Statement) {
		vals := make([][]byte, len(s.Args))
		for i, a := range s.Args {
			switch v := a.(type) {
			case string:
				vals[i] = []byte(v)
			case []byte:
				vals[i] = v
			case int64:
				vals[i] = strconv.AppendInt(nil, v, 10)
			default:
				t.Fatalf("%s: argument %d: unexpected type %T", what, i+1, a)
			}
		}
		sql := s.SQL
		if !strings.HasPrefix(sql, "EXPLAIN ") {
			sql = "EXPLAIN " + sql
		}
		if res := pc.ExecParams(ctx, sql, vals, nil, nil, nil).Read(); res.Err != nil {
			t.Fatalf("PostgreSQL rejects the %s statement: %v\n%s", what, res.Err, s.SQL)
		}
	}
	if st.Estimate != nil {
		run("estimate", *st.Estimate)
	}
	run("main", st.Main)
	if st.Check != "" {
		body, ok := strings.CutPrefix(st.Check, "DO ")
		if !ok {
			t.Fatalf("the check is not a DO block: %s", st.Check)
		}
		fn := "CREATE FUNCTION pg_temp.pgway_check() RETURNS void LANGUAGE plpgsql AS " + body
		if _, err := pc.Exec(ctx, fn).ReadAll(); err != nil {
			t.Fatalf("PostgreSQL rejects the check: %v\n%s", err, st.Check)
		}
	}
}
