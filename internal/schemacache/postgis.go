package schemacache

import "github.com/jackc/pgx/v5"

// geoJSONSQL finds PostGIS's ST_AsGeoJSON(record, …) (PostGIS 3.0 and later), which renders a row as a GeoJSON
// Feature: its first geometry column as the geometry, the other columns as the properties. PostgREST calls it
// by its bare name through the search path; pgway calls it qualified with the schema PostGIS is installed in,
// so it works whatever db-extra-search-path says. No row: PostGIS is not installed (or is older than 3.0).
const geoJSONSQL = `select n.nspname, p.proname
from pg_catalog.pg_proc p join pg_catalog.pg_namespace n on n.oid = p.pronamespace
where p.proname = 'st_asgeojson' and p.pronargs >= 1 and p.proargtypes[0] = 'pg_catalog.record'::pg_catalog.regtype
order by p.pronargs, n.nspname
limit 1`

// queueGeoJSON adds the ST_AsGeoJSON(record) lookup to the catalog batch; *out is set when it is found.
func queueGeoJSON(b *pgx.Batch, out **QName) {
	b.Queue(geoJSONSQL).Query(func(rows pgx.Rows) error {
		for rows.Next() {
			var q QName
			if err := rows.Scan(&q.Schema, &q.Name); err != nil {
				return err
			}
			*out = &q
		}
		return rows.Err()
	})
}
