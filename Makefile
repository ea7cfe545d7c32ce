# Signal radar. `make run` starts the whole system on embedded defaults (local Kafka + SQLite);
# `make test` installs what the tests need, starts Kafka and PostgreSQL, lints and tests.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell sha256sum pyproject.toml | cut -c1-12)
PYTEST_ARGS ?=

export RADAR_TEST_POSTGRES_URL ?= postgresql://radar:radar@127.0.0.1:54329/radar
export RADAR_KAFKA_BOOTSTRAP ?= 127.0.0.1:9092

.PHONY: install run test lint format kafka-up kafka-down pg-up pg-down contracts clean

install: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	rm -f $(VENV)/.installed-* && touch $@

run: install
	$(BIN)/radar run --broker-script deploy/kafka/kafka.sh

kafka-up: install
	RADAR_PYTHON=$(BIN)/python deploy/kafka/kafka.sh start

kafka-down:
	deploy/kafka/kafka.sh stop

pg-up:
	deploy/postgres/postgres.sh start

pg-down:
	deploy/postgres/postgres.sh stop

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy contracts privacy radar services

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

contracts: install
	$(BIN)/radar contracts export

test: install pg-up kafka-up lint
	$(BIN)/python -m pytest $(PYTEST_ARGS)

clean:
	-deploy/kafka/kafka.sh clean
	-deploy/postgres/postgres.sh clean
	rm -rf .local bench-results .pytest_cache .mypy_cache .ruff_cache .hypothesis
