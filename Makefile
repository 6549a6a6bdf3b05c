# Two commands for people: `make run` and `make test`. The rest are their parts.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PG_URL ?= postgres://postgres@127.0.0.1:5432/test

.PHONY: run test install lint test-sqlite test-postgres campaign bench messages clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/python scripts/run.py

lint: $(STAMP)
	$(BIN)/ruff check src tests bench scripts
	$(BIN)/ruff format --check src tests bench scripts

# Browser tests run in a process of their own: after the rest of the suite, two of them have failed
# to find elements that are on the page (cause not found yet); alone they pass every time.
test-sqlite: $(STAMP)
	$(BIN)/pytest -m "not postgres and not browser" -p no:cacheprovider
	$(BIN)/pytest -m "browser and not postgres" -p no:cacheprovider

test-postgres: $(STAMP)
	DATABASE_URL=$(PG_URL) $(BIN)/pytest -m postgres -p no:cacheprovider

test: lint test-sqlite test-postgres

# With PostgreSQL reachable the campaign runs on it and restarts it mid-batch; else on SQLite.
campaign: $(STAMP)
	if $(BIN)/python -c "import psycopg; psycopg.connect('$(PG_URL)', connect_timeout=3).close()" 2>/dev/null; \
	then $(BIN)/python bench/campaign.py --postgres; else $(BIN)/python bench/campaign.py; fi

bench: $(STAMP)
	$(BIN)/python bench/run_all.py

messages: $(STAMP)
	$(BIN)/python scripts/messages.py

clean:
	rm -rf $(VENV) var/*.sqlite3
