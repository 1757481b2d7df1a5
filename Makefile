# Pulseboard. `make run` starts the server with demo traffic on the embedded
# memory engine; `make test` runs every test (a private redis-server is
# started by the tests themselves).
GO       ?= go
BIN      ?= bin/pulseboard
# The token the README's curl examples use with `make run`.
DEMO_TOKEN ?= demo-ingest-token

.PHONY: run build test bench generate check-generated lint fuzz clean

run:
	PULSEBOARD_INGEST_TOKENS=$${PULSEBOARD_INGEST_TOKENS:-$(DEMO_TOKEN)} $(GO) run ./cmd/pulseboard --demo

build:
	CGO_ENABLED=0 $(GO) build -trimpath -o $(BIN) ./cmd/pulseboard

test:
	$(GO) test -race -count=1 ./...

bench:
	$(GO) test -run '^$$' -bench . -benchmem -benchtime 2s ./...

generate:
	$(GO) tool templ generate

# CI: generated code must be committed and current.
check-generated: generate
	@git diff --exit-code -- views || { echo "generated templ code is out of date: run make generate and commit"; exit 1; }
	@test -z "$$(git status --porcelain -- views)" || { echo "untracked generated files in views/: commit them"; git status --porcelain -- views; exit 1; }

lint:
	@test -z "$$(gofmt -l .)" || { echo "gofmt would change:"; gofmt -l .; exit 1; }
	$(GO) vet ./...
	$(GO) tool staticcheck ./...

# A short fuzz run of the ingest decoder, as CI does.
fuzz:
	$(GO) test -run '^$$' -fuzz FuzzDecode -fuzztime 20s ./internal/ingest

clean:
	rm -rf bin
