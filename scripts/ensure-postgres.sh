#!/usr/bin/env bash
# ensure-postgres.sh: make sure PostgreSQL server binaries (initdb, postgres) are available for the tests and
# the demo. Quiet and a no-op when they are. Otherwise, as root on Debian/Ubuntu, installs the distribution's
# postgresql package; elsewhere prints the command to run and exits 1.
set -euo pipefail

have_server() {
	local initdb dir
	if initdb=$(command -v initdb 2>/dev/null); then
		dir=$(dirname "$(readlink -f "$initdb")")
		[ -x "$dir/postgres" ] && return 0
	fi
	for dir in /usr/lib/postgresql/*/bin; do
		[ -x "$dir/initdb" ] && [ -x "$dir/postgres" ] && return 0
	done
	return 1
}

have_server && exit 0

if [ -r /etc/debian_version ] && command -v apt-get >/dev/null 2>&1; then
	if [ "$(id -u)" -eq 0 ]; then
		echo "ensure-postgres: PostgreSQL server not found; installing the postgresql package" >&2
		export DEBIAN_FRONTEND=noninteractive
		apt-get update -qq
		apt-get install -y -qq --no-install-recommends postgresql >/dev/null
		# The tests run postgres as this OS user when they run as root; the package normally creates it.
		id postgres >/dev/null 2>&1 || useradd --system --home-dir /var/lib/postgresql --shell /bin/bash postgres
		if have_server; then
			exit 0
		fi
		echo "ensure-postgres: installed postgresql but still found no initdb/postgres binaries" >&2
		exit 1
	fi
	echo "ensure-postgres: PostgreSQL server not found; install it with:" >&2
	echo "  sudo apt-get update && sudo apt-get install -y postgresql" >&2
	exit 1
fi

echo "ensure-postgres: PostgreSQL server binaries (initdb, postgres) not found on PATH or in /usr/lib/postgresql/*/bin." >&2
if command -v brew >/dev/null 2>&1; then
	echo "  brew install postgresql@16" >&2
elif command -v dnf >/dev/null 2>&1; then
	echo "  sudo dnf install -y postgresql-server" >&2
else
	echo "  install PostgreSQL 15 or newer (server package) and put its bin directory on PATH" >&2
fi
echo "Or point the tests at a running server: PGWAY_TEST_DATABASE_URL=postgres://postgres@localhost:5432/postgres" >&2
exit 1
