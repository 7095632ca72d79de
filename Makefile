.DEFAULT_GOAL := help
PYTHON ?= python3.11
BIN := .venv/bin
PORT ?= 8000

help:  ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-10s %s\n", $$1, $$2}'

$(BIN)/floorsync: pyproject.toml
	$(PYTHON) -m venv .venv
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $@

install: $(BIN)/floorsync  ## Create the virtualenv and install floorsync with its dev tools

run: $(BIN)/floorsync  ## Migrate the SQLite file, set up the demo tenant with a sample plant, serve API + admin UI on :8000 (PORT=…) with a worker process
	$(BIN)/floorsync db upgrade
	$(BIN)/floorsync demo --sample-data
	@echo "Admin UI: http://127.0.0.1:$(PORT)/admin (sign in with the demo tenant's admin key)"
	@# The worker runs as a process of its own: sharing the API's interpreter lock, deliveries
	@# starve under load (README, Webhook benchmark). It stops with `make run`.
	@$(BIN)/floorsync worker & worker=$$!; trap 'kill $$worker 2>/dev/null; wait $$worker' EXIT INT TERM; \
	$(BIN)/floorsync serve --port $(PORT) --no-worker

# With FLOORSYNC_TEST_DATABASE_URL set, the PostgreSQL run goes side by side with the SQLite one
# (one after the other they took 27 minutes of CI's 30; together about 15). Its output is held
# in a file and printed after SQLite's, so the two reports don't interleave; either failing fails.
test: $(BIN)/floorsync  ## Suite on SQLite and, if FLOORSYNC_TEST_DATABASE_URL is set, on PostgreSQL at the same time
	@if [ -z "$$FLOORSYNC_TEST_DATABASE_URL" ]; then exec $(BIN)/pytest --db=sqlite -q; fi; \
	pg_log=$$(mktemp); trap 'rm -f $$pg_log' EXIT; \
	$(BIN)/pytest --db=postgresql -q >$$pg_log 2>&1 & pg=$$!; \
	echo "=== SQLite (PostgreSQL runs alongside; its report follows) ==="; \
	$(BIN)/pytest --db=sqlite -q; sqlite_rc=$$?; \
	wait $$pg; pg_rc=$$?; \
	echo "=== PostgreSQL ==="; cat $$pg_log; \
	echo "SQLite: exit $$sqlite_rc; PostgreSQL: exit $$pg_rc"; \
	[ $$sqlite_rc -eq 0 ] && [ $$pg_rc -eq 0 ]

lint: $(BIN)/floorsync  ## ruff check and ruff format --check
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

fmt: $(BIN)/floorsync  ## ruff check --fix and ruff format
	$(BIN)/ruff check --fix src tests bench
	$(BIN)/ruff format src tests bench

typecheck: $(BIN)/floorsync  ## mypy --strict
	$(BIN)/mypy

check: lint typecheck test  ## Everything CI runs

.PHONY: help install run test lint fmt typecheck check
