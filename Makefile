# Pulse: `make test` and `make demo` set up everything they need from nothing.
SHELL := /bin/bash
.DEFAULT_GOAL := help
NODE_BIN := node_modules/.bin
# Debian installs nats-server in /usr/sbin, which a non-login PATH may lack.
export PATH := $(PATH):/usr/sbin

.PHONY: help deps nats elasticsearch chromium build lint typecheck test demo clean

help: ## list targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/' | expand -t 14

# npm install, not npm ci: the lock holds only this platform's chDB binary, which npm ci rejects as out of sync.
node_modules/.package-lock.json: package.json package-lock.json
	npm install --no-audit --no-fund
	@touch $@

deps: node_modules/.package-lock.json ## npm packages

nats: ## nats-server from Debian if missing
	bash infra/provision/nats.sh

elasticsearch: ## Elasticsearch integ-test-zip from Maven Central into .cache/
	bash infra/provision/elasticsearch.sh >/dev/null

chromium: ## Debian's chromium for the browser tests, if missing
	bash infra/provision/chromium.sh >/dev/null

build: deps ## compile TypeScript to dist/
	$(NODE_BIN)/tsc -p tsconfig.json

lint: deps ## eslint
	$(NODE_BIN)/eslint .

typecheck: deps ## type-check code and tests
	$(NODE_BIN)/tsc -p tsconfig.test.json

test: deps nats elasticsearch chromium lint typecheck build ## everything: lint, types, unit, integration and end-to-end tests on real services
	$(NODE_BIN)/vitest run

demo: deps nats build ## run `pulse start` on the embedded defaults with synthetic traffic
	node dist/bench/demo.js

clean: ## remove build output and local data
	rm -rf dist .pulse-data

.PHONY: bench bench-live bench-rebuild
bench-live: deps nats build ## live subscriptions: ack -> update latency with background traffic (about 80 s)
	node dist/bench/live/run.js

bench-rebuild: deps nats elasticsearch build ## rebuild rate from each event log (BENCH_REBUILD_EVENTS, default 2,000,000); results in bench/results/rebuild-latest.json
	node dist/bench/rebuild/main.js

bench: deps nats elasticsearch build ## load benchmark (about 9 min, at most 15; BENCH_QUICK=1 about 3-4): ceilings, end-to-end rates, overload, profile; results in bench/results/
	node dist/bench/main.js

.PHONY: bench-reports
bench-reports: deps build ## report benchmark: 10M synthetic events in chDB, a dashboard of 12 reports, p50/p95 each (see bench/README.md, Reports)
	node dist/bench/reports/run.js
