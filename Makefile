# shopseg: 13-axis customer segmentation inside PostgreSQL, as a dbt project.
# Every target sets up what it needs (scripts/setup.sh is idempotent and quick when done).
SHELL := /bin/bash
.DEFAULT_GOAL := help
CUSTOMERS ?= 10000
SEED ?= 42

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

setup:  ## install packages, create .venv, start the project-local PostgreSQL, write profiles.yml
	@scripts/setup.sh

demo: setup  ## generate demo data (CUSTOMERS=10000), dbt build, print a summary
	@scripts/demo.sh $(CUSTOMERS) $(SEED)

test: setup  ## ruff, sqlfluff lint, dbt build into a fresh database, pytest
	@scripts/test.sh

lint: setup  ## ruff (Python) and sqlfluff (SQL; compiles against the demo database) lint only
	@scripts/ruff.sh
	@scripts/run.sh sqlfluff lint models analyses snapshots

bench: setup  ## seed-scale benchmark: full/incremental dbt build vs a client-side Python pipeline
	@scripts/run.sh python -m shopseg.bench $(BENCH_ARGS)

report: setup  ## render the HTML segment report of the demo database to report/out/
	@scripts/run.sh python -m shopseg.report $(REPORT_ARGS)

daily: setup  ## the daily job: incremental build, reference date pinned, no rediscovery
	@scripts/daily.sh

monthly: setup  ## the monthly job: rediscover (new centroid version), full rebuild
	@scripts/monthly.sh

docs: setup  ## dbt docs generate (target/index.html)
	@scripts/run.sh dbt docs generate

serve: setup  ## HTTP API on 127.0.0.1:8000 (read-only, BI role; SERVE_ARGS="--port 8080"), docs at /docs
	@scripts/serve.sh api $(SERVE_ARGS)

mcp: setup  ## MCP server on stdio for AI assistants (MCP_ARGS="--transport streamable-http")
	@scripts/serve.sh mcp $(MCP_ARGS)

psql: setup  ## a psql shell on the demo database
	@scripts/run.sh psql

dsn: setup  ## print the libpq connection URL of the demo database
	@source scripts/env.sh && dsn

stop:  ## stop the project-local PostgreSQL
	@scripts/stop.sh

.PHONY: help setup demo test lint bench report daily monthly docs serve mcp psql dsn stop
