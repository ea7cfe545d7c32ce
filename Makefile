# Signal radar. `make run` starts the whole system on embedded defaults (local Kafka + SQLite);
# `make test` installs what the tests need, starts Kafka and PostgreSQL, lints and tests;
# `make test-unit` runs only the fast tests that need none of them.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell sha256sum pyproject.toml | cut -c1-12)
PYTEST_ARGS ?=
# Two pytest workers (one per core): most tests wait on Kafka, PostgreSQL or a child process,
# and every test has its own topic, database and data directory. `make chaos` stays serial.
TEST_WORKERS ?= 2
BENCH_SCALE ?= small

# The OpenAPI client generator lives in a venv of its own: it pins typer below the radar's.
GENERATOR_VENV := .local/tools/openapi-python-client
export RADAR_OPENAPI_CLIENT_GENERATOR ?= $(CURDIR)/$(GENERATOR_VENV)/bin/openapi-python-client

export RADAR_TEST_POSTGRES_URL ?= postgresql://radar:radar@127.0.0.1:54329/radar
export RADAR_KAFKA_BOOTSTRAP ?= 127.0.0.1:9092

.PHONY: install run test test-unit chaos chaos-cluster cluster cluster-down lint format kafka-up kafka-down pg-up pg-down contracts clean bench evaluate browser

install: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	rm -f $(VENV)/.installed-* && touch $@

$(RADAR_OPENAPI_CLIENT_GENERATOR):
	$(PYTHON) -m venv $(GENERATOR_VENV)
	$(GENERATOR_VENV)/bin/pip install --quiet openapi-python-client==0.29.1

# The pages' development sign-in (synthetic users) is for make run only: off by default; so are
# webhooks to this machine, trusting the CA of `radar webhooks receive` (README, Webhooks).
run: install
	RADAR_PAGES_DEV_SIGN_IN=$${RADAR_PAGES_DEV_SIGN_IN:-true} \
	RADAR_WEBHOOKS_ALLOW_LOOPBACK=$${RADAR_WEBHOOKS_ALLOW_LOOPBACK:-true} \
	RADAR_WEBHOOKS_CA_BUNDLE=$${RADAR_WEBHOOKS_CA_BUNDLE:-$(CURDIR)/.local/webhook-receiver/ca.pem} \
	$(BIN)/radar run --broker-script deploy/kafka/kafka.sh

kafka-up: install
	RADAR_PYTHON=$(BIN)/python deploy/kafka/kafka.sh start

kafka-down:
	deploy/kafka/kafka.sh stop

pg-up:
	deploy/postgres/postgres.sh start

# Debian's chromium and chromium-driver (apt-get when missing) and axe-core (npm, .local/axe)
# for the page tests in tests/browser; screenshots go to test-results/screenshots/.
browser:
	deploy/browser/browser.sh install

pg-down:
	deploy/postgres/postgres.sh stop

# ruff, mypy, the rooms' rules (the import-linter contracts in pyproject.toml), the contracts'
# compatibility rule (a v2 schema change that would break a v2 publisher fails: contracts/
# compatibility.py), promtool on the alert rules and scrape config (deploy/monitoring/), and the
# Kubernetes manifests offline against Kubernetes' schemas and the operators' CRDs (deploy/k8s/).
lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy contracts privacy radar services bench publisher_sdk testkit deploy/k8s/validate.py
	$(BIN)/lint-imports
	$(BIN)/python -m contracts.compatibility check
	deploy/monitoring/promtool.sh check
	$(BIN)/python deploy/k8s/validate.py

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

contracts: install
	$(BIN)/radar contracts export

test: install $(RADAR_OPENAPI_CLIENT_GENERATOR) pg-up kafka-up browser lint
	$(BIN)/python -m pytest -m "not chaos" -n $(TEST_WORKERS) --dist loadfile --durations=15 $(PYTEST_ARGS)

# The fast tests of pure code (tests/unit): no broker, no database, no process; seconds.
test-unit: install
	$(BIN)/python -m pytest tests/unit $(PYTEST_ARGS)

# Fault injection, load and hostile input (issue 8); prints a report of each fault and check,
# and the slowest tests' durations (the suite has a CI budget: .ci/run must stay within 30 min).
chaos: install pg-up kafka-up
	$(BIN)/python -m pytest tests/chaos -m chaos --durations=25 $(PYTEST_ARGS)

# The cluster shape on this machine (issue 20; README, "The cluster shape"): three Kafka brokers
# and HAProxy (deploy/cluster/cluster.sh), PostgreSQL (database radar_cluster, data dir
# .local/cluster/radar: apart from make run's), and radar run with two of each process, every
# API process on its own port behind the proxy on 8081/8082. Ctrl-C stops the radar's processes;
# make cluster-down the brokers and the proxy.
CLUSTER_ENV = RADAR_KAFKA_BOOTSTRAP=$$(deploy/cluster/cluster.sh bootstrap) \
	RADAR_SIGNALS_REPLICATION_FACTOR=3 RADAR_SIGNALS_MIN_INSYNC_REPLICAS=2 \
	RADAR_DATABASE_URL=postgresql://radar:radar@127.0.0.1:54329/radar_cluster \
	RADAR_DATA_DIR=.local/cluster/radar RADAR_API_PORTS=own \
	RADAR_INGEST_PORT=18081 RADAR_QUERY_PORT=18082 RADAR_INGEST_PROCESSES=2 \
	RADAR_QUERY_PROCESSES=2 RADAR_AGGREGATORS=2 RADAR_PROJECTORS=2

cluster: install
	RADAR_PG_DATABASES=radar_cluster deploy/postgres/postgres.sh start
	RADAR_PYTHON=$(BIN)/python deploy/cluster/cluster.sh start
	deploy/cluster/cluster.sh proxy-start
	$(CLUSTER_ENV) RADAR_PAGES_DEV_SIGN_IN=$${RADAR_PAGES_DEV_SIGN_IN:-true} $(BIN)/radar run

cluster-down:
	deploy/cluster/cluster.sh stop

# The faults of issue 20 alone, on three brokers and HAProxy (deploy/cluster/cluster.sh); make
# chaos runs them too. RADAR_CHAOS_BROKER_OUTAGE_SECONDS=300 gives the five-minute broker loss.
chaos-cluster: install pg-up
	$(BIN)/python -m pytest tests/chaos -m cluster --durations=10 $(PYTEST_ARGS)

clean:
	-deploy/kafka/kafka.sh clean
	-deploy/postgres/postgres.sh clean
	rm -rf .local bench-results .pytest_cache .mypy_cache .ruff_cache .hypothesis .import_linter_cache

# Benchmarks against raw baselines (issue 7): BENCH_SCALE=small (default, < 10 min) or large.
bench: install pg-up kafka-up
	$(BIN)/python -m bench --scale $(BENCH_SCALE)

# The radar's own yardstick (issue 23): a synthetic world through the real pipeline, per risk-model
# version and seed; prints the table, writes it and the plots under yardstick-results/.
EVALUATE_SEEDS ?= 3
evaluate: install kafka-up
	$(BIN)/radar evaluate --seeds $(EVALUATE_SEEDS) --out yardstick-results
