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

// TestMutateGolden: each testdata/mutate/<case>/request holds "METHOD /path?query", header lines, a blank line
// and the body; sql holds the statement (and check) it produces.
func TestMutateGolden(t *testing.T) {
	dirs, err := filepath.Glob("testdata/mutate/*")
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
			raw, err := os.ReadFile(filepath.Join(dir, "request"))
			if err != nil {
				t.Fatal(err)
			}
			head, body, _ := strings.Cut(string(raw), "\n\n")
			lines := strings.Split(head, "\n")
			method, target, _ := strings.Cut(lines[0], " ")
			path, query, _ := strings.Cut(target, "?")
			in := request.Input{Method: method, Path: path, Query: query, Body: []byte(strings.TrimSpace(body))}
			for _, line := range lines[1:] {
				k, v, _ := strings.Cut(line, ":")
				v = strings.TrimSpace(v)
				switch strings.ToLower(strings.TrimSpace(k)) {
				case "accept":
					in.Accept = v
				case "prefer":
					in.Prefer = v
				case "content-type":
					in.ContentType = v
				}
			}
			req, err := request.Parse(in)
			if err != nil {
				t.Fatalf("parse: %v", err)
			}
			m, err := plan.ForMutate(req, f.cache, rel, false, plan.Limits{})
			if err != nil {
				t.Fatalf("plan: %v", err)
			}
			st := sqlgen.ForMutate(m)
			got := st.Main.SQL + "\n-- args: " + argsString(st.Main.Args) + "\n"
			if st.Check != "" {
				got += "-- check: " + st.Check + "\n"
			}
			if m.StreamBody {
				t.Fatal("streamed bodies are not golden-tested")
			}
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
