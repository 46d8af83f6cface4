package sqlgen_test

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/pgway/pgway/internal/pgtest"
	"github.com/pgway/pgway/internal/schemacache"
	"github.com/pgway/pgway/sidecar/internal/sqlgen"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// fixtureDB is the golden fixture loaded once per test binary: its database and schema cache.
type fixtureDB struct {
	db    *pgtest.DB
	conn  *pgx.Conn
	cache *schemacache.Cache
	mu    sync.Mutex
}

var (
	fixtureOnce sync.Once
	shared      *fixtureDB
	fixtureErr  error
)

// fixture loads testdata/fixture.sql into a database (once) and returns it with its schema cache.
func fixture(t *testing.T) *fixtureDB {
	t.Helper()
	fixtureOnce.Do(func() {
		sql, err := os.ReadFile("testdata/fixture.sql")
		if err != nil {
			fixtureErr = err
			return
		}
		// The database outlives the test that created it: it is dropped with the throwaway server.
		db := pgtest.NewDatabase(&keepAlive{T: t}, string(sql))
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
		shared = &fixtureDB{db: db, conn: conn, cache: c}
	})
	if fixtureErr != nil {
		t.Fatal(fixtureErr)
	}
	return shared
}

// keepAlive lets the shared fixture database survive the test that created it.
type keepAlive struct{ *testing.T }

func (k *keepAlive) Cleanup(func()) {}

// explain asks PostgreSQL to parse, analyze and plan st with its arguments (untyped, as dbexec sends them), so
// every golden statement is proven to be one valid statement over the fixture.
func (f *fixtureDB) explain(t *testing.T, st sqlgen.Statement) {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	vals := make([][]byte, len(st.Args))
	for i, a := range st.Args {
		switch v := a.(type) {
		case string:
			vals[i] = []byte(v)
		case []byte:
			vals[i] = v
		case int64:
			vals[i] = strconv.AppendInt(nil, v, 10)
		default:
			t.Fatalf("argument %d: unexpected type %T", i+1, a)
		}
	}
	pc := f.conn.PgConn()
	if _, err := pc.Exec(ctx, "BEGIN; SET LOCAL search_path = api, public").ReadAll(); err != nil {
		t.Fatal(err)
	}
	defer func() { _, _ = pc.Exec(ctx, "ROLLBACK").ReadAll() }()
	sql := st.SQL
	if !strings.HasPrefix(sql, "EXPLAIN ") {
		sql = "EXPLAIN " + sql
	}
	res := pc.ExecParams(ctx, sql, vals, nil, nil, nil).Read()
	if res.Err != nil {
		t.Fatalf("PostgreSQL rejects the statement: %v\n%s", res.Err, st.SQL)
	}
}

func argsString(args []any) string {
	var sb strings.Builder
	for i, a := range args {
		if i > 0 {
			sb.WriteString(" | ")
		}
		switch v := a.(type) {
		case string:
			sb.WriteString("'" + v + "'")
		case []byte:
			sb.WriteString("'" + string(v) + "'")
		default:
			sb.WriteString(fmt.Sprint(v))
		}
	}
	return sb.String()
}
