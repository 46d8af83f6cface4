-- pgway's own catalog of API versions: one row per version schema. `pgway versions` manages it and pgway
-- reloads it with the schema cache.
CREATE SCHEMA IF NOT EXISTS pgway;

CREATE TABLE pgway.api_versions (
  name          text PRIMARY KEY CHECK (name ~ '^v[0-9]+$'),
  schema_name   text NOT NULL UNIQUE,
  -- current: what the bare path serves (at most one); active: served under /vN; deprecated: served with
  -- Deprecation/Sunset headers; sunset: answered 410 Gone.
  status        text NOT NULL DEFAULT 'active' CHECK (status IN ('current', 'active', 'deprecated', 'sunset')),
  deprecated_at timestamptz,
  sunset_at     timestamptz,
  successor     text REFERENCES pgway.api_versions (name),
  created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX api_versions_one_current ON pgway.api_versions ((true)) WHERE status = 'current';

---- create above / drop below ----

DROP TABLE pgway.api_versions;
DROP SCHEMA pgway;
