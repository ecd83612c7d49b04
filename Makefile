# feature-cost: the two commands of the README are `make demo` and `make test`.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
DBT := $(BIN)/dbt
export DBT_PROFILES_DIR := $(CURDIR)
# The build file of build/demo/summary/report; publish writes only FEATURE_COST_PUBLISHED.
export FEATURE_COST_DUCKDB ?= data/feature_cost.duckdb
FEATURE_COST_PUBLISHED ?= data/published/feature_cost.duckdb
PUBLISH_ARGS ?=
# The seeds dbt reads: FEATURE_COST_SEEDS (the folder `feature-cost init` wrote for your own
# traces), else the demo's, which `make data` writes for the demo's days, else seeds/ (the
# demo's reference values). Expanded when a recipe runs, so after `make data` in `make demo`.
SEEDS = $(or $(strip $(FEATURE_COST_SEEDS)),$(if $(wildcard data/demo/seeds/*.csv),data/demo/seeds,seeds))
WITH_SEEDS = FEATURE_COST_SEEDS=$(SEEDS)
DEMO_DAYS ?= 7
DEMO_REQUESTS ?= 1500
BUILD_ARGS ?=

.PHONY: help install demo data build summary lint test pytest clean freshness publish docs docs-serve report check-bigquery bench

help:  ## list the targets
	@grep -E '^[a-z-]+:.*##' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-16s %s\n", $$1, $$2}'

# uv (pinned) installs the pinned set in seconds; where it cannot (an index only pip is
# configured for, say), pip installs the same set. Both compile the packages to bytecode at
# install (uv only when asked): where PYTHONDONTWRITEBYTECODE is set, Python would otherwise
# compile dbt again in every process that imports it (measured: 3.7 s -> 1.6 s a dbt start).
UV_VERSION := 0.13.9
$(VENV)/.installed: pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	if $(BIN)/pip install --quiet uv==$(UV_VERSION) \
		&& $(BIN)/uv pip install --quiet --compile-bytecode --python $(BIN)/python -c constraints.txt -e '.[dev]'; then :; \
	else \
		echo "install: uv could not install the toolchain; installing with pip" >&2; \
		$(BIN)/pip install --quiet --upgrade pip; \
		$(BIN)/pip install --quiet -c constraints.txt -e '.[dev]'; \
	fi
	touch $@

install: $(VENV)/.installed  ## create .venv with the pinned toolchain
	@mkdir -p $(dir $(FEATURE_COST_DUCKDB))

data: install  ## generate the demo telemetry under data/demo
	$(BIN)/feature-cost generate --out data/demo --days $(DEMO_DAYS) --requests-per-day $(DEMO_REQUESTS)

build: install  ## dbt build (seeds, models, tests) into FEATURE_COST_DUCKDB, never the published file
	@if [ "$(abspath $(FEATURE_COST_DUCKDB))" = "$(abspath $(FEATURE_COST_PUBLISHED))" ]; then \
		echo "make build: FEATURE_COST_DUCKDB is the published file; BI tools read it: use make publish" >&2; \
		exit 2; \
	fi
	@if [ ! -d "$(SEEDS)" ]; then \
		echo "make build: no seeds at $(SEEDS): run make data (the demo), or feature-cost init for your own traces and set FEATURE_COST_SEEDS" >&2; \
		exit 2; \
	fi
	$(WITH_SEEDS) $(DBT) build --fail-fast $(BUILD_ARGS)

summary: install  ## print a short summary of feature_cost_margin
	$(BIN)/feature-cost summary --duckdb $(FEATURE_COST_DUCKDB)

report: install  ## write the static HTML report (reports/feature_cost_report.html)
	$(BIN)/feature-cost report --duckdb $(FEATURE_COST_DUCKDB) --out reports/feature_cost_report.html

# `make data` writes the demo for the days ending yesterday: the demo's build starts afresh
# (--full-refresh) rather than adding those days to an earlier demo's (the same trace ids).
# The demo builds its own seeds into its own file, whatever FEATURE_COST_SEEDS and
# FEATURE_COST_DUCKDB name for your traces.
demo: BUILD_ARGS = --full-refresh
demo: override SEEDS = data/demo/seeds
demo: override FEATURE_COST_DUCKDB = data/feature_cost.duckdb
demo: data build summary report  ## install, generate demo telemetry, build on DuckDB, show the result

freshness: install  ## warn (or fail) when spans, revenue or the bill stopped arriving
	$(WITH_SEEDS) $(DBT) source freshness

docs: install  ## generate the dbt documentation site (models, columns, lineage) into target/
	$(WITH_SEEDS) $(DBT) docs generate

docs-serve: docs  ## generate, then serve the documentation site on localhost (blocks until stopped)
	$(WITH_SEEDS) $(DBT) docs serve

publish: install  ## scheduled run: freshness, incremental build, atomic publish to FEATURE_COST_PUBLISHED (PUBLISH_ARGS)
	$(WITH_SEEDS) $(BIN)/feature-cost publish --duckdb $(FEATURE_COST_PUBLISHED) $(PUBLISH_ARGS)

# mypy (one core) runs beside sqlfluff, whose dbt templater compiles the project on one core
# before it lints on every core; its output follows sqlfluff's, and both must pass. The
# templater loads DuckDB's Python module, which lists the objects still alive when the
# interpreter exits (nanobind's leak report) on stderr: that noise, and only it, is dropped.
NANOBIND_EXIT_NOISE := ^nanobind: |^ - leaked |^ - \.\.\. skipped remainder$$|^See https://nanobind
lint: install  ## ruff, mypy and sqlfluff (dbt templater)
	$(BIN)/ruff check src pytests bench tools
	$(BIN)/ruff format --check src pytests bench tools
	@echo "$(BIN)/mypy & $(BIN)/sqlfluff lint --processes 0 models tests analyses"; \
	mypy_out=$$(mktemp); $(BIN)/mypy > "$$mypy_out" 2>&1 & mypy_pid=$$!; \
	trap 'kill $$mypy_pid 2>/dev/null || true; rm -f "$$mypy_out"' EXIT; \
	sql=0; $(BIN)/sqlfluff lint --processes 0 models tests analyses \
		2> >(grep -v -E '$(NANOBIND_EXIT_NOISE)' >&2) || sql=$$?; \
	py=0; wait $$mypy_pid || py=$$?; \
	cat "$$mypy_out"; \
	exit $$(( sql != 0 || py != 0 ))

check-bigquery: install  ## compile for BigQuery offline; analyze every model with GoogleSQL (BQ_CHECK_KEEP=dir keeps it)
	$(BIN)/python tools/bigquery_check.py $(if $(BQ_CHECK_KEEP),--keep $(BQ_CHECK_KEEP))

BENCH_SPANS ?= 1000000
BENCH_REPEATS ?= 3
BENCH_HISTORY_DAYS ?= 7 90
BENCH_SPANS_PER_DAY ?= 20000
BENCH_ONLY ?=
BENCH_FORMATS ?= both
BENCH_MEMORY_LIMIT ?= 4GB
bench: install  ## benchmark builds against the floor query, and the daily run after 7 and 90 days (BENCH_*)
	$(BIN)/python bench/run_benchmark.py --spans $(BENCH_SPANS) --repeats $(BENCH_REPEATS) \
		--history-days $(BENCH_HISTORY_DAYS) --spans-per-day $(BENCH_SPANS_PER_DAY) \
		--formats $(BENCH_FORMATS) --memory-limit $(BENCH_MEMORY_LIMIT) \
		$(if $(BENCH_ONLY),--only $(BENCH_ONLY)) --out reports/benchmark.md

# One pytest worker per core; a module's tests stay on one worker (they share its fixtures),
# the longest modules first (pytests/conftest.py orders them; xdist keeps that order).
PYTEST_ARGS ?= -n auto --dist loadscope --no-loadscope-reorder
pytest: install  ## the pytest suite: dbt build (unit and data tests), the BigQuery check, end to end
	$(BIN)/pytest $(PYTEST_ARGS)

# pytest builds its own demo with every dbt unit and data test, and compiles and analyses the
# project for BigQuery: `make build` and `make check-bigquery` would do the same work again.
# lint and pytest run side by side: the suite's workers take the core lint leaves idle while
# sqlfluff's dbt templater compiles on one. Each prints its output whole when it ends (lint's
# first), and `make test` fails if either does; TEST_JOBS=1 runs lint, then pytest. When make
# started: `make test` says how long the whole of it took.
TEST_JOBS ?= 2
STARTED := $(shell date +%s)
test: install  ## install, lint, build, all tests
	@$(MAKE) --no-print-directory -j$(TEST_JOBS) --output-sync=target lint pytest
	@echo "make test: passed in $$(( $$(date +%s) - $(STARTED) )) s"

clean:  ## remove build output and generated data (keeps .venv and the published file BI tools read)
	rm -rf target logs dbt_packages data/demo data/bench
	@if [ "$(abspath $(FEATURE_COST_DUCKDB))" != "$(abspath $(FEATURE_COST_PUBLISHED))" ]; then \
		rm -f $(FEATURE_COST_DUCKDB) $(FEATURE_COST_DUCKDB).wal; \
	fi
