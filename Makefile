# The two commands of the README: `make demo` runs the main job, `make test` runs the tests.
# Both create .venv and install the project (with its dev extras) on first use.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# pytest-xdist workers for `make test`: the integration tests mostly wait on brokers, workers
# and live traffic, so three share two cores well; each worker starts its own broker. Tests
# marked xdist_group("cpu-heavy") run one after another on one worker.
TEST_WORKERS ?= 3

.PHONY: demo test lint fuzz bench bench-files kafka-start kafka-stop clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/comparator demo $(DEMO_ARGS)

test: $(STAMP)
	scripts/install-test-tools
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/pytest -n $(TEST_WORKERS) --dist loadgroup $(PYTEST_ARGS)

fuzz: $(STAMP)
	FUZZ_SECONDS=$(or $(FUZZ_SECONDS),60) fuzz/run

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

bench: $(STAMP)
	$(BIN)/python bench/run.py $(BENCH_ARGS)

bench-files: $(STAMP)
	$(BIN)/python bench/file_throughput.py

kafka-start:
	scripts/kafka-local start

kafka-stop:
	scripts/kafka-local stop

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis
