#!/bin/sh
# Lints the golden OpenAPI documents (and any files given as arguments) with Redocly CLI.
# Needs Node.js; set REDOCLY to a redocly binary to skip npx, e.g. REDOCLY=node_modules/.bin/redocly.
set -eu
dir=$(cd "$(dirname "$0")" && pwd)
if [ "$#" -eq 0 ]; then
	set -- "$dir"/books-3.0.json "$dir"/books-3.0.yaml "$dir"/books-3.1.json "$dir"/books-3.1.yaml \
		"$dir"/db-3.0.json "$dir"/db-3.1.json "$dir"/batch-3.0.json "$dir"/batch-3.1.json
fi
if [ -n "${REDOCLY:-}" ]; then
	exec "$REDOCLY" lint --config "$dir/redocly.yaml" --format stylish "$@"
fi
exec npx --yes @redocly/cli@2.77.0 lint --config "$dir/redocly.yaml" --format stylish "$@"
