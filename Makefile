# Headway: make build | test | demo | bench | lint | cross | package
GO       ?= go
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS  := -s -w -X main.version=$(VERSION)
BINS     := agent hub firmware-sim
PKGS     := ./...

.PHONY: all build package test test-short test-stress demo bench bench-load bench-fleet lint cross fuzz clean

all: build

build:
	@mkdir -p bin
	@for b in $(BINS); do \
		CGO_ENABLED=0 $(GO) build -trimpath -ldflags "$(LDFLAGS)" -o bin/$$b ./$$b || exit 1; \
	done
	@echo "built bin/agent bin/hub bin/firmware-sim ($(VERSION))"

# Everything CI runs: lint, then every test with the race detector. Tests
# that need ../shared/testdata or mosquitto skip with a message when absent.
# The WMATA replay is single-threaded: under -race it replays an hour;
# its accuracy floors need the whole day, checked once without -race.
# TestCloseWhileClientsChurn runs without -race only (see its file: a data
# race inside nats-server's MQTT close path).
test: lint
	$(GO) test -race -count=1 -timeout 20m $(PKGS)
	$(GO) test -count=1 -timeout 10m ./hub/internal/replay
	$(GO) test -count=1 -timeout 5m -run TestCloseWhileClientsChurn ./hub/internal/broker
	cd packaging && $(GO) test -count=1 -timeout 20m ./...

# Debian packages of each role for amd64, arm64 and armhf, into dist/
# (packaging/build.sh; nfpm pinned in packaging/go.mod).
package:
	bash packaging/build.sh

# make test under load, RUNS times (default 3), printing each failure.
test-stress:
	bash scripts/test-stress.sh

# Quick loop for development: no race detector, no slow end-to-end tests.
test-short:
	$(GO) test -short -count=1 $(PKGS)

demo: build
	@bash scripts/demo.sh

# Package benchmarks, then the end-to-end latency over a minute of fixes.
bench:
	$(GO) test -run '^$$' -bench . -benchmem -count=1 $$($(GO) list ./... | grep -v /e2e)
	$(GO) test -run '^$$' -bench EndToEndLatency -benchtime=60x -count=1 ./e2e
	$(GO) test -run '^$$' -bench VehicleAgent -benchtime=1x -count=1 -timeout 30m ./e2e
	$(GO) test -run '^$$' -bench 'StationAgentRSS|StationStartToCachedBoard' -benchtime=1x -count=1 ./e2e

# The live hub at agency scale (about 25 minutes): fleets of 5,000 to
# 20,000 positions a second into a bare broker and into the hub with 1,000
# signs, then 5,000 buses and as many signs as the open-files limit allows
# for 10 minutes. Figures in BENCHMARKS.md, "The live hub under load".
bench-load: build
	$(GO) test -run '^$$' -bench HubUnderLoad -benchtime=1x -count=1 -timeout 60m ./e2e
	$(GO) test -run '^$$' -bench HubSoak -benchtime=1x -count=1 -timeout 30m ./e2e

# Fleets at scale (about 8 minutes): 500 buses on PTYs, 5,000 over MQTT.
bench-fleet: build
	bash scripts/fleet-bench.sh

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet $(PKGS)

# Signs and vehicle computers are Raspberry-Pi class.
cross:
	@mkdir -p bin/linux-arm64 bin/linux-armv7
	@for b in $(BINS); do \
		CGO_ENABLED=0 GOOS=linux GOARCH=arm64 $(GO) build -trimpath -ldflags "$(LDFLAGS)" -o bin/linux-arm64/$$b ./$$b || exit 1; \
		CGO_ENABLED=0 GOOS=linux GOARCH=arm GOARM=7 $(GO) build -trimpath -ldflags "$(LDFLAGS)" -o bin/linux-armv7/$$b ./$$b || exit 1; \
	done
	@echo "built bin/linux-arm64/ and bin/linux-armv7/"

# Run each fuzz target for FUZZTIME (default 30s).
FUZZTIME ?= 30s
fuzz:
	@for pkg in $$($(GO) list ./...); do \
		for f in $$($(GO) test -list '^Fuzz' $$pkg 2>/dev/null | grep '^Fuzz'); do \
			echo "== $$pkg $$f"; $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$pkg || exit 1; \
		done; \
	done

clean:
	rm -rf bin run
