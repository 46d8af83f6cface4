#!/bin/bash
# The scale profile's read replica (docker-compose.yml runs it as the postgres user): on its first start, a base
# backup of the primary with pg_basebackup -R (standby.signal and primary_conninfo written for it) through a
# replication slot of its own, so that the primary keeps the WAL it has not received; then PostgreSQL as a hot
# standby streaming from the primary.
set -euo pipefail
: "${PRIMARY_HOST:?}" "${REPLICATION_PASSWORD:?}" "${PGDATA:?}"
export PGPASSWORD="$REPLICATION_PASSWORD"
if [ ! -s "$PGDATA/PG_VERSION" ]; then
	until pg_isready -q -h "$PRIMARY_HOST" -U replicator; do sleep 1; done
	# The slot outlives a replica whose volume was removed: when creating it fails, it is there already.
	pg_basebackup -h "$PRIMARY_HOST" -U replicator -D "$PGDATA" -R -X stream -c fast -S pgway_replica --create-slot ||
		pg_basebackup -h "$PRIMARY_HOST" -U replicator -D "$PGDATA" -R -X stream -c fast -S pgway_replica
fi
chmod 0700 "$PGDATA"
exec postgres -c hot_standby=on -c hot_standby_feedback=on
