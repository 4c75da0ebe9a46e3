# SHAZAM: `make help` lists the targets. Every target sets up what it needs on a fresh machine.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
NODE_STAMP := bench/khronos/node_modules/.installed
VIEWER_STAMP := shazam_assets/platform/viewer/node_modules/.installed
CHROMIUM := /usr/bin/chromium
# Mesa's Vulkan driver (lavapipe) lets open3d's Filament renderer run headless on a CPU; on GPU
# nodes the NVIDIA container runtime adds the driver's own Vulkan ICD.
VULKAN_ICD := /usr/share/vulkan/icd.d/lvp_icd.x86_64.json
# Debian's PostgreSQL server: the tests run Dagster's production storage on a real one.
PG_CTL := /usr/lib/postgresql/15/bin/pg_ctl
# promtool (Debian's prometheus) checks and unit-tests the alert rules
PROMTOOL := /usr/bin/promtool
PYTEST_ARGS ?=
FUZZ_SECONDS ?= 300
FUZZ_ARGS ?=

.DEFAULT_GOAL := help
.PHONY: help setup demo test test-slow ui review serve bench fuzz lint codes-doc clean

help: ## Show this help
	@grep -hE '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*?## "}; {printf "  make %-10s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "python3 (3.11+) is required"; exit 2; }
	@$(PYTHON) -c 'import venv, ensurepip' 2>/dev/null || { apt-get update -qq && apt-get install -y -qq python3-venv; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
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

# Debian's Chromium, for the review page's end-to-end tests (Playwright drives it; it never downloads a browser)
$(CHROMIUM):
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium

$(VULKAN_ICD):
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libvulkan1 mesa-vulkan-drivers libegl1 libusb-1.0-0

$(PG_CTL):
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql openssl

$(PROMTOOL):
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq prometheus

setup: $(STAMP) $(NODE_STAMP) $(VIEWER_STAMP) $(CHROMIUM) $(VULKAN_ICD) $(PG_CTL) $(PROMTOOL) ## Install everything (venv, Python deps, Khronos validator, model-viewer, Chromium, Vulkan, PostgreSQL, promtool)

demo: setup ## Run the pipeline end to end on the embedded default (local store, SQLite Dagster)
	$(BIN)/shazam demo

test: setup ## Set up and run the default test suite (what CI runs)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

test-slow: setup ## Run the slow tests too (large archives, 100k-object buckets)
	$(BIN)/python -m pytest -m 'not gpu' $(PYTEST_ARGS)

ui: setup ## Start the Dagster UI + daemon on the embedded store (http://127.0.0.1:3000)
	$(BIN)/shazam ui

review: setup ## Serve the QA review page on the embedded store (http://127.0.0.1:8421)
	$(BIN)/shazam review

serve: setup ## Serve the product pages, catalogue and search API on the embedded store (http://127.0.0.1:8422)
	$(BIN)/shazam serve

bench: setup ## Run the benchmarks and print their figures (see docs/benchmarks.md)
	$(BIN)/python bench/run_all.py

fuzz: $(STAMP) ## Fuzz the delivery and glTF validators, FUZZ_SECONDS (300) each; fails naming the crash's input
	FUZZ_SECONDS=$(FUZZ_SECONDS) $(BIN)/python -m tests.fuzz.run $(FUZZ_ARGS)

lint: setup ## Lint and type-check
	$(BIN)/ruff check shazam_assets dagster_project tests bench
	$(BIN)/mypy

codes-doc: setup ## Regenerate docs/error-codes.md from the code
	$(BIN)/shazam codes --markdown > docs/error-codes.md

clean: ## Remove the embedded store and Dagster home (.shazam/); uploads there are lost
	rm -rf .shazam
