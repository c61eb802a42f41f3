# herald — run `make help` for the targets.
SHELL := /bin/bash
GO ?= go
PKGS ?= ./...
FUZZTIME ?= 10s
BENCHTIME ?= 1s
BIN := bin/herald

.PHONY: help deps redis chromium build run serve test test-short vet fmt-check staticcheck lint bench bench-go chaos fuzz clean

help: ## list targets
	@grep -E '^[a-z-]+:.*##' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

deps: redis chromium ## install what the tests need (redis-server, chromium) and download Go modules
	$(GO) mod download

# redis-server is needed by the queue tests (a real server on a free port, never a mock).
redis:
	@if ! command -v redis-server >/dev/null 2>&1; then \
	  if command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
	    echo "installing redis-server with apt-get"; \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -q redis-server >/dev/null || \
	      { apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q redis-server >/dev/null; }; \
	  else \
	    echo "redis-server is missing: install it (Debian/Ubuntu: sudo apt-get install redis-server;"; \
	    echo "macOS: brew install redis) or point the tests at one with HERALD_TEST_REDIS_ADDR=host:port"; \
	    exit 1; \
	  fi; \
	fi

# chromium drives the dashboard's browser test (web/dashboard_browser_test.go, chromedp). Where it
# cannot be installed the test skips and says so; nothing else needs it.
chromium:
	@if ! command -v chromium >/dev/null 2>&1 && ! command -v chromium-browser >/dev/null 2>&1 && ! command -v google-chrome >/dev/null 2>&1; then \
	  if command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
	    echo "installing chromium with apt-get (for the dashboard's browser test)"; \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium >/dev/null || \
	      { apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium >/dev/null; } || \
	      echo "chromium could not be installed: the dashboard's browser test will skip"; \
	  else \
	    echo "chromium is missing: the dashboard's browser test will skip (Debian/Ubuntu: sudo apt-get install chromium;"; \
	    echo "macOS: brew install --cask chromium)"; \
	  fi; \
	fi

build: ## build bin/herald
	$(GO) build -o $(BIN) ./cmd/herald

run: ## run herald on its embedded default (in-memory Redis, a fake of every platform) and keep serving
	$(GO) run ./cmd/herald demo

serve: build ## run herald serve (needs REDIS_URL, HERALD_CONFIG and HERALD_API_TOKEN in the environment)
	$(BIN) serve

vet: ## go vet
	$(GO) vet $(PKGS)

fmt-check: ## fail when a file is not gofmt-formatted
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "not gofmt-formatted:"; echo "$$out"; exit 1; fi

STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2

staticcheck: ## staticcheck (pinned; fetched through the Go module proxy)
	$(GO) run $(STATICCHECK) $(PKGS)

lint: vet fmt-check staticcheck ## go vet, gofmt and staticcheck

test: deps lint ## all tests, with the race detector, against a real redis-server
	$(GO) test -race -count=1 $(PKGS)

test-short:
	$(GO) test -count=1 $(PKGS)

bench: redis ## load harness: real herald, redis-server and fake platforms; a table, then one JSON line (under 10 min)
	$(GO) run ./internal/harness/bench $(BENCHFLAGS)

chaos: redis ## fault harness: 3 herald processes, kill -9, Redis restart and outage, faulty fakes; exits 1 on a missed target
	$(GO) build -o bin/herald-chaos ./internal/harness/chaos && bin/herald-chaos $(CHAOSFLAGS)

bench-go: ## Go micro-benchmarks (formatter per platform, queue throughput)
	$(GO) test -run='^$$' -bench=. -benchmem -benchtime=$(BENCHTIME) $(PKGS)

fuzz: ## run every fuzz target for FUZZTIME each
	@set -e; for pkg in $$($(GO) list ./...); do \
	  for f in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz' || true); do \
	    echo "fuzz $$pkg $$f ($(FUZZTIME))"; \
	    $(GO) test -run='^$$' -fuzz="^$$f$$" -fuzztime=$(FUZZTIME) $$pkg; \
	  done; \
	done

clean:
	rm -rf bin
