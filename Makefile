# SHAZAM: `make help` lists the targets. Every target sets up what it needs on a fresh machine.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Lock files (make lock writes them; pip installs them with --require-hashes): requirements.lock
# holds the runtime dependencies the image installs, requirements-dev.lock those plus the dev
# extra, for CI and developers. Both are resolved for the image's platform, CPython 3.11 on
# Debian bookworm x86_64 (glibc 2.36).
LOCK := requirements.lock
DEV_LOCK := requirements-dev.lock
UV ?= $(BIN)/uv
LOCK_FLAGS := --python-version 3.11 --python-platform x86_64-manylinux_2_36 --generate-hashes \
	--custom-compile-command 'make lock' --quiet $(if $(UPGRADE),--upgrade)
NODE_STAMP := bench/khronos/node_modules/.installed
VIEWER_STAMP := shazam_assets/platform/viewer/node_modules/.installed
GLTF_TOOLS_STAMP := shazam_assets/platform/gltf_tools/node_modules/.installed
CHROMIUM := /usr/bin/chromium
# Mesa's Vulkan driver (lavapipe) lets open3d's Filament renderer run headless on a CPU; on GPU
# nodes the NVIDIA container runtime adds the driver's own Vulkan ICD.
VULKAN_ICD := /usr/share/vulkan/icd.d/lvp_icd.x86_64.json
# Debian's PostgreSQL server: the tests run Dagster's production storage on a real one.
PG_CTL := /usr/lib/postgresql/15/bin/pg_ctl
# promtool (Debian's prometheus) checks and unit-tests the alert rules
PROMTOOL := /usr/bin/promtool
# wrk, the HTTP load generator of the load benchmarks (bench/bench_studio_load.py, bench/bench_search_service.py)
WRK := /usr/bin/wrk
PYTEST_ARGS ?=
# Test processes (pytest-xdist). Most of the suite's time is end-to-end tests that wait on
# daemons, servers and browsers, so two workers on a 2-core machine nearly halve it; each test
# file stays on one worker (its module fixtures are built once), and files go out in collection
# order (tests/conftest.py puts the `long` ones first; xdist's default would send the files with
# the most tests first and leave the long ones for the end). TEST_WORKERS=0: one process.
TEST_WORKERS ?= 2
XDIST = $(if $(filter 0,$(TEST_WORKERS)),-p no:xdist,-n $(TEST_WORKERS) --dist loadfile --no-loadscope-reorder)
FUZZ_SECONDS ?= 300
FUZZ_ARGS ?=

.DEFAULT_GOAL := help
.PHONY: help setup demo test test-slow ui studio review serve bench fuzz lint format lock codes-doc docs clean

help: ## Show this help
	@grep -hE '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*?## "}; {printf "  make %-10s %s\n", $$1, $$2}'

# Exactly the locked versions (hash-checked), then the project itself without resolving anything.
$(STAMP): pyproject.toml $(DEV_LOCK)
	@command -v $(PYTHON) >/dev/null || { echo "python3 (3.11+) is required"; exit 2; }
	@$(PYTHON) -c 'import venv, ensurepip' 2>/dev/null || { apt-get update -qq && apt-get install -y -qq python3-venv; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q --require-hashes -r $(DEV_LOCK)
	$(BIN)/python -m pip install -q --no-deps -e .
	touch $(STAMP)

$(NODE_STAMP): bench/khronos/package.json bench/khronos/package-lock.json
	@command -v npm >/dev/null || { apt-get update -qq && apt-get install -y -qq nodejs npm; }
	npm ci --prefix bench/khronos --no-audit --no-fund --loglevel=error
	touch $(NODE_STAMP)

# <model-viewer> for the review page, served by the app itself (no CDN)
$(VIEWER_STAMP): shazam_assets/platform/viewer/package.json shazam_assets/platform/viewer/package-lock.json
	@command -v npm >/dev/null || { apt-get update -qq && apt-get install -y -qq nodejs npm; }
	npm ci --prefix shazam_assets/platform/viewer --no-audit --no-fund --loglevel=error
	touch $(VIEWER_STAMP)

# glTF-Transform, Draco, sharp and the Khronos validator: the publish stage's channel derivatives
$(GLTF_TOOLS_STAMP): shazam_assets/platform/gltf_tools/package.json shazam_assets/platform/gltf_tools/package-lock.json
	@command -v npm >/dev/null || { apt-get update -qq && apt-get install -y -qq nodejs npm; }
	npm ci --prefix shazam_assets/platform/gltf_tools --no-audit --no-fund --loglevel=error
	touch $(GLTF_TOOLS_STAMP)

# Debian's Chromium, for the review page's end-to-end tests (Playwright drives it; it never downloads a browser)
$(CHROMIUM):
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium

$(VULKAN_ICD):
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libvulkan1 mesa-vulkan-drivers libegl1 libusb-1.0-0

$(PG_CTL):
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql openssl

$(PROMTOOL):
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq prometheus

$(WRK):
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk

setup: $(STAMP) $(NODE_STAMP) $(VIEWER_STAMP) $(GLTF_TOOLS_STAMP) $(CHROMIUM) $(VULKAN_ICD) $(PG_CTL) $(PROMTOOL) ## Install everything (venv, Python deps, Khronos validator, model-viewer, glTF tools, Chromium, Vulkan, PostgreSQL, promtool)

demo: setup ## Run the pipeline end to end on the embedded default (local store, SQLite Dagster)
	$(BIN)/shazam demo

test: setup lint ## Set up, lint, and run the default test suite (what CI runs)
	$(BIN)/python -m pytest $(XDIST) $(PYTEST_ARGS)

test-slow: setup ## Run the slow tests too (large archives, 100k-object buckets)
	$(BIN)/python -m pytest $(XDIST) -m 'not gpu' $(PYTEST_ARGS)

ui: setup ## Start the Dagster UI + daemon on the embedded store (http://127.0.0.1:3000)
	$(BIN)/shazam ui

studio: setup ## Serve the studio on the embedded store with a local OpenID provider (http://127.0.0.1:8421)
	$(BIN)/shazam studio --dev-identity-provider

review: setup ## Serve the studio for review on the embedded store (http://127.0.0.1:8421/review, sign in as rita@example.com)
	$(BIN)/shazam review --dev-identity-provider

serve: setup ## Serve the product pages, catalogue and search API on the embedded store (http://127.0.0.1:8422)
	$(BIN)/shazam serve

bench: setup $(WRK) ## Run the benchmarks and print their figures (see docs/benchmarks.md)
	$(BIN)/python bench/run_all.py

fuzz: $(STAMP) ## Fuzz the delivery and glTF validators, FUZZ_SECONDS (300) each; fails naming the crash's input
	FUZZ_SECONDS=$(FUZZ_SECONDS) $(BIN)/python -m tests.fuzz.run $(FUZZ_ARGS)

lint: $(STAMP) ## Check formatting, lint (with the layering's banned imports) and type-check
	$(BIN)/ruff format --check
	$(BIN)/ruff check
	$(BIN)/mypy

format: $(STAMP) ## Format the code and apply ruff's safe fixes
	$(BIN)/ruff format
	$(BIN)/ruff check --fix

lock: $(STAMP) ## Re-resolve requirements*.lock from pyproject.toml, keeping current pins (UPGRADE=1: newest releases)
	$(UV) pip compile pyproject.toml $(LOCK_FLAGS) -o $(LOCK)
	$(UV) pip compile pyproject.toml --extra dev -c $(LOCK) $(LOCK_FLAGS) -o $(DEV_LOCK)

codes-doc: setup ## Regenerate docs/error-codes.md from the code
	$(BIN)/shazam codes --markdown > docs/error-codes.md

docs: codes-doc ## Regenerate every generated part of docs/ (error codes, the store layout table, the CDN's CSP)
	$(BIN)/python -c 'import pathlib, re; from shazam_assets.platform.layout import layout_table_markdown as table; \
	  p = pathlib.Path("docs/architecture.md"); \
	  p.write_text(re.sub(r"(<!-- layout-table:start -->\n).*?(<!-- layout-table:end -->)", lambda m: m[1] + table() + m[2], p.read_text(), flags=re.S))'
	$(BIN)/python -c 'from shazam_assets.publish.server import pages_policy; print(pages_policy("https://$${host_name}"))' \
	  > terraform/modules/cdn/pages_csp.tftpl

clean: ## Remove the embedded store and Dagster home (.shazam/); uploads there are lost
	rm -rf .shazam
