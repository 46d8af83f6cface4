#!/bin/bash
# Run once by the postgres image when it initialises the primary's data directory (docker-compose.yml mounts it
# into /docker-entrypoint-initdb.d): a role the scale profile's replica streams WAL as, and the pg_hba.conf line
# that lets it connect for replication (the image's own lines match databases only, never "replication").
set -euo pipefail
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" <<-'SQL'
	CREATE ROLE replicator WITH REPLICATION LOGIN PASSWORD 'replicator';
SQL
echo "host replication replicator all scram-sha-256" >> "$PGDATA/pg_hba.conf"
