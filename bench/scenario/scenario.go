// Package scenario is the benchmark's workload table, shared by the load driver and the reference servers: each
// entry is one HTTP request shape, the exact SQL pgway runs for it (which the same-SQL baseline replays) and the
// plain query the bare handler answers it with.
package scenario

import (
	"encoding/json"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
)

// Scenario is one request shape. Adding a benchmark is adding an entry to All.
type Scenario struct {
	Name string
	// Method is the HTTP method (GET when empty).
	Method string
	// Target returns a request URI (path and query) for the next request; rows is the seeded row count.
	Target func(r *rand.Rand, rows int) string
	// Header are extra request headers.
	Header [][2]string
	// Body returns the request body (nil: none).
	Body func(r *rand.Rand, rows int) []byte
	// Status lists the accepted response statuses.
	Status []int
	// SQL is pgway's main statement for this shape, as sqlgen builds it; the baseline runs it verbatim after
	// the same per-request settings. A read returns a row per result row: total bigint (or NULL) and row text
	// (the row as JSON; NULL in the one row of an empty counted page), which the caller joins into an array; a
	// write (Write set) returns page_total, location, body, inserted, response_headers, response_status and is
	// answered 201.
	SQL string
	// Args computes SQL's arguments from the request (the baseline's only "parsing").
	Args func(in Input) []any
	// Write marks an insert: a read-write transaction answered 201 with Content-Range */* and no body.
	Write bool
	// Env are extra environment settings (PGRST_*=...) for pgway, e.g. to turn validation off; pgway runs as a
	// separate process per distinct Env. The reference servers ignore them.
	Env []string
	// Bare is the bare handler's statement: the plain query a Go developer would write for this request, run
	// on its own with pgx's defaults (no settings statement, no role switch, no transaction) as the BareRole
	// login, which holds the table privileges itself. A read returns the response body (text) first, byte for
	// byte pgway's; when the request asks for Prefer: count=exact, then the page's and the table's row counts
	// (bigint). A write returns no rows and is answered 201 with no body.
	Bare string
	// BareArgs are Bare's arguments, parsed from the request as a hand-written handler would (typed values).
	BareArgs func(in Input) ([]any, error)
	// Ops is how many operations one request carries (an atomic batch's; 0 means 1): the report compares its
	// time per Ops operations with Ops requests of the scenario named Per.
	Ops int
	Per string
}

// Input is what the reference servers hand Args and BareArgs: the query string and the body.
type Input struct {
	Query func(key string) string // the (first) value of a query parameter, "" when absent
	Body  []byte
}

// Shape is how the baseline recognises a scenario without parsing: the method, the path, the sorted query
// keys and whether the request asks for an exact count.
func Shape(method, path string, keys []string, countExact bool) string {
	k := slices.Clone(keys)
	slices.Sort(k)
	s := method + " " + path + "?" + strings.Join(k, "&")
	if countExact {
		s += " count=exact"
	}
	return s
}

// Shape of this scenario, derived from one sample target.
func (s Scenario) Shape() string {
	t := s.Target(rand.New(rand.NewPCG(1, 2)), 1000)
	var keys []string
	path, _, _ := strings.Cut(t, "?")
	if i := strings.IndexByte(t, '?'); i >= 0 {
		for _, kv := range strings.Split(t[i+1:], "&") {
			k, _, _ := strings.Cut(kv, "=")
			keys = append(keys, k)
		}
	}
	count := false
	for _, h := range s.Header {
		if strings.EqualFold(h[0], "Prefer") && strings.Contains(h[1], "count=exact") {
			count = true
		}
	}
	return Shape(s.method(), path, keys, count)
}

func (s Scenario) method() string {
	if s.Method == "" {
		return "GET"
	}
	return s.Method
}

// MethodOrGet is the scenario's HTTP method.
func (s Scenario) MethodOrGet() string { return s.method() }

// itemCols is pgway's expansion of select=* on items.
const itemCols = `"items"."id" AS "id", "items"."name" AS "name", "items"."price" AS "price", ` +
	`"items"."meta" AS "meta", "items"."created_at" AS "created_at"`

// rows is pgway's statement for a read rendered row by row (sqlgen's Rows framing): every row of inner as
// JSON, with the total (NULL: not counted); the caller joins the rows into an array.
func rows(inner string) string {
	return `SELECT NULL::bigint AS total, row_to_json(_pgway_t)::text AS row FROM (` + inner + `) _pgway_t`
}

// countedRows is rows with the exact count (count=exact): an empty page still carries it.
func countedRows(count, inner string) string {
	return `SELECT _pgway_c.total, _pgway_r.row FROM (SELECT ` + count + ` AS total) _pgway_c LEFT JOIN LATERAL ` +
		`(SELECT row_to_json(_pgway_t)::text AS row FROM (` + inner + `) _pgway_t) _pgway_r ON TRUE`
}

// BareRole and BarePassword are the bare handler's login (Seed creates it with the privileges it needs).
const (
	BareRole     = "bench_bare"
	BarePassword = "bench"
)

// bareJSON wraps a row query into the bare handler's body: the JSON array of its rows, as json_agg renders it.
func bareJSON(rows string) string {
	return `SELECT coalesce(json_agg(t), '[]')::text FROM (` + rows + `) t`
}

// bareEvents is an item's events as a JSON array (jsonb, as pgway renders an embedded array).
const bareEvents = `coalesce((SELECT jsonb_agg(jsonb_build_object('id', e.id, 'note', e.note)) FROM events e WHERE e.item_id = i.id), '[]') AS events`

// Typed request parsing for BareArgs.
func eqInt(in Input, key, op string) (int64, error) {
	return strconv.ParseInt(strings.TrimPrefix(in.Query(key), op), 10, 64)
}

func bareByID(in Input) ([]any, error) {
	id, err := eqInt(in, "id", "eq.")
	return []any{id}, err
}

func bareLimit(in Input) ([]any, error) {
	n, err := strconv.ParseInt(in.Query("limit"), 10, 64)
	return []any{n}, err
}

// bareGtLimit is (the gt. filter on key, limit).
func bareGtLimit(key string) func(in Input) ([]any, error) {
	return func(in Input) ([]any, error) {
		v, err := eqInt(in, key, "gt.")
		if err != nil {
			return nil, err
		}
		n, err := strconv.ParseInt(in.Query("limit"), 10, 64)
		return []any{v, n}, err
	}
}

// bareFilterOrder25 is filter-order-25's bare statement and arguments (price is numeric; pgx encodes the
// float64 the handler parsed).
const bareFilterOrder25 = `SELECT id, name, price FROM items WHERE price > $1 ORDER BY id LIMIT $2`

func bareFilterOrder25Args(in Input) ([]any, error) {
	p, err := strconv.ParseFloat(strings.TrimPrefix(in.Query("price"), "gt."), 64)
	if err != nil {
		return nil, err
	}
	n, err := strconv.ParseInt(in.Query("limit"), 10, 64)
	return []any{p, n}, err
}

// All is the scenario table, run in order.
var All = []Scenario{
	{
		Name:     "by-id",
		Target:   func(r *rand.Rand, rows int) string { return "/items?id=eq." + strconv.Itoa(1+r.IntN(rows)) },
		Status:   []int{200},
		SQL:      rows(`SELECT ` + itemCols + ` FROM "public"."items" AS "items" WHERE ("items"."id" = $1)`),
		Args:     func(in Input) []any { return []any{strings.TrimPrefix(in.Query("id"), "eq.")} },
		Bare:     bareJSON(`SELECT * FROM items WHERE id = $1`),
		BareArgs: bareByID,
	},
	{
		Name: "filter-order-25",
		Target: func(r *rand.Rand, rows int) string {
			return "/items?select=id,name,price&price=gt." + strconv.Itoa(r.IntN(900)) + "&order=id&limit=25"
		},
		Status: []int{200},
		SQL: rows(`SELECT "items"."id" AS "id", "items"."name" AS "name", "items"."price" AS "price"` +
			` FROM "public"."items" AS "items" WHERE ("items"."price" > $1) ORDER BY "items"."id" ASC LIMIT $2`),
		Args: func(in Input) []any {
			return []any{strings.TrimPrefix(in.Query("price"), "gt."), atoi(in.Query("limit"))}
		},
		Bare:     bareJSON(bareFilterOrder25),
		BareArgs: bareFilterOrder25Args,
	},
	{
		// filter-order-25 with request validation off (offset=0 only makes the shape distinct; the SQL is the
		// same): filter-order-25 / this is the cost of validation.
		Name: "filter-order-25-novalidate",
		Target: func(r *rand.Rand, rows int) string {
			return "/items?select=id,name,price&price=gt." + strconv.Itoa(r.IntN(900)) + "&order=id&limit=25&offset=0"
		},
		Status: []int{200},
		Env:    []string{"PGRST_OPENAPI_VALIDATE=off"},
		SQL: rows(`SELECT "items"."id" AS "id", "items"."name" AS "name", "items"."price" AS "price"` +
			` FROM "public"."items" AS "items" WHERE ("items"."price" > $1) ORDER BY "items"."id" ASC LIMIT $2`),
		Args: func(in Input) []any {
			return []any{strings.TrimPrefix(in.Query("price"), "gt."), atoi(in.Query("limit"))}
		},
		Bare:     bareJSON(bareFilterOrder25),
		BareArgs: bareFilterOrder25Args,
	},
	{
		Name:     "page-1000",
		Target:   func(r *rand.Rand, rows int) string { return "/items?limit=1000" },
		Status:   []int{200},
		SQL:      rows(`SELECT ` + itemCols + ` FROM "public"."items" AS "items" LIMIT $1`),
		Args:     func(in Input) []any { return []any{atoi(in.Query("limit"))} },
		Bare:     bareJSON(`SELECT * FROM items LIMIT $1`),
		BareArgs: bareLimit,
	},
	{
		// page-1000 asked for with Accept-Encoding: gzip (offset=0 only makes the shape distinct; the SQL is the
		// same): page-1000-gzip / page-1000 is what compressing a large page costs, KB/resp what it saves. The
		// references compress with fasthttp's CompressHandler at the same level (gzip's fastest); bodies are
		// compared decompressed.
		Name:     "page-1000-gzip",
		Target:   func(r *rand.Rand, rows int) string { return "/items?limit=1000&offset=0" },
		Header:   [][2]string{{"Accept-Encoding", "gzip"}},
		Status:   []int{200},
		SQL:      rows(`SELECT ` + itemCols + ` FROM "public"."items" AS "items" LIMIT $1`),
		Args:     func(in Input) []any { return []any{atoi(in.Query("limit"))} },
		Bare:     bareJSON(`SELECT * FROM items LIMIT $1`),
		BareArgs: bareLimit,
	},
	{
		Name:   "count-exact-25",
		Target: func(r *rand.Rand, rows int) string { return "/items?limit=25" },
		Header: [][2]string{{"Prefer", "count=exact"}},
		Status: []int{200, 206},
		SQL: countedRows(`(SELECT pg_catalog.count(*) FROM "public"."items" AS "items")`,
			`SELECT `+itemCols+` FROM "public"."items" AS "items" LIMIT $1`),
		Args:     func(in Input) []any { return []any{atoi(in.Query("limit"))} },
		Bare:     `SELECT coalesce(json_agg(t), '[]')::text, count(t), (SELECT count(*) FROM items) FROM (SELECT * FROM items LIMIT $1) t`,
		BareArgs: bareLimit,
	},
	{
		Name: "embed-by-id",
		Target: func(r *rand.Rand, rows int) string {
			return "/items?select=id,name,events(id,note)&id=eq." + strconv.Itoa(1+r.IntN(rows))
		},
		Status: []int{200},
		SQL: rows(`SELECT "items"."id" AS "id", "items"."name" AS "name", coalesce("pgrst_1".body, '[]') AS "events" ` +
			`FROM "public"."items" AS "items" LEFT JOIN LATERAL (SELECT json_agg(_pgway_x)::jsonb AS body, ` +
			`nullif(pg_catalog.count(_pgway_x), 0) AS "pgrst_found" FROM (SELECT "events_1"."id" AS "id", "events_1"."note" AS "note" ` +
			`FROM "public"."events" AS "events_1" WHERE "events_1"."item_id" = "items"."id") _pgway_x) AS "pgrst_1" ON TRUE ` +
			`WHERE ("items"."id" = $1)`),
		Args:     func(in Input) []any { return []any{strings.TrimPrefix(in.Query("id"), "eq.")} },
		Bare:     bareJSON(`SELECT i.id, i.name, ` + bareEvents + ` FROM items i WHERE i.id = $1`),
		BareArgs: bareByID,
	},
	{
		// many-to-one: 25 children, each with its parent object.
		Name: "embed-m2o-25",
		Target: func(r *rand.Rand, rows int) string {
			return "/events?select=id,note,items(id,name)&id=gt." + strconv.Itoa(r.IntN(rows/2)) + "&order=id&limit=25"
		},
		Status: []int{200},
		SQL: rows(`SELECT "events"."id" AS "id", "events"."note" AS "note", "pgrst_1".body AS "items" ` +
			`FROM "public"."events" AS "events" LEFT JOIN LATERAL (SELECT (SELECT row_to_json(_pgway_x)::jsonb FROM ` +
			`(SELECT "items_1"."id" AS "id", "items_1"."name" AS "name") _pgway_x) AS body, true AS "pgrst_found" ` +
			`FROM "public"."items" AS "items_1" WHERE "items_1"."id" = "events"."item_id" LIMIT 1) AS "pgrst_1" ON TRUE ` +
			`WHERE ("events"."id" > $1) ORDER BY "events"."id" ASC LIMIT $2`),
		Args: func(in Input) []any {
			return []any{strings.TrimPrefix(in.Query("id"), "gt."), atoi(in.Query("limit"))}
		},
		Bare: bareJSON(`SELECT e.id, e.note, jsonb_build_object('id', i.id, 'name', i.name) AS items FROM events e ` +
			`JOIN items i ON i.id = e.item_id WHERE e.id > $1 ORDER BY e.id LIMIT $2`),
		BareArgs: bareGtLimit("id"),
	},
	{
		// one-to-many: 25 parents, each with the array of its children.
		Name: "embed-o2m-25",
		Target: func(r *rand.Rand, rows int) string {
			return "/items?select=id,name,events(id,note)&id=gt." + strconv.Itoa(r.IntN(rows)) + "&order=id&limit=25"
		},
		Status: []int{200},
		SQL: rows(`SELECT "items"."id" AS "id", "items"."name" AS "name", coalesce("pgrst_1".body, '[]') AS "events" ` +
			`FROM "public"."items" AS "items" LEFT JOIN LATERAL (SELECT json_agg(_pgway_x)::jsonb AS body, ` +
			`nullif(pg_catalog.count(_pgway_x), 0) AS "pgrst_found" FROM (SELECT "events_1"."id" AS "id", "events_1"."note" AS "note" ` +
			`FROM "public"."events" AS "events_1" WHERE "events_1"."item_id" = "items"."id") _pgway_x) AS "pgrst_1" ON TRUE ` +
			`WHERE ("items"."id" > $1) ORDER BY "items"."id" ASC LIMIT $2`),
		Args: func(in Input) []any {
			return []any{strings.TrimPrefix(in.Query("id"), "gt."), atoi(in.Query("limit"))}
		},
		Bare:     bareJSON(`SELECT i.id, i.name, ` + bareEvents + ` FROM items i WHERE i.id > $1 ORDER BY i.id LIMIT $2`),
		BareArgs: bareGtLimit("id"),
	},
	{
		Name:   "insert-1",
		Method: "POST",
		Target: func(r *rand.Rand, rows int) string { return "/events" },
		Header: [][2]string{{"Content-Type", "application/json"}},
		Body: func(r *rand.Rand, rows int) []byte {
			return []byte(`{"item_id":` + strconv.Itoa(1+r.IntN(rows)) + `,"note":"bench"}`)
		},
		Status: []int{201},
		Write:  true,
		SQL: `WITH pgrst_source AS (INSERT INTO "public"."events" AS "events" ("item_id", "note") SELECT pgrst_body."item_id", ` +
			`pgrst_body."note" FROM (SELECT $1::json AS json_data) pgrst_payload, LATERAL (SELECT "item_id", "note" FROM ` +
			`json_to_record(pgrst_payload.json_data) AS _("item_id" bigint, "note" text)) pgrst_body RETURNING 1) ` +
			`SELECT pg_catalog.count(_pgway_t) AS page_total, NULL::json AS location, '' AS body, NULL::int AS inserted, ` +
			`nullif(current_setting('response.headers', true), '') AS response_headers, ` +
			`nullif(current_setting('response.status', true), '') AS response_status ` +
			`FROM (SELECT * FROM pgrst_source) _pgway_t`,
		Args:     func(in Input) []any { return []any{in.Body} },
		Bare:     `INSERT INTO events (item_id, note) VALUES ($1, $2)`,
		BareArgs: bareInsertEvent,
	},
}

// SubjectOnly are scenarios only pgway serves (the reference servers have no counterpart): pgway's own features,
// measured against scenarios of All (Scenario.Per).
var SubjectOnly = []Scenario{
	{
		// Ten inserts as one atomic batch (one transaction, one round trip), against ten insert-1 requests.
		Name:   "batch-10-inserts",
		Method: "POST",
		Target: func(r *rand.Rand, rows int) string { return "/" },
		Header: [][2]string{{"Content-Type", "application/vnd.pgway.batch+json"}},
		Body: func(r *rand.Rand, rows int) []byte {
			b := []byte(`{"operations":[`)
			for i := range 10 {
				if i > 0 {
					b = append(b, ',')
				}
				b = append(b, `{"method":"POST","path":"/events","body":{"item_id":`...)
				b = strconv.AppendInt(b, int64(1+r.IntN(rows)), 10)
				b = append(b, `,"note":"bench"}}`...)
			}
			return append(b, "]}"...)
		},
		Status: []int{200},
		Write:  true,
		Ops:    10,
		Per:    "insert-1",
	},
}

// bareInsertEvent decodes the posted event as a handler would, into a struct.
func bareInsertEvent(in Input) ([]any, error) {
	var ev struct {
		ItemID int64  `json:"item_id"`
		Note   string `json:"note"`
	}
	if err := json.Unmarshal(in.Body, &ev); err != nil {
		return nil, err
	}
	return []any{ev.ItemID, ev.Note}, nil
}

func atoi(s string) int64 {
	n, _ := strconv.ParseInt(s, 10, 64)
	return n
}

// Seed is the SQL that creates the roles and the items table with rows rows (deterministic contents),
// one script per element (VACUUM cannot run inside a multi-statement script).
func Seed(rows int) []string {
	return []string{`
DO $$BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'authenticator') THEN
    CREATE ROLE authenticator LOGIN NOINHERIT PASSWORD 'bench';
  END IF;
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'web_anon') THEN
    CREATE ROLE web_anon NOLOGIN;
  END IF;
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '` + BareRole + `') THEN
    CREATE ROLE ` + BareRole + ` LOGIN PASSWORD '` + BarePassword + `';
  END IF;
END$$;
GRANT web_anon TO authenticator;
DROP TABLE IF EXISTS events;
DROP TABLE IF EXISTS items;
CREATE TABLE items (id bigint PRIMARY KEY, name text, price numeric(10,2), meta jsonb, created_at timestamptz);
SELECT setseed(0.42);
INSERT INTO items
SELECT g, 'item ' || g, round((random() * 1000)::numeric, 2),
       jsonb_build_object('tag', 'tag' || (g % 100), 'n', g, 'flags', jsonb_build_array(g % 2 = 0, g % 3 = 0)),
       timestamptz '2026-01-01' - g * interval '1 minute'
FROM generate_series(1, ` + strconv.Itoa(rows) + `) g;
CREATE TABLE events (id bigserial PRIMARY KEY, item_id bigint NOT NULL REFERENCES items, note text);
CREATE INDEX ON events (item_id);
INSERT INTO events (item_id, note) SELECT 1 + (g::bigint * 7919) % ` + strconv.Itoa(rows) + `, 'note ' || g FROM generate_series(1, ` + strconv.Itoa(rows/2) + `) g;
GRANT SELECT ON events TO web_anon;
GRANT USAGE ON SCHEMA public TO web_anon;
GRANT SELECT ON items TO web_anon;
GRANT INSERT ON events TO web_anon;
GRANT USAGE ON SEQUENCE events_id_seq TO web_anon;
GRANT SELECT ON items, events TO ` + BareRole + `;
GRANT INSERT ON events TO ` + BareRole + `;
GRANT USAGE ON SEQUENCE events_id_seq TO ` + BareRole + `;
`, `VACUUM ANALYZE items`, `CHECKPOINT`}
}
