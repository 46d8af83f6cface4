// Package archtest enforces ARCHITECTURE.md's import rules: which package may import which.
package archtest

import (
	"bufio"
	"bytes"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

const module = "github.com/pgway/pgway/"

// allowed lists, per package, the non-standard imports it may have: packages of this module (relative) and
// third-party prefixes. Every package of the module must be listed.
var allowed = map[string][]string{
	"internal/apierr":          {"github.com/jackc/pgx/v5/pgconn"},
	"internal/config":          {},
	"internal/schemacache":     {"github.com/jackc/pgx/v5"},
	"internal/pgtest":          {"github.com/jackc/pgx/v5"},
	"internal/hostile":         {},
	"sidecar/internal/request": {"internal/apierr"},
	"sidecar/internal/auth":    {"internal/apierr", "github.com/golang-jwt/jwt/v5"},
	"sidecar/internal/validate": {
		"internal/apierr", "internal/schemacache", "sidecar/internal/request",
	},
	"sidecar/internal/plan": {"internal/apierr", "internal/schemacache", "sidecar/internal/request"},
	"sidecar/internal/sqlgen": {
		"internal/schemacache", "sidecar/internal/request", "sidecar/internal/plan",
	},
	"sidecar/internal/dbexec":  {"internal/apierr", "sidecar/internal/sqlgen", "github.com/jackc/pgx/v5"},
	"sidecar/internal/respond": {"internal/apierr", "sidecar/internal/request", "sidecar/internal/plan"},
	"openapi":                  {"internal/schemacache", "github.com/getkin/kin-openapi", "gopkg.in/yaml.v3"},
	"versioning":               {"github.com/jackc/pgx/v5"},
	"migrations":               {"github.com/jackc/pgx/v5", "github.com/jackc/tern/v2"},
	"sidecar": {
		"internal/apierr", "internal/config", "internal/schemacache", "openapi", "versioning",
		"sidecar/internal/", "github.com/jackc/pgx/v5", "github.com/valyala/fasthttp",
		"github.com/prometheus/client_golang", "golang.org/x/sys/unix",
		// content codings and ETags: already in the module graph through fasthttp and Prometheus
		"github.com/klauspost/compress", "github.com/molecule-man/go-brrr", "github.com/cespare/xxhash/v2",
	},
	"cmd/pgway": {
		"sidecar", "openapi", "versioning", "migrations", "internal/config", "internal/schemacache",
		"github.com/getkin/kin-openapi", "github.com/jackc/pgx/v5",
	},
	"scripts/demo":          {"internal/pgtest", "internal/schemacache", "github.com/jackc/pgx/v5"},
	"sdk":                   {},
	"bench":                 {"bench/", "internal/pgtest", "github.com/jackc/pgx/v5", "github.com/valyala/fasthttp"},
	"bench/scenario":        {},
	"bench/bare":            {"bench/", "github.com/jackc/pgx/v5", "github.com/valyala/fasthttp"},
	"bench/baseline":        {"bench/", "github.com/jackc/pgx/v5", "github.com/valyala/fasthttp"},
	"bench/internal/refsrv": {"github.com/jackc/pgx/v5", "github.com/valyala/fasthttp", "github.com/prometheus/client_golang"},
}

// TestImportRules lists every package's imports (go list, test files excluded) and fails on any the rules do not
// allow, and on packages the rules do not know.
func TestImportRules(t *testing.T) {
	_, file, _, _ := runtime.Caller(0)
	root := filepath.Join(filepath.Dir(file), "..", "..")
	cmd := exec.Command("go", "list", "-f", "{{.ImportPath}}|{{join .Imports \" \"}}", "./...")
	cmd.Dir = root
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	seen := 0
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		pkg, imports, _ := strings.Cut(sc.Text(), "|")
		rel := strings.TrimPrefix(pkg, module)
		if rel == "internal/archtest" {
			continue
		}
		rules, ok := allowed[rel]
		if !ok {
			t.Errorf("%s: not in the import rules (add it to ARCHITECTURE.md and this test)", rel)
			continue
		}
		seen++
		for _, imp := range strings.Fields(imports) {
			if isStd(imp) {
				continue
			}
			if !permitted(strings.TrimPrefix(imp, module), rules) {
				t.Errorf("%s imports %s, which ARCHITECTURE.md does not allow", rel, imp)
			}
		}
	}
	if seen < 15 {
		t.Fatalf("checked only %d packages", seen)
	}
}

// isStd reports whether a path is the standard library's (no dot in its first element).
func isStd(path string) bool {
	first, _, _ := strings.Cut(path, "/")
	return !strings.Contains(first, ".")
}

func permitted(imp string, rules []string) bool {
	for _, r := range rules {
		if imp == r || strings.HasPrefix(imp, r) && (strings.HasSuffix(r, "/") || strings.HasPrefix(imp[len(r):], "/")) {
			return true
		}
	}
	return false
}
