# pgway developer entry points. `make help` lists them.
.DEFAULT_GOAL := help
SHELL := /bin/bash

GO       ?= go
BIN      ?= bin/pgway
VERSION  ?= $(shell git describe --always --dirty 2>/dev/null || echo dev)
LDFLAGS  := -X main.version=$(VERSION)
FUZZTIME ?= 30s
# Extra flags: `make bench BENCH_FLAGS=-h`, `make run RUN_FLAGS='-port 3001'`.
BENCH_FLAGS ?=
RUN_FLAGS ?=
# TEST_TIMEOUT bounds the whole go test run; the CI budget is 90 minutes.
TEST_TIMEOUT ?= 15m
# PKGS narrows vet and gotest, e.g. `make test PKGS=./internal/pgtest/...`.
PKGS ?= ./...

# STATICCHECK is pinned: a new release may add checks that fail `make test`.
STATICCHECK ?= honnef.co/go/tools/cmd/staticcheck@v0.8.2

# TEST_STEPS are the targets `make test` runs, in order, stopping at the first failure.
# Add a step with `TEST_STEPS += my-step` and a `my-step:` target below.
TEST_STEPS := ensure-postgres ensure-postgis ensure-pgbouncer ensure-chromium vet staticcheck gotest lint-openapi

.PHONY: help build test run bench fuzz clean ensure-postgres ensure-postgis ensure-pgbouncer ensure-chromium vet staticcheck gotest lint-openapi docs-assets $(TEST_STEPS)

help: ## list targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/:.*## /\t/' | expand -t 18

build: ## build bin/pgway with its version from git describe
	$(GO) build -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/pgway

test: ## everything CI runs: ensure PostgreSQL, go vet, all tests
	@for step in $(TEST_STEPS); do \
		echo "== make $$step"; \
		$(MAKE) --no-print-directory $$step || exit 1; \
	done

ensure-postgres: ## install PostgreSQL server binaries if missing (as root on Debian/Ubuntu)
	@scripts/ensure-postgres.sh

vet: ## go vet ./...
	$(GO) vet $(PKGS)

staticcheck: ## staticcheck (pinned): default checks, then U1000 without tests (code only tests use)
	$(GO) run $(STATICCHECK) $(PKGS)
	$(GO) run $(STATICCHECK) -tests=false -checks U1000 $(PKGS)

# RACE runs the tests under the race detector when a C compiler is there for it (cgo).
RACE ?= $(shell command -v gcc >/dev/null 2>&1 && echo -race)

gotest: ## go test ./... against throwaway PostgreSQL servers (with -race when gcc is available)
	$(GO) test $(RACE) -count=1 -timeout $(TEST_TIMEOUT) $(PKGS)

ensure-postgis: ## install PostGIS for the tests' PostgreSQL if missing (as root on Debian/Ubuntu), for the geo+json tests
	@scripts/ensure-postgis.sh

ensure-pgbouncer: ## install Debian's pgbouncer if missing (as root), for the tests through PgBouncer
	@scripts/ensure-pgbouncer.sh

ensure-chromium: ## install Debian's chromium if missing (as root), for the docs-page test
	@scripts/ensure-chromium.sh

docs-assets: ## refresh the embedded Swagger UI files from the npm package pinned in sidecar/docsui/package-lock.json
	cd sidecar/docsui && npm ci --no-audit --no-fund && \
		cp node_modules/swagger-ui-dist/swagger-ui-bundle.js node_modules/swagger-ui-dist/swagger-ui.css \
		   node_modules/swagger-ui-dist/LICENSE node_modules/swagger-ui-dist/NOTICE \
		   node_modules/swagger-ui-dist/favicon-32x32.png assets/

lint-openapi: ## lint the golden OpenAPI 3.0 and 3.1 documents with Redocly CLI (npx, pinned)
	sh openapi/testdata/lint.sh

run: build ensure-postgres ## demo: throwaway PostgreSQL + sample schema + pgway serve on :3000 (Ctrl-C stops)
	$(GO) run ./scripts/demo -pgway $(BIN) $(RUN_FLAGS)

bench: ensure-postgres ## load benchmark (go run ./bench)
	$(GO) run ./bench $(BENCH_FLAGS)

fuzz: ## fuzz the request parser for FUZZTIME (30s)
	$(GO) test -run '^$$' -fuzz '^FuzzParse$$' -fuzztime $(FUZZTIME) ./sidecar/internal/request

clean: ## remove build output
	rm -rf bin
