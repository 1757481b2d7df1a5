# Pulseboard. `make run` starts the server with demo traffic on the embedded
# memory engine; `make test` runs every test (a private redis-server is
# started by the tests themselves).
GO       ?= go
BIN      ?= bin/pulseboard
# The ingest token, webhook secret and admin token the README's examples use with
# `make run`. Set your own for anything but a demo.
DEMO_TOKEN ?= demo-ingest-token
DEMO_WEBHOOK_SECRET ?= demo-webhook-secret
DEMO_ADMIN_TOKEN ?= demo-admin-token
# A demo viewer, "demo", to sign in at /signin with.
DEMO_VIEWER_TOKENS ?= demo:demo-viewer-token

.PHONY: run build test test-deps bench bench-store loadtest loadtest-compare centrifugo soak screenshots generate check-generated lint fuzz clean

# Port of the private redis-server bench-store starts (and stops).
BENCH_REDIS_PORT ?= 16379

# make run opens the boards to anyone who reaches the port (a demo); a real
# deployment pairs its screens instead (README: Screens and tokens).
run:
	PULSEBOARD_PUBLIC_BOARDS=$${PULSEBOARD_PUBLIC_BOARDS:-true} \
	PULSEBOARD_INGEST_TOKENS=$${PULSEBOARD_INGEST_TOKENS:-$(DEMO_TOKEN)} \
	PULSEBOARD_ADMIN_TOKENS=$${PULSEBOARD_ADMIN_TOKENS:-$(DEMO_ADMIN_TOKEN)} \
	PULSEBOARD_VIEWER_TOKENS=$${PULSEBOARD_VIEWER_TOKENS:-$(DEMO_VIEWER_TOKENS)} \
	PULSEBOARD_WEBHOOK_SECRET=$${PULSEBOARD_WEBHOOK_SECRET:-$(DEMO_WEBHOOK_SECRET)} \
	PULSEBOARD_WEBHOOKS=$${PULSEBOARD_WEBHOOKS:-config/webhooks.example.yaml} \
	$(GO) run ./cmd/pulseboard --demo

build:
	CGO_ENABLED=0 $(GO) build -trimpath -o $(BIN) ./cmd/pulseboard

# Every test, then the short fuzz runs (cmd/pulseboard alone takes about
# ten minutes under -race, Go's default per-package limit: hence -timeout) (the seed corpora also run in the
# first line). test-deps installs what the tests run (redis-server, chromium,
# axe-core…) when it can, else prints the command and stops.
test: test-deps
	$(GO) test -race -count=1 -timeout 30m ./...
	$(MAKE) --no-print-directory fuzz

test-deps:
	@scripts/test-deps

bench:
	$(GO) test -run '^$$' -bench . -benchmem -benchtime 2s ./...

# Store benchmarks on both engines with their yardstick from the same run:
# redis-benchmark INCR (pipelined 16) on the same private, non-persistent
# redis-server, before and after. Packages run one at a time (-p 1) so the
# engines do not compete for the two cores. Output goes to docs/BENCHMARKS.md
# by hand, with this command.
bench-store:
	@redis-server --port $(BENCH_REDIS_PORT) --bind 127.0.0.1 --save "" --appendonly no --daemonize yes --logfile /tmp/pulseboard-bench-redis.log
	@sleep 0.5
	@redis-benchmark -p $(BENCH_REDIS_PORT) -P 16 -t incr -n 2000000 -q 2>/dev/null | tr '\r' '\n' | grep 'requests per second'
	-TEST_REDIS_URL=redis://127.0.0.1:$(BENCH_REDIS_PORT)/0 $(GO) test -run '^$$' -bench . -benchtime 20x -p 1 ./internal/store/... | grep -E '^(Benchmark|ok|FAIL)'
	@redis-benchmark -p $(BENCH_REDIS_PORT) -P 16 -t incr -n 2000000 -q 2>/dev/null | tr '\r' '\n' | grep 'requests per second'
	@redis-cli -p $(BENCH_REDIS_PORT) shutdown nosave >/dev/null 2>&1 || true

# A bounded load test (under two minutes, loopback only): batch ingest into a
# private Redis against its redis-benchmark yardstick, then 2,000 screens on
# 20 boards at 200 responses/s. Prints each table.
loadtest:
	$(GO) build -o bin/pulseboard ./cmd/pulseboard
	$(GO) build -o bin/pulseload ./cmd/pulseload
	@redis-server --port $(BENCH_REDIS_PORT) --bind 127.0.0.1 --save "" --appendonly no --daemonize yes --logfile /tmp/pulseboard-load-redis.log
	@sleep 0.5
	@echo "== yardstick: redis-benchmark -P 16 -t incr"
	@redis-benchmark -p $(BENCH_REDIS_PORT) -P 16 -t incr -n 2000000 -q 2>/dev/null | tr '\r' '\n' | grep 'requests per second'
	@echo "== (a) batch ingest into Redis: NDJSON batches of 1000, 4 in flight, no screens"
	-bin/pulseload -server-bin bin/pulseboard -redis-url redis://127.0.0.1:$(BENCH_REDIS_PORT)/0 -clients 0 -rate 100000 -batch 1000 -concurrency 4 -duration 20s -settle 1s
	@echo "== (b, c, d) 2000 screens on 20 boards, 200 responses/s"
	-bin/pulseload -server-bin bin/pulseboard -redis-url redis://127.0.0.1:$(BENCH_REDIS_PORT)/0 -clients 2000 -boards 20 -rate 200 -duration 30s -settle 5s
	@echo "== yardstick for the bytes per update: the same screens speaking the deprecated protocol v1 (whole tiles)"
	-bin/pulseload -server-bin bin/pulseboard -redis-url redis://127.0.0.1:$(BENCH_REDIS_PORT)/0 -clients 2000 -boards 20 -rate 200 -duration 15s -settle 5s -protocol 1
	@echo "== yardstick for (b, c, d): the same screens on a bare gorilla hub fed the server's messages"
	-bin/pulseload -server-bin bin/pulseboard -redis-url redis://127.0.0.1:$(BENCH_REDIS_PORT)/0 -clients 2000 -boards 20 -rate 200 -duration 15s -settle 5s -bare-hub
	@redis-cli -p $(BENCH_REDIS_PORT) shutdown nosave >/dev/null 2>&1 || true

# The field's reference server beside ours, same run: the same screens on
# Pulseboard, on a bare gorilla hub and on Centrifugo v6.9.1, the last two
# fed Pulseboard's own messages, with screens that compress and then with
# screens that do not; one table each. Loopback only, about three minutes a
# table at 2,000 screens (COMPARE_SCREENS). The first run builds Centrifugo
# (make centrifugo: a few minutes, once).
COMPARE_SCREENS ?= 2000
loadtest-compare: centrifugo
	$(GO) build -o bin/pulseboard ./cmd/pulseboard
	$(GO) build -o bin/pulseload ./cmd/pulseload
	@redis-server --port $(BENCH_REDIS_PORT) --bind 127.0.0.1 --save "" --appendonly no --daemonize yes --logfile /tmp/pulseboard-load-redis.log
	@sleep 0.5
	@echo "== $(COMPARE_SCREENS) screens on 20 boards, 200 responses/s: screens compress"
	-bin/pulseload -server-bin bin/pulseboard -redis-url redis://127.0.0.1:$(BENCH_REDIS_PORT)/0 -clients $(COMPARE_SCREENS) -boards 20 -rate 200 -duration 20s -settle 5s -compare
	@echo "== the same, screens do not compress"
	-bin/pulseload -server-bin bin/pulseboard -redis-url redis://127.0.0.1:$(BENCH_REDIS_PORT)/0 -clients $(COMPARE_SCREENS) -boards 20 -rate 200 -duration 20s -settle 5s -compare -compress=false
	@redis-cli -p $(BENCH_REDIS_PORT) shutdown nosave >/dev/null 2>&1 || true

# Centrifugo, built from its Go module into the user's cache, outside this
# module and its go.mod; skipped when already built.
CENTRIFUGO_VERSION := v6.9.1
CENTRIFUGO_DIR ?= $${XDG_CACHE_HOME:-$$HOME/.cache}/pulseboard/centrifugo-$(CENTRIFUGO_VERSION)
centrifugo:
	@test -x $(CENTRIFUGO_DIR)/centrifugo || { mkdir -p $(CENTRIFUGO_DIR) && cd $(CENTRIFUGO_DIR) && \
		GOBIN=$(CENTRIFUGO_DIR) $(GO) install github.com/centrifugal/centrifugo/v6@$(CENTRIFUGO_VERSION); }

# A bounded soak (SOAK, 30 minutes by default, at most an hour; loopback
# only): SOAK_SCREENS screens on 20 boards at SOAK_RATE responses/s (100) into a private
# Redis. It samples the server's RSS and heap in use every 10 s, saves heap
# profiles at SOAK_WARMUP and at the end into SOAK_DIR, and fails if the RSS
# drifts more than SOAK_MAX_DRIFT percent after SOAK_WARMUP (a fifth of the
# run when SOAK is not longer: `make soak SOAK=5m` is a quick check).
# GOMEMLIMIT and GOGC in the environment reach the server.
SOAK ?= 30m
SOAK_SCREENS ?= 2000
SOAK_WARMUP ?= 5m
SOAK_MAX_DRIFT ?= 5
# Answers a second during the soak: 100 is 8.6 million a day, far beyond a large
# center; the aggregator's minute buckets fill with it for a day (docs/BENCHMARKS.md).
SOAK_RATE ?= 100
SOAK_DIR ?= bin/soak
soak:
	$(GO) build -o bin/pulseboard ./cmd/pulseboard
	$(GO) build -o bin/pulseload ./cmd/pulseload
	@redis-server --port $(BENCH_REDIS_PORT) --bind 127.0.0.1 --save "" --appendonly no --daemonize yes --logfile /tmp/pulseboard-soak-redis.log
	@sleep 0.5
	bin/pulseload -server-bin bin/pulseboard -redis-url redis://127.0.0.1:$(BENCH_REDIS_PORT)/0 -clients $(SOAK_SCREENS) -boards 20 \
		-rate $(SOAK_RATE) -batch 5 -duration $(SOAK) -settle 5s -sample-every 10s -drift-after $(SOAK_WARMUP) \
		-max-drift $(SOAK_MAX_DRIFT) -heap-profiles $(SOAK_DIR); \
		status=$$?; redis-cli -p $(BENCH_REDIS_PORT) shutdown nosave >/dev/null 2>&1; exit $$status

# Photographs every shipped board at 1920x1080 and 3840x2160, and the
# console, from the real server with demo traffic, in headless Chromium,
# into docs/screenshots/.
screenshots:
	mkdir -p docs/screenshots
	PULSEBOARD_SCREENSHOTS=$(CURDIR)/docs/screenshots $(GO) test -count=1 -run '^(TestScreenshots|TestConsoleScreenshots)$$' ./cmd/pulseboard

# templ's generated code, and docs/openapi.json: a copy of the OpenAPI
# document the server embeds (internal/openapi/openapi.json, the one to edit).
generate:
	$(GO) tool templ generate
	cp internal/openapi/openapi.json docs/openapi.json

# CI: generated code must be committed and current.
check-generated: generate
	@git diff --exit-code -- views || { echo "generated templ code is out of date: run make generate and commit"; exit 1; }
	@git diff --exit-code -- docs/openapi.json || { echo "docs/openapi.json differs from internal/openapi/openapi.json: run make generate and commit"; exit 1; }
	@test -z "$$(git status --porcelain -- views)" || { echo "untracked generated files in views/: commit them"; git status --porcelain -- views; exit 1; }

lint:
	@test -z "$$(gofmt -l .)" || { echo "gofmt would change:"; gofmt -l .; exit 1; }
	$(GO) vet ./...
	$(GO) tool staticcheck ./...

# A short fuzz run of each fuzz target, as CI does: the ingest decoder, the
# screens' messages, raw client frames on a real board socket, and v2 tile
# patches (any two markups: the patch turns one into the other). Budgets
# are counts of executions, not durations: Go 1.26's coordinator can fail a
# timed run with a bare "context deadline exceeded" at the deadline
# (go.dev/issue/75804).
fuzz:
	$(GO) test -run '^$$' -fuzz '^FuzzDecode$$' -fuzztime 300000x ./internal/ingest
	$(GO) test -run '^$$' -fuzz '^FuzzClientMessage$$' -fuzztime 200000x ./internal/live
	$(GO) test -run '^$$' -fuzz '^FuzzClientFrames$$' -fuzztime 20000x ./internal/live
	$(GO) test -run '^$$' -fuzz '^FuzzDiffApply$$' -fuzztime 100000x ./internal/tilepatch

clean:
	rm -rf bin
