#!/usr/bin/env bash
# ensure-postgis.sh: make sure the PostgreSQL server the tests start (internal/pgtest: initdb on PATH, else the
# highest /usr/lib/postgresql/*/bin) has the PostGIS extension, for the application/geo+json tests. Quiet and a
# no-op when it has. Otherwise, as root on Debian/Ubuntu, installs the distribution's postgresql-N-postgis-3
# package for that server's major version N; elsewhere prints the command to run and exits 1. Run it after
# ensure-postgres.sh.
set -euo pipefail

if [ -n "${PGWAY_TEST_DATABASE_URL:-}" ]; then
	echo "ensure-postgis: PGWAY_TEST_DATABASE_URL is set; that server must have PostGIS (CREATE EXTENSION postgis)" >&2
	exit 0
fi

# bin_dir finds the server binaries the way pgtest.FindBinDir does.
bin_dir() {
	local initdb dir best="" best_ver=-1 ver
	if initdb=$(command -v initdb 2>/dev/null); then
		dir=$(dirname "$(readlink -f "$initdb")")
		if [ -x "$dir/postgres" ]; then
			echo "$dir"
			return 0
		fi
	fi
	for dir in /usr/lib/postgresql/*/bin; do
		[ -x "$dir/initdb" ] && [ -x "$dir/postgres" ] || continue
		ver=$(basename "$(dirname "$dir")")
		ver=${ver%%.*}
		case $ver in '' | *[!0-9]*) continue ;; esac
		if [ "$ver" -gt "$best_ver" ]; then
			best=$dir best_ver=$ver
		fi
	done
	[ -n "$best" ] && echo "$best"
}

bin=$(bin_dir) || {
	echo "ensure-postgis: no PostgreSQL server binaries found; run scripts/ensure-postgres.sh first" >&2
	exit 1
}
# "postgres (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)" → 15
major=$("$bin/postgres" --version | sed -nE 's/^[^0-9]*([0-9]+).*/\1/p')
if [ -z "$major" ]; then
	echo "ensure-postgis: cannot tell the major version of $bin/postgres" >&2
	exit 1
fi

sharedir=/usr/share/postgresql/$major
if [ -x "$bin/pg_config" ]; then
	sharedir=$("$bin/pg_config" --sharedir)
fi
have_postgis() { [ -r "$sharedir/extension/postgis.control" ]; }

have_postgis && exit 0

pkg=postgresql-$major-postgis-3
if [ -r /etc/debian_version ] && command -v apt-get >/dev/null 2>&1; then
	if [ "$(id -u)" -eq 0 ]; then
		echo "ensure-postgis: PostGIS not found for PostgreSQL $major; installing $pkg" >&2
		export DEBIAN_FRONTEND=noninteractive
		apt-get update -qq
		apt-get install -y -qq --no-install-recommends "$pkg" >/dev/null
		if have_postgis; then
			exit 0
		fi
		echo "ensure-postgis: installed $pkg but found no $sharedir/extension/postgis.control" >&2
		exit 1
	fi
	echo "ensure-postgis: PostGIS not found for PostgreSQL $major; install it with:" >&2
	echo "  sudo apt-get update && sudo apt-get install -y $pkg" >&2
	exit 1
fi
echo "ensure-postgis: PostGIS not found in $sharedir/extension; install PostGIS 3 for PostgreSQL $major" >&2
exit 1
