# chronon-go build, test and demo targets. Everything here runs offline on a
# fresh machine with Go and a C compiler (cgo is needed for DuckDB only).

GO      ?= go
BIN     ?= bin/chronon
PKGS    := ./...
# Keep the module cache and build cache where CI can find them again.
export GOFLAGS ?= -buildvcs=false

.PHONY: all build test test-long lint fmt vet bench quickstart clean generate

all: build

## build: compile the chronon CLI into bin/chronon
build:
	$(GO) build -o $(BIN) ./cmd/chronon

## test: lint, then every unit, fuzz-seed, emulator and end-to-end test
test: lint
	$(GO) test -count=1 -timeout 25m $(PKGS)
	@# Beam cross-compiles Dataflow/Flink workers with CGO_ENABLED=0: everything must build without cgo.
	CGO_ENABLED=0 $(GO) build $(PKGS)

## lint: gofmt and go vet must be clean
lint: vet
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed on:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet $(PKGS)

fmt:
	gofmt -w $$(git ls-files '*.go')

## bench: benchmarks that print ratios against a baseline measured in the same run
bench: build
	@echo "== import: chronon import vs DuckDB"
	$(GO) run ./testing/bench/importbench --chronon $(BIN)
	@echo "== aggregations: updates/s per op; sweep cost per event, 1e5 to 1e7 events"
	$(GO) run ./testing/bench/aggbench
	@echo "== expressions: Arrow batch evaluation vs hand-written loops"
	$(GO) run ./testing/bench/exprbench
	@echo "== backfill: point-in-time Join (1M left rows, 10M events) vs DuckDB SQL on the same Parquet files"
	$(GO) run ./testing/bench/backfillbench

## quickstart: generate the quickstart data, import it, compile, backfill the training set, upload to the KV store
quickstart: build
	bash examples/quickstart/quickstart.sh

clean:
	rm -rf bin examples/quickstart/.chronon examples/quickstart/data examples/quickstart/production
