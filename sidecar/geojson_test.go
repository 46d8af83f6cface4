package sidecar_test

import (
	"context"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/pgway/pgway/internal/config"
	"github.com/pgway/pgway/internal/pgtest"
)

// postgisFixture is PostgREST's PostGIS fixture (test/spec/fixtures: shops, shop_bles, get_shop), with PostGIS
// in a schema of its own that is not on the search path (pgway calls ST_AsGeoJSON qualified), and a few more:
// a set-returning function, a scalar geometry function and a geography column.
const postgisFixture = `
CREATE SCHEMA extensions;
CREATE EXTENSION postgis WITH SCHEMA extensions;
GRANT USAGE ON SCHEMA extensions TO web_anon, web_user;
CREATE TABLE api.shops (
  id        int PRIMARY KEY
, address   text
, shop_geom extensions.geometry(POINT, 4326)
);
CREATE TABLE api.shop_bles (
  id         int PRIMARY KEY
, name       text
, coords     extensions.geometry(POINT, 4326)
, range_area extensions.geometry(POLYGON, 4326)
, shop_id    int REFERENCES api.shops(id)
);
INSERT INTO api.shops(id, address, shop_geom) VALUES
  (1, '1369 Cambridge St', 'SRID=4326;POINT(-71.10044 42.373695)'),
  (2, '757 Massachusetts Ave', 'SRID=4326;POINT(-71.10543 42.366432)'),
  (3, '605 W Kendall St', 'SRID=4326;POINT(-71.081924 42.36437)');
INSERT INTO api.shop_bles(id, name, coords, shop_id, range_area) VALUES
  (1, 'Beacon-1', 'SRID=4326;POINT(-71.10044 42.373695)', 1,
   extensions.ST_GeomFromGeoJSON('{"type": "Polygon", "coordinates": [ [ [ -71.10045254230499, 42.37387083326593 ], [ -71.10048070549963, 42.37377126199953 ], [ -71.10039688646793, 42.37375838212269 ], [ -71.10037006437777, 42.37385844878863 ], [ -71.10045254230499, 42.37387083326593 ] ] ]}')),
  (2, 'Beacon-2', 'SRID=4326;POINT(-71.10044 42.373695)', 1,
   extensions.ST_GeomFromGeoJSON('{"type": "Polygon", "coordinates": [ [ [ -71.10034391283989, 42.37385299961788 ], [ -71.10036939382553, 42.373756895982865 ], [ -71.1002916097641, 42.373745997623224 ], [ -71.1002641171217, 42.37384408279195 ], [ -71.10034391283989, 42.37385299961788 ] ] ]}'));
CREATE TABLE api.places (id int PRIMARY KEY, name text, loc extensions.geography(POINT, 4326));
INSERT INTO api.places VALUES (1, 'origin', 'SRID=4326;POINT(1 2)');
CREATE FUNCTION api.get_shop(id int) RETURNS api.shops LANGUAGE sql AS $$ SELECT * FROM api.shops WHERE id = $1 $$;
CREATE FUNCTION api.shops_near(lon float8, lat float8, n int) RETURNS SETOF api.shops LANGUAGE sql STABLE AS $$
  SELECT * FROM api.shops
  ORDER BY extensions.ST_Distance(shop_geom, extensions.ST_SetSRID(extensions.ST_MakePoint(lon, lat), 4326)) LIMIT n $$;
CREATE FUNCTION api.a_point() RETURNS extensions.geometry LANGUAGE sql STABLE AS $$ SELECT 'SRID=4326;POINT(3 4)'::extensions.geometry $$;
GRANT SELECT, INSERT, UPDATE, DELETE ON api.shops TO web_anon;
GRANT SELECT ON api.shop_bles, api.places TO web_anon;
`

const geoCT = "Content-Type: application/geo+json; charset=utf-8"

// TestGeoJSON: Accept: application/geo+json renders the rows as a GeoJSON FeatureCollection, each a Feature of
// PostGIS's ST_AsGeoJSON(record) over the selected columns, as PostgREST's built-in handler does (its "PostGIS"
// reference and PostGISSpec: tables, ?select, embedding, RPC, return=representation of every write, several
// geometry columns, no rows); a relation without a geometry column is PostGIS's 400 22023.
func TestGeoJSON(t *testing.T) {
	ts := start(t, func(c *config.Config) { c.DBTxEnd = "commit-allow-override" }, fixture(t), postgisFixture)
	geo := []string{"Accept: application/geo+json"}
	shops := `{"type":"FeatureCollection","features":[
	  {"type":"Feature","geometry":{"type":"Point","coordinates":[-71.10044,42.373695]},"properties":{"id":1,"address":"1369 Cambridge St"}},
	  {"type":"Feature","geometry":{"type":"Point","coordinates":[-71.10543,42.366432]},"properties":{"id":2,"address":"757 Massachusetts Ave"}},
	  {"type":"Feature","geometry":{"type":"Point","coordinates":[-71.081924,42.36437]},"properties":{"id":3,"address":"605 W Kendall St"}}]}`
	shop1 := `{"type":"FeatureCollection","features":[
	  {"type":"Feature","geometry":{"type":"Point","coordinates":[-71.10044,42.373695]},"properties":{"id":1,"address":"1369 Cambridge St"}}]}`
	runCases(t, ts, []readCase{
		{name: "a table with a geometry column", path: "/shops?order=id", headers: geo, status: 200, body: shops,
			header: []string{geoCT}},
		{name: "compact features", path: "/shops?id=eq.1", headers: geo, status: 200,
			contains: []string{`{"type":"FeatureCollection","features":[{"type": "Feature", "geometry": {"type":"Point"`}},
		{name: "no geometry column", path: "/items", headers: geo, status: 400,
			body:   `{"hint":null,"details":null,"code":"22023","message":"geometry column is missing"}`,
			header: []string{"Content-Type: application/json; charset=utf-8"}},
		{name: "no rows", path: "/shops?id=gt.3", headers: geo, status: 200,
			body: `{"type":"FeatureCollection","features":[]}`, header: []string{geoCT}},
		{name: "no rows, counted", path: "/shops?id=gt.3", headers: append([]string{"Prefer: count=exact"}, geo...),
			status: 200, body: `{"type":"FeatureCollection","features":[]}`, header: []string{"Content-Range: */0"}},
		{name: "a page, counted", path: "/shops?order=id&limit=1", headers: append([]string{"Prefer: count=exact"}, geo...),
			status: 206, body: shop1, header: []string{"Content-Range: 0-0/3"}},
		{name: "?select must include the geometry column", path: "/shops?select=id,shop_geom&id=eq.1", headers: geo, status: 200,
			body: `{"type":"FeatureCollection","features":[
			  {"type":"Feature","geometry":{"type":"Point","coordinates":[-71.10044,42.373695]},"properties":{"id":1}}]}`},
		{name: "without it", path: "/shops?select=id&id=eq.1", headers: geo, status: 400, contains: []string{`"code":"22023"`}},
		{name: "resource embedding", path: "/shops?select=*,shop_bles(id,name,coords)&id=eq.1", headers: geo, status: 200,
			body: `{"type":"FeatureCollection","features":[{"type":"Feature",
			  "geometry":{"type":"Point","coordinates":[-71.10044,42.373695]},
			  "properties":{"id":1,"address":"1369 Cambridge St","shop_bles":[
			    {"id":1,"name":"Beacon-1","coords":{"type":"Point","crs":{"type":"name","properties":{"name":"EPSG:4326"}},"coordinates":[-71.10044,42.373695]}},
			    {"id":2,"name":"Beacon-2","coords":{"type":"Point","crs":{"type":"name","properties":{"name":"EPSG:4326"}},"coordinates":[-71.10044,42.373695]}}]}}]}`},
		{name: "several geometry columns: the first selected is the geometry", path: "/shop_bles?select=id,name,coords&id=eq.1",
			headers: geo, status: 200, body: `{"type":"FeatureCollection","features":[{"type":"Feature",
			  "geometry":{"type":"Point","coordinates":[-71.10044,42.373695]},"properties":{"id":1,"name":"Beacon-1"}}]}`},
		{name: "several geometry columns: another one", path: "/shop_bles?select=id,name,range_area&id=eq.1",
			headers: geo, status: 200, body: `{"type":"FeatureCollection","features":[{"type":"Feature",
			  "geometry":{"type":"Polygon","coordinates":[[[-71.100452542,42.373870833],[-71.100480705,42.373771262],[-71.100396886,42.373758382],[-71.100370064,42.373858449],[-71.100452542,42.373870833]]]},
			  "properties":{"id":1,"name":"Beacon-1"}}]}`},
		{name: "a geography column", path: "/places", headers: geo, status: 200,
			body: `{"type":"FeatureCollection","features":[{"type":"Feature","geometry":{"type":"Point","coordinates":[1,2]},"properties":{"id":1,"name":"origin"}}]}`},
		{name: "RPC returning a row", path: "/rpc/get_shop?id=1", headers: geo, status: 200, body: shop1, header: []string{geoCT}},
		{name: "RPC returning rows", path: "/rpc/shops_near?lon=-71.1&lat=42.37&n=1", headers: geo, status: 200, body: shop1,
			header: []string{geoCT}},
		{name: "RPC returning rows, filtered", path: "/rpc/shops_near?lon=-71.1&lat=42.37&n=3&id=eq.1&select=id,shop_geom",
			headers: geo, status: 200, body: `{"type":"FeatureCollection","features":[{"type":"Feature",
			  "geometry":{"type":"Point","coordinates":[-71.10044,42.373695]},"properties":{"id":1}}]}`},
		{name: "RPC returning a geometry", path: "/rpc/a_point", headers: geo, status: 200,
			body: `{"type":"FeatureCollection","features":[{"type":"Feature","geometry":{"type":"Point","coordinates":[3,4]},"properties":{}}]}`},
		{name: "HEAD", method: "HEAD", path: "/shops", headers: geo, status: 200, header: []string{geoCT}},
		{name: "application/json keeps the geometry's own JSON", path: "/shops?id=eq.1", status: 200,
			body: `[{"id":1,"address":"1369 Cambridge St","shop_geom":{"type":"Point","crs":{"type":"name","properties":{"name":"EPSG:4326"}},"coordinates":[-71.10044,42.373695]}}]`},
		{name: "the first accepted type wins", path: "/shops?id=eq.1", headers: []string{"Accept: application/geo+json, application/json"},
			status: 200, body: shop1},
		{name: "plan for geo+json", path: "/shops?id=eq.1", headers: []string{`Accept: application/vnd.pgrst.plan; for="application/geo+json"`},
			status: 200, header: []string{`Content-Type: application/vnd.pgrst.plan+text; for="application/geo+json"; charset=utf-8`}},
	})

	rep := append([]string{"Prefer: return=representation", "Content-Type: application/json"}, geo...)
	for _, tc := range []struct {
		name, method, path, body string
		status                   int
		want                     string
	}{
		{"POST", "POST", "/shops", `{"id": 4, "address": "1354 Massachusetts Ave", "shop_geom": "SRID=4326;POINT(-71.11834 42.373238)"}`, 201,
			`{"type":"FeatureCollection","features":[{"type":"Feature","geometry":{"coordinates":[-71.11834,42.373238],"type":"Point"},"properties":{"address":"1354 Massachusetts Ave","id":4}}]}`},
		{"PATCH", "PATCH", "/shops?id=eq.3", `{"address": "1354 Massachusetts Avenue"}`, 200,
			`{"type":"FeatureCollection","features":[{"type":"Feature","geometry":{"coordinates":[-71.081924,42.36437],"type":"Point"},"properties":{"address":"1354 Massachusetts Avenue","id":3}}]}`},
		{"PUT", "PUT", "/shops?id=eq.3", `{"id": 3, "address": "1354 Massachusetts Avenue"}`, 200,
			`{"type":"FeatureCollection","features":[{"type":"Feature","geometry":{"coordinates":[-71.081924,42.36437],"type":"Point"},"properties":{"address":"1354 Massachusetts Avenue","id":3}}]}`},
		{"DELETE", "DELETE", "/shops?id=eq.4", "", 200,
			`{"type":"FeatureCollection","features":[{"type":"Feature","geometry":{"coordinates":[-71.11834,42.373238],"type":"Point"},"properties":{"id":4,"address":"1354 Massachusetts Ave"}}]}`},
	} {
		t.Run(tc.name+" with return=representation", func(t *testing.T) {
			res := ts.do(tc.method, tc.path, rep, tc.body)
			if res.Status != tc.status {
				t.Fatalf("status %d, want %d: %s", res.Status, tc.status, res.Body)
			}
			if ct := res.Header.Get("Content-Type"); ct != "application/geo+json; charset=utf-8" {
				t.Errorf("Content-Type %q", ct)
			}
			assertBody(t, res.Body, tc.want)
		})
	}

	// Past server-response-buffer-size the features stream row by row, framed as one FeatureCollection.
	small := startOn(t, ts.DB, func(c *config.Config) { c.ResponseBufferBytes = 64 })
	res := small.get("/shops?order=id&id=lt.3", geo...)
	if res.Status != 200 || !strings.HasPrefix(res.Body, `{"type":"FeatureCollection","features":[{"type": "Feature"`) ||
		!strings.HasSuffix(res.Body, `}]}`) || res.Header.Get("Content-Type") != "application/geo+json; charset=utf-8" {
		t.Fatalf("streamed: %d %v %s", res.Status, res.Header, res.Body)
	}
	if cr := res.Header.Get("Content-Range"); cr != "" {
		t.Errorf("Content-Range %q: the response was not streamed", cr) // a buffered one has 0-1/*
	}
	assertBody(t, res.Body, `{"type":"FeatureCollection","features":[
	  {"type":"Feature","geometry":{"type":"Point","coordinates":[-71.10044,42.373695]},"properties":{"id":1,"address":"1369 Cambridge St"}},
	  {"type":"Feature","geometry":{"type":"Point","coordinates":[-71.10543,42.366432]},"properties":{"id":2,"address":"757 Massachusetts Ave"}}]}`)
}

// TestGeoJSONHandlerOverride: an aggregate returning an application/geo+json domain overrides the built-in
// handler for its relation, as PostgREST lets it (its media type handlers: geo+json is overridable).
func TestGeoJSONHandlerOverride(t *testing.T) {
	ts := start(t, nil, fixture(t), postgisFixture, `
CREATE DOMAIN "application/geo+json" AS jsonb;
CREATE FUNCTION api.shops_geojson_trans(state "application/geo+json", next api.shops) RETURNS "application/geo+json"
  LANGUAGE sql AS $$ SELECT (state::jsonb || jsonb_build_array(next.id))::"application/geo+json" $$;
CREATE FUNCTION api.shops_geojson_final(data "application/geo+json") RETURNS "application/geo+json" LANGUAGE sql AS $$
  SELECT jsonb_build_object('type', 'FeatureCollection', 'overridden', data::jsonb)::"application/geo+json" $$;
CREATE AGGREGATE api.shops_geojson_agg(api.shops) (initcond = '[]', stype = "application/geo+json",
  sfunc = api.shops_geojson_trans, finalfunc = api.shops_geojson_final);`)
	runCases(t, ts, []readCase{
		// A jsonb domain's binary value, sent as is: with jsonb's version byte, as PostgREST sends it (its
		// CustomMediaSpec expects "\SOH{…}" of its jsonb application/vnd.geo2+json handler).
		{name: "the relation's own handler", path: "/shops?order=id", headers: []string{"Accept: application/geo+json"}, status: 200,
			body: "\x01" + `{"type": "FeatureCollection", "overridden": [1, 2, 3]}`, header: []string{geoCT}},
		{name: "other relations keep the built-in one", path: "/places", headers: []string{"Accept: application/geo+json"}, status: 200,
			contains: []string{`"properties": {"id": 1, "name": "origin"}`}},
	})
}

// TestGeoJSONWithoutPostGIS: without PostGIS (3.0 or later) in the database application/geo+json is not
// produced: the next accepted media type is, else 406 PGRST107.
func TestGeoJSONWithoutPostGIS(t *testing.T) {
	ts := start(t, nil, fixture(t), `
CREATE FUNCTION api.add(a int, b int) RETURNS int LANGUAGE sql IMMUTABLE AS $$ SELECT a + b $$;
CREATE TABLE api.w (id int PRIMARY KEY);
GRANT SELECT, INSERT ON api.w TO web_anon;`)
	runCases(t, ts, []readCase{
		{name: "a read", path: "/items?id=eq.1&select=id", headers: []string{"Accept: application/geo+json"}, status: 406,
			body: `{"code":"PGRST107","details":null,"hint":null,"message":"None of these media types are available: application/geo+json"}`},
		{name: "a call", path: "/rpc/add?a=1&b=2", headers: []string{"Accept: application/geo+json"}, status: 406,
			contains: []string{`"code":"PGRST107"`}},
		{name: "the next accepted type", path: "/items?id=eq.1&select=id", headers: []string{"Accept: application/geo+json, text/csv"},
			status: 200, body: "id\n1", header: []string{"Content-Type: text/csv; charset=utf-8"}},
	})
	res := ts.do("POST", "/w", []string{"Accept: application/geo+json", "Prefer: return=representation"}, `{"id":1}`)
	if res.Status != 406 || !strings.Contains(res.Body, `"code":"PGRST107"`) {
		t.Errorf("a write: %d %s", res.Status, res.Body)
	}
}

// TestPostGISInstalled: make test installs PostGIS (scripts/ensure-postgis.sh), so that the geo+json tests run
// everywhere, CI included; without it this says what to run.
func TestPostGISInstalled(t *testing.T) {
	db := pgtest.NewDatabase(t)
	conn, err := pgx.Connect(context.Background(), db.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var n int
	if err := conn.QueryRow(context.Background(),
		"SELECT count(*) FROM pg_available_extensions WHERE name = 'postgis'").Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n == 0 {
		t.Fatal("PostGIS is not installed for the tests' PostgreSQL: run scripts/ensure-postgis.sh (make test does)")
	}
}
