package sidecar_test

import (
	"math/rand/v2"

	"net/url"
	"strings"
	"testing"

	"github.com/pgway/pgway/internal/config"
)

// TestGeneratedRequests sends a few hundred generated, mostly valid and sometimes hostile requests and checks
// that none is answered with a 5xx or with a PostgreSQL syntax error (42601: SQL pgway built wrongly), and
// that every error is PostgREST's JSON object.
func TestGeneratedRequests(t *testing.T) {
	ts := start(t, func(c *config.Config) { c.DBMaxRows = 50; c.DBAggregatesEnabled = true }, fixture(t), writeFixture(t), embedFixture(t))
	r := rand.New(rand.NewPCG(11, 12))
	cols := []string{"id", "name", "price", "meta", "tags", "mood", "created_at", "search", "during", "nope", `we"ird`, "meta->>lang", "meta->n", "tags->0"}
	ops := []string{"eq", "neq", "gt", "gte", "lt", "lte", "like", "ilike", "match", "imatch", "in", "is", "isdistinct",
		"fts", "plfts", "phfts", "wfts", "cs", "cd", "ov", "sl", "sr", "nxr", "nxl", "adj", "not.eq", "eq(any)", "like(all)", "fts(english)"}
	vals := []string{"1", "abc", "null", "true", "unknown", "(1,2)", `("a,b",c)`, "{1,2}", "{red}", "[1,5)", "*a*", "'; drop table x;--",
		"\u00e9", "2024-01-01", `{"a":1}`, "", "-1", "1e400", "\x00", "%", "\\"}
	pick := func(xs []string) string { return xs[r.IntN(len(xs))] }
	statuses := map[int]int{}
	codes := map[string]int{}
	defer func() { t.Logf("statuses %v; codes %v", statuses, codes) }()
	for i := 0; i < 400; i++ {
		q := url.Values{}
		for n := r.IntN(3); n > 0; n-- {
			q.Add(pick(cols), pick(ops)+"."+pick(vals))
		}
		switch r.IntN(6) {
		case 0:
			q.Set("select", pick(cols)+","+pick(cols)+"::text")
		case 1:
			q.Set("order", pick(cols)+"."+pick([]string{"asc", "desc", "nullsfirst", "desc.nullslast", "x"}))
		case 2:
			q.Set("or", "("+pick(cols)+"."+pick(ops)+"."+pick(vals)+","+pick(cols)+".eq.1)")
		case 3:
			q.Set("limit", pick([]string{"1", "0", "-1", "x", "99999999999999999999"}))
		case 4:
			q.Set("select", "count(),"+pick(cols)+".sum()")
		}
		method := pick([]string{"GET", "GET", "GET", "PATCH", "DELETE", "POST"})
		rel := pick([]string{"items", "projects", "tasks", "cheap_items", "nope", "books", "authors"})
		if rel == "books" || rel == "authors" {
			q = url.Values{}
			emb := pick([]string{"authors!author_id", "reviews", "tags", "books!books_author_id_fkey", "author_bios", "nope"})
			join := pick([]string{"", "!inner"})
			q.Set("select", "id,"+emb+join+"("+pick([]string{"*", "id", "count()", ""})+")")
			base := strings.SplitN(emb, "!", 2)[0]
			switch r.IntN(4) {
			case 0:
				q.Set(base+".id", "gt."+pick(vals))
			case 1:
				q.Set(base, pick([]string{"is.null", "not.is.null", "eq.1"}))
			case 2:
				q.Set(base+".order", "id.desc")
				q.Set(base+".limit", "1")
			case 3:
				q.Set("order", base+"(id).desc")
			}
		}
		body := ""
		if method == "PATCH" || method == "POST" {
			body = pick([]string{`{"name":"x"}`, `{"price":"abc"}`, `[{"id":1},{"name":2}]`, `{`, `{"nope":1}`, `[]`, `{"title":"t"}`})
		}
		path := "/" + rel + "?" + strings.ReplaceAll(q.Encode(), "+", "%20")
		res := ts.do(method, path, []string{"Content-Type: application/json", pick([]string{"Prefer: return=representation", "Prefer: count=exact", "Prefer: count=planned", "Prefer: count=estimated", "Accept: text/csv", "Accept: application/vnd.pgrst.object+json", "Accept: application/vnd.pgrst.plan", "X: y"})}, body)
		statuses[res.Status]++
		codes[errorCode(res.Body)]++
		if res.Status >= 500 {
			t.Errorf("%s %s %s: %d %s", method, path, body, res.Status, res.Body)
			continue
		}
		if res.Status >= 400 {
			code := errorCode(res.Body)
			if code == "" || code == "42601" {
				t.Errorf("%s %s %s: %d %s", method, path, body, res.Status, res.Body)
			}
		}
	}
}
