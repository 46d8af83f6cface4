package sqlgen_test

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pgway/pgway/sidecar/internal/plan"
	"github.com/pgway/pgway/sidecar/internal/request"
	"github.com/pgway/pgway/sidecar/internal/sqlgen"
)

var update = flag.Bool("update", false, "rewrite golden files")

// TestReadGolden: each testdata/read/<case>/query holds a query string; sql holds the statement it produces.
func TestReadGolden(t *testing.T) {
	dirs, err := filepath.Glob("testdata/read/*")
	if err != nil {
		t.Fatal(err)
	}
	if len(dirs) == 0 {
		t.Fatal("no golden cases")
	}
	f := fixture(t)
	rel, _ := f.cache.Relation("api", "items")
	for _, dir := range dirs {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			query, err := os.ReadFile(filepath.Join(dir, "query"))
			if err != nil {
				t.Fatal(err)
			}
			in := request.Input{Method: "GET", Path: "/items", Query: strings.TrimSpace(string(query))}
			if b, err := os.ReadFile(filepath.Join(dir, "headers")); err == nil {
				for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
					k, v, _ := strings.Cut(line, ":")
					v = strings.TrimSpace(v)
					switch strings.ToLower(strings.TrimSpace(k)) {
					case "accept":
						in.Accept = v
					case "prefer":
						in.Prefer = v
					case "range":
						in.Range = v
					}
				}
			}
			req, err := request.Parse(in)
			if err != nil {
				t.Fatalf("parse: %v", err)
			}
			p, err := plan.ForRead(req, f.cache, rel, plan.Limits{})
			if err != nil {
				t.Fatalf("plan: %v", err)
			}
			st := sqlgen.ForRead(p)
			got := st.Main.SQL + "\n-- args: " + argsString(st.Main.Args) + "\n"
			if st.Estimate != nil {
				got += "-- estimate: " + st.Estimate.SQL + "\n"
			}
			if st.Rows != nil {
				got += fmt.Sprintf("-- rows: open %q sep %q close %q empty %q\n", st.Rows.Open, st.Rows.Sep, st.Rows.Close, st.Rows.Empty)
			}
			f.explain(t, st.Main)
			if st.Estimate != nil {
				f.explain(t, *st.Estimate)
			}
			golden := filepath.Join(dir, "sql")
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update)", err)
			}
			if got != string(want) {
				t.Fatalf("SQL differs from %s\n got: %s\nwant: %s", golden, got, want)
			}
		})
	}
}
