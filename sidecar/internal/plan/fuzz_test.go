package plan_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pgway/pgway/internal/apierr"
	"github.com/pgway/pgway/sidecar/internal/plan"
	"github.com/pgway/pgway/sidecar/internal/request"
	"github.com/pgway/pgway/sidecar/internal/sqlgen"
)

// parseRequest reads a request in the golden files' format (no test needed: malformed lines are skipped).
func parseRequest(raw string) request.Input {
	head, body, _ := strings.Cut(raw, "\n\n")
	lines := strings.Split(head, "\n")
	method, target, _ := strings.Cut(lines[0], " ")
	path, query, _ := strings.Cut(target, "?")
	in := request.Input{Method: method, Path: path, Query: query, Body: []byte(body)}
	for _, line := range lines[1:] {
		k, v, _ := strings.Cut(line, ":")
		v = strings.TrimSpace(v)
		switch strings.ToLower(strings.TrimSpace(k)) {
		case "accept":
			in.Accept = v
		case "prefer":
			in.Prefer = v
		case "range":
			in.Range = v
		case "content-type":
			in.ContentType = v
		}
	}
	return in
}

// FuzzPlan: whatever the request, planning it over the golden fixture and building its statements never
// panics, and a planning error is a client error (4xx, or 300 for an ambiguous embed or function) of
// PostgREST's shape. The seeds are the golden requests.
func FuzzPlan(f *testing.F) {
	files, _ := filepath.Glob("testdata/*/request")
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(string(b), true)
	}
	f.Fuzz(func(t *testing.T, raw string, limits bool) {
		cache := fixture(t).cache
		rules := &plan.Rules{PlanEnabled: true, AggregatesEnabled: true, TxEnd: "rollback-allow-override",
			StreamBodyBytes: 64, RootSpec: "root", HoistedSettings: []string{"statement_timeout"}}
		if limits {
			rules.Limits = plan.Limits{MaxRows: 7, MaxEmbedDepth: 3, MaxEmbeds: 5}
		}
		req, err := request.Parse(parseRequest(raw))
		if err != nil {
			return
		}
		a, err := plan.New(req, cache, "api", rules)
		if err != nil {
			var ae *apierr.Error
			if !errors.As(err, &ae) || ae.Status < 300 || ae.Status >= 500 && ae.Code != "PGRST501" {
				t.Fatalf("planning error %v (%T)", err, err)
			}
			return
		}
		_ = sqlgen.For(a)
	})
}
