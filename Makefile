# AtlasRelay developer tasks. Services (SeaweedFS, moto, PostgreSQL) are managed by
# scripts/services.sh and keep all their state under .sandbox/.
#   make test SWIFT_TEST_FLAGS="--filter Foo"   pass extra flags to `swift test`
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := build

# Run make from the repository root (or with -C); $(CURDIR) keeps paths with spaces intact.
ROOT := $(CURDIR)
SWIFT ?= swift
SWIFT_TEST_FLAGS ?=
SERVICES := $(ROOT)/scripts/services.sh
ENV_FILE := $(ROOT)/.sandbox/env

.PHONY: setup services services-stop services-status build test demo clean-sandbox

setup:
	@"$(ROOT)/scripts/setup.sh"

services: setup
	@"$(SERVICES)" start

services-stop:
	@"$(SERVICES)" stop

services-status:
	@"$(SERVICES)" status

build:
	cd "$(ROOT)" && $(SWIFT) build

# Starts the services, runs the tests with .sandbox/env loaded, and always stops the services
# again (on failure and on Ctrl-C too). The recipe exits with swift test's status (make itself
# then reports failure as exit status 2).
test: setup
	@trap 'echo "stopping services"; "$(SERVICES)" stop || true' EXIT; \
	trap 'exit 130' INT; trap 'exit 143' TERM; \
	"$(SERVICES)" start; \
	source "$(ENV_FILE)"; \
	cd "$(ROOT)"; \
	$(SWIFT) test $(SWIFT_TEST_FLAGS)

# Starts the services, builds and runs sandbox-check against them, and leaves them running.
demo: setup
	@trap 'echo "services left running; stop them with: make services-stop  (or $(SERVICES) stop)"' EXIT; \
	"$(SERVICES)" start; \
	cd "$(ROOT)"; \
	$(SWIFT) build --product sandbox-check; \
	source "$(ENV_FILE)"; \
	"$(ROOT)/.build/debug/sandbox-check"

clean-sandbox:
	@"$(SERVICES)" clean
