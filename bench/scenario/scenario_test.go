package scenario_test

import (
	"context"
	"encoding/json"
	"math/rand/v2"
	"net/url"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/pgway/pgway/bench/scenario"
	"github.com/pgway/pgway/internal/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// input is what the baseline would hand Args for target.
func input(t *testing.T, target string) scenario.Input {
	t.Helper()
	u, err := url.ParseRequestURI(target)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	return scenario.Input{Query: q.Get}
}

// withBody adds the scenario's body to in.
func withBody(in scenario.Input, sc scenario.Scenario, r *rand.Rand, rows int) scenario.Input {
	if sc.Body != nil {
		in.Body = sc.Body(r, rows)
	}
	return in
}

var placeholder = regexp.MustCompile(`\$(\d+)`)

// TestScenarios checks every entry: a unique shape, as many arguments as placeholders, and SQL that PostgreSQL
// runs, as the anonymous role after the baseline's settings, returning one row with the promised columns; and
// that the bare handler's statement, run as its own role, answers with the same body (and counts).
func TestScenarios(t *testing.T) {
	const rows = 500
	db := pgtest.NewDatabase(t, scenario.Seed(rows)...)
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, db.URLAs("authenticator", "bench"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	bare, err := pgx.Connect(ctx, db.URLAs(scenario.BareRole, scenario.BarePassword))
	if err != nil {
		t.Fatal(err)
	}
	defer bare.Close(ctx)

	shapes := map[string]string{}
	for _, sc := range scenario.All {
		t.Run(sc.Name, func(t *testing.T) {
			shape := sc.Shape()
			if other, dup := shapes[shape]; dup {
				t.Fatalf("shape %q is also %s's: the baseline could not tell them apart", shape, other)
			}
			shapes[shape] = sc.Name
			r := rand.New(rand.NewPCG(3, 4))
			for range 5 {
				target := sc.Target(r, rows)
				args := sc.Args(withBody(input(t, target), sc, r, rows))
				n := 0
				for _, m := range placeholder.FindAllStringSubmatch(sc.SQL, -1) {
					k, _ := strconv.Atoi(m[1])
					n = max(n, k)
				}
				if len(args) != n {
					t.Fatalf("%s: %d args for %d placeholders", target, len(args), n)
				}
				in := withBody(input(t, target), sc, r, rows)
				bareArgs, err := sc.BareArgs(in)
				if err != nil {
					t.Fatalf("%s: bare arguments: %v", target, err)
				}
				tx, err := conn.Begin(ctx)
				if err != nil {
					t.Fatal(err)
				}
				if _, err := tx.Exec(ctx, "SELECT set_config('role', 'web_anon', true), set_config('search_path', '\"public\"', true)"); err != nil {
					t.Fatal(err)
				}
				var total *int64
				var page int64
				var body string
				if sc.Write {
					var location, inserted, gucHeaders, gucStatus any
					if err := tx.QueryRow(ctx, sc.SQL, args...).Scan(&page, &location, &body, &inserted, &gucHeaders, &gucStatus); err != nil {
						t.Fatalf("%s: %v", target, err)
					}
					tx.Rollback(ctx)
					if page != 1 {
						t.Fatalf("%s: wrote %d rows", target, page)
					}
					btx, err := bare.Begin(ctx)
					if err != nil {
						t.Fatal(err)
					}
					tag, err := btx.Exec(ctx, sc.Bare, bareArgs...)
					btx.Rollback(ctx)
					if err != nil || tag.RowsAffected() != 1 {
						t.Fatalf("%s: bare: %v (%d rows)", target, err, tag.RowsAffected())
					}
					continue
				}
				rs, err := tx.Query(ctx, sc.SQL, args...)
				if err != nil {
					t.Fatalf("%s: %v", target, err)
				}
				var parts []string
				for rs.Next() {
					var row *string
					if err := rs.Scan(&total, &row); err != nil {
						t.Fatalf("%s: %v", target, err)
					}
					if row != nil {
						parts = append(parts, *row)
					}
				}
				if err := rs.Err(); err != nil {
					t.Fatalf("%s: %v", target, err)
				}
				page, body = int64(len(parts)), "["+strings.Join(parts, ",")+"]"
				tx.Rollback(ctx)
				if page == 0 || body == "[]" {
					t.Fatalf("%s: empty page", target)
				}
				var bareBody string
				var barePage, bareTotal int64
				dest := []any{&bareBody}
				if total != nil {
					dest = append(dest, &barePage, &bareTotal)
				}
				if err := bare.QueryRow(ctx, sc.Bare, bareArgs...).Scan(dest...); err != nil {
					t.Fatalf("%s: bare: %v", target, err)
				}
				if !sameJSON(bareBody, body) {
					t.Fatalf("%s: bare body differs:\n%.300s\nvs pgway's\n%.300s", target, bareBody, body)
				}
				if total != nil && (barePage != page || bareTotal != *total) {
					t.Fatalf("%s: bare counts %d/%d, pgway's %d/%d", target, barePage, bareTotal, page, *total)
				}
			}
		})
	}
}

// sameJSON reports whether two bodies are the same JSON value (json_agg and pgway's row framing format the same
// array differently).
func sameJSON(a, b string) bool {
	var va, vb any
	if json.Unmarshal([]byte(a), &va) != nil || json.Unmarshal([]byte(b), &vb) != nil {
		return a == b
	}
	return reflect.DeepEqual(va, vb)
}

// TestSubjectOnly: pgway's own scenarios name an existing per-operation scenario, and a batch body carries Ops
// operations.
func TestSubjectOnly(t *testing.T) {
	for _, sc := range scenario.SubjectOnly {
		found := false
		for _, s := range scenario.All {
			found = found || s.Name == sc.Per
		}
		if !found {
			t.Errorf("%s: Per %q is not a scenario of All", sc.Name, sc.Per)
		}
		var body struct {
			Operations []json.RawMessage `json:"operations"`
		}
		if err := json.Unmarshal(sc.Body(rand.New(rand.NewPCG(1, 2)), 100), &body); err != nil || len(body.Operations) != sc.Ops {
			t.Errorf("%s: body with %d operations (%v), want %d", sc.Name, len(body.Operations), err, sc.Ops)
		}
	}
}
