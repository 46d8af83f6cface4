package sqlgen

import "github.com/pgway/pgway/internal/schemacache"

// application/geo+json, PostgREST's built-in handler (its "PostGIS" reference): the rows as a GeoJSON
// FeatureCollection, each row a Feature made by PostGIS's ST_AsGeoJSON(record) from the selected columns (the
// first geometry column the geometry, the others the properties; PostGIS's 22023 "geometry column is missing"
// when there is none). PostgREST aggregates json_build_object('type', 'FeatureCollection', 'features',
// coalesce(json_agg(ST_AsGeoJSON(t)::json), '[]')); pgway frames the same features row by row (streamed past
// the buffer size) or joins them with string_agg, in the same bytes.

// geoFraming joins the features of a result rendered row by row.
var geoFraming = Framing{
	Open:  `{"type":"FeatureCollection","features":[`,
	Sep:   ",",
	Close: "]}",
	Empty: `{"type":"FeatureCollection","features":[]}`,
}

// geoFeature writes one row of _pgway_t as a GeoJSON Feature (text), with ST_AsGeoJSON qualified by the schema
// PostGIS is installed in (fn nil: found through the search path; the plan never leaves it nil).
func (b *builder) geoFeature(fn *schemacache.QName) {
	if fn != nil {
		b.qualified(geoJSONFn(fn))
	} else {
		b.sql("st_asgeojson")
	}
	b.sql("(_pgway_t)")
}

// geoBody writes the FeatureCollection of every row of _pgway_t as one value (text).
func (b *builder) geoBody(fn *schemacache.QName) {
	b.sql(`'{"type":"FeatureCollection","features":[' || coalesce(string_agg(`)
	b.geoFeature(fn)
	b.sql(`, ','), '') || ']}'`)
}
