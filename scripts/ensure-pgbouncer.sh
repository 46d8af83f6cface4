#!/bin/sh
# Makes sure PgBouncer is available for the tests that run pgway through it (Debian's pgbouncer package).
# As root on Debian/Ubuntu it installs the package when missing; otherwise it prints the command to run.
set -eu
if command -v pgbouncer >/dev/null 2>&1 || [ -x /usr/sbin/pgbouncer ]; then
	exit 0
fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
	echo "ensure-pgbouncer: installing pgbouncer with apt-get" >&2
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq >/dev/null
	apt-get install -y -qq --no-install-recommends pgbouncer >/dev/null
	# The package starts no server here (the tests run their own, on a free port); stop one a service
	# manager may have started.
	if command -v systemctl >/dev/null 2>&1; then
		systemctl disable --now pgbouncer >/dev/null 2>&1 || true
	fi
	exit 0
fi
echo "ensure-pgbouncer: PgBouncer is missing; install it with: sudo apt-get install -y pgbouncer" >&2
exit 1
