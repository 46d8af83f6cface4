package sqlgen_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pgway/pgway/sidecar/internal/plan"
	"github.com/pgway/pgway/sidecar/internal/request"
	"github.com/pgway/pgway/sidecar/internal/sqlgen"
)

// TestNestedGolden: each testdata/nested/<case>/request holds "POST /relation?query", header lines, a blank line
// and a body with nested writes; sql holds the statement it produces, EXPLAINed over the fixture.
func TestNestedGolden(t *testing.T) {
	dirs, err := filepath.Glob("testdata/nested/*")
	if err != nil {
		t.Fatal(err)
	}
	if len(dirs) == 0 {
		t.Fatal("no golden cases")
	}
	f := fixture(t)
	for _, dir := range dirs {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			raw, err := os.ReadFile(filepath.Join(dir, "request"))
			if err != nil {
				t.Fatal(err)
			}
			head, body, _ := strings.Cut(string(raw), "\n\n")
			lines := strings.Split(head, "\n")
			method, target, _ := strings.Cut(lines[0], " ")
			path, query, _ := strings.Cut(target, "?")
			in := request.Input{Method: method, Path: path, Query: query, Body: []byte(strings.TrimSpace(body)),
				ContentType: "application/json"}
			for _, line := range lines[1:] {
				k, v, _ := strings.Cut(line, ":")
				if strings.EqualFold(strings.TrimSpace(k), "prefer") {
					in.Prefer = strings.TrimSpace(v)
				}
			}
			req, err := request.Parse(in)
			if err != nil {
				t.Fatalf("parse: %v", err)
			}
			rel, ok := f.cache.Relation("api", req.Relation)
			if !ok {
				t.Fatalf("no relation %s", req.Relation)
			}
			m, err := plan.ForMutate(req, f.cache, rel, false, plan.Limits{MaxEmbedDepth: 8, MaxEmbeds: 32})
			if err != nil {
				t.Fatalf("plan: %v", err)
			}
			if len(m.Nested) == 0 {
				t.Fatal("no nested write")
			}
			st := sqlgen.ForMutate(m)
			got := st.Main.SQL + "\n-- args: " + argsString(st.Main.Args) + "\n"
			f.explain(t, st.Main)
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
