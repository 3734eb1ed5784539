# Herald: `make run` to try it, `make test` to check it, `make bench` to measure it.
SHELL := /bin/bash
VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
# The interpreter named by .python-version (pyenv resolves it), else python3.13 on PATH.
BASE_PYTHON ?= $(shell pyenv which python 2>/dev/null || command -v python3.13 || ls $(HOME)/.pyenv/versions/3.13*/bin/python3.13 2>/dev/null | tail -1)
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/herald
HOST ?= 127.0.0.1
PORT ?= 8000
# pytest exits 5 when it collected nothing: that is a failure here, not a pass.
PYTEST = $(PY) -m pytest $(PYTEST_ARGS) $(1); rc=$$?; if [ $$rc -eq 5 ]; then echo "pytest collected no tests"; exit 1; fi; exit $$rc

.PHONY: install run serve test test-sqlite test-postgres test-browser bench lint format clean

$(PY):
	@test -n "$(BASE_PYTHON)" || { echo "Python 3.13 not found: install it (pyenv install 3.13) or set BASE_PYTHON."; exit 1; }
	$(BASE_PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(PY)
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

install: $(VENV)/.installed

run: install
	$(PY) manage.py migrate --noinput -v0
	$(PY) manage.py seed_demo --if-empty
	@echo ""
	@echo "  Herald is at http://$(HOST):$(PORT)/  (sign in as demo / demo; viewer / viewer)"
	@echo "  Admin: http://$(HOST):$(PORT)/admin/  ·  Ctrl-C stops the server and the worker."
	@echo ""
	@trap 'kill 0' EXIT INT TERM; \
	  $(PY) manage.py db_worker --interval 0.2 & \
	  $(PY) manage.py runserver $(HOST):$(PORT) & \
	  wait

# Production-style: gunicorn with WEB_PROCESSES web processes, WORKERS db_worker processes,
# DEBUG off. Needs SECRET_KEY and ALLOWED_HOSTS (Herald refuses to start without them).
WEB_PROCESSES ?= 2
WORKERS ?= 2
serve: install
	@test -n "$$SECRET_KEY" || { echo "make serve: set SECRET_KEY (a long random value)."; exit 1; }
	@test -n "$$ALLOWED_HOSTS" || { echo "make serve: set ALLOWED_HOSTS (e.g. herald.example.com)."; exit 1; }
	DEBUG=0 $(PY) manage.py migrate --noinput -v0
	DEBUG=0 $(PY) manage.py collectstatic --noinput -v0
	@echo "  Herald (production settings) at http://$(HOST):$(PORT)/ with $(WEB_PROCESSES) web processes and $(WORKERS) workers. Ctrl-C stops everything."
	@trap 'kill 0' EXIT INT TERM; \
	  for i in $$(seq $(WORKERS)); do DEBUG=0 $(PY) manage.py db_worker --no-reload --interval 0.2 & done; \
	  DEBUG=0 $(BIN)/gunicorn config.wsgi --workers $(WEB_PROCESSES) --threads 4 --bind $(HOST):$(PORT) --access-logfile - & \
	  wait

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

test: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	@$(MAKE) --no-print-directory test-sqlite
	@$(MAKE) --no-print-directory test-postgres

test-sqlite: install
	@echo "== the suite on SQLite"
	@env -u DATABASE_URL bash -c '$(call PYTEST,-m "not postgres")'

test-postgres: install
	@echo "== the suite on PostgreSQL ($(TEST_DATABASE_URL))"
	@if ! $(PY) -c "import psycopg, sys; psycopg.connect('$(TEST_DATABASE_URL)'.rsplit('/', 1)[0] + '/postgres', connect_timeout=3).close()"; then \
	  if [ -n "$$CI" ] || [ -n "$$REQUIRE_POSTGRES" ]; then \
	    echo "PostgreSQL is unreachable at $(TEST_DATABASE_URL), and CI requires it."; exit 1; \
	  fi; \
	  echo "PostgreSQL is unreachable: skipping the PostgreSQL leg (CI=1 makes this fail)."; exit 0; \
	fi
	@DATABASE_URL="$(TEST_DATABASE_URL)" bash -c '$(call PYTEST,-m "not browser")'

test-browser: install
	@bash -c '$(call PYTEST,-m browser)'

bench: install
	$(PY) manage.py bench

clean:
	rm -rf $(VENV) db.sqlite3* test-db.sqlite3* staticfiles artifacts
