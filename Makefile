# chronon-go build, test and demo targets. Everything here runs offline on a
# fresh machine with Go and a C compiler (cgo is needed for DuckDB only).

GO      ?= go
BIN     ?= bin/chronon
PKGS    := ./...
# Keep the module cache and build cache where CI can find them again.
export GOFLAGS ?= -buildvcs=false

.PHONY: all build test test-long lint fmt vet bench quickstart odm clean generate

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
	@echo "== fetch: open-loop load on chronon serve (quickstart/training_set.v2) vs GET /ping, 2000 req/s"
	$(GO) run ./testing/bench/fetchbench --chronon $(BIN)
	@echo "== streaming: publish -> visible-in-fetch freshness at 5000 events/s (pstest, streaming job, fetcher)"
	$(GO) run ./testing/bench/streambench

## quickstart: generate the quickstart data, import it, compile, backfill the training set, upload to the KV store
quickstart: build
	bash examples/quickstart/quickstart.sh

## odm: offline data management on the quickstart data: serve and log (with streaming), flatten, consistency, a bootstrapped v3, labels
odm: build
	bash examples/quickstart/odm.sh

## generate: regenerate the checked-in protobuf/gRPC code of the plugin protocols
## (make test does not need it). Installs protoc (Debian's protobuf-compiler)
## when missing and the two Go generators at pinned versions into bin/tools.
PROTOC_GEN_GO_VERSION      := v1.36.12
PROTOC_GEN_GO_GRPC_VERSION := v1.6.2
PROTOS := plugins/kv/kvpb/kv.proto plugins/external/extpb/external.proto
TOOLS  := $(CURDIR)/bin/tools
SUDO   := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
generate:
	@command -v protoc >/dev/null || { $(SUDO) apt-get update && $(SUDO) apt-get install -y protobuf-compiler; }
	GOBIN=$(TOOLS) $(GO) install google.golang.org/protobuf/cmd/protoc-gen-go@$(PROTOC_GEN_GO_VERSION)
	GOBIN=$(TOOLS) $(GO) install google.golang.org/grpc/cmd/protoc-gen-go-grpc@$(PROTOC_GEN_GO_GRPC_VERSION)
	PATH="$(TOOLS):$$PATH" protoc --proto_path=. \
		--go_out=. --go_opt=paths=source_relative \
		--go-grpc_out=. --go-grpc_opt=paths=source_relative \
		$(PROTOS)

clean:
	rm -rf bin examples/quickstart/.chronon examples/quickstart/data examples/quickstart/production
