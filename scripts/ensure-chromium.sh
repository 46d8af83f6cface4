#!/bin/sh
# Makes sure a headless Chromium is available for the docs-page test (Debian's chromium package).
# As root on Debian/Ubuntu it installs the package when missing; otherwise it prints the command to run.
set -eu
for b in chromium chromium-browser google-chrome; do
	if command -v "$b" >/dev/null 2>&1; then
		exit 0
	fi
done
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
	echo "ensure-chromium: installing chromium with apt-get" >&2
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq >/dev/null
	apt-get install -y -qq --no-install-recommends chromium >/dev/null
	exit 0
fi
echo "ensure-chromium: Chromium is missing; install it with: sudo apt-get install -y chromium" >&2
exit 1
