# The two commands of the README: `make demo` runs the main job, `make test` runs the tests.
# Both create .venv and install the project (with its dev extras) on first use.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# pytest-xdist workers for the tests that are not CPU-heavy (scripts/run-tests runs the
# CPU-heavy ones beside them, one at a time).
TEST_WORKERS ?= 2

.PHONY: demo test lint fuzz bench bench-files kafka-start kafka-stop clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/comparator demo $(DEMO_ARGS)

# lint first: the style and type checks take seconds and fail before the suite starts
test: lint
	scripts/install-test-tools
	TEST_WORKERS=$(TEST_WORKERS) scripts/run-tests $(PYTEST_ARGS)

fuzz: $(STAMP)
	FUZZ_SECONDS=$(or $(FUZZ_SECONDS),60) fuzz/run

# ruff, then mypy over the package ([tool.mypy] in pyproject.toml; incremental, its cache in
# .mypy_cache)
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy comparator

bench: $(STAMP)
	$(BIN)/python bench/run.py $(BENCH_ARGS)

bench-files: $(STAMP)
	$(BIN)/python bench/file_throughput.py

kafka-start:
	scripts/kafka-local start

kafka-stop:
	scripts/kafka-local stop

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache .hypothesis
