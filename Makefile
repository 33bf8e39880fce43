# The two commands a newcomer runs: `make demo` and `make test`.
# `make test` runs the suite on SQLite and, through scripts/with-postgres.sh, on a
# throwaway PostgreSQL server (installed with apt-get when missing and root).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/python -m scheduler.demo

lint: $(STAMP)
	$(BIN)/ruff check scheduler channels tests bench
	$(BIN)/mypy

test: $(STAMP) lint
	scripts/install-system-packages.sh
	scripts/with-postgres.sh $(BIN)/pytest

# `make bench` (full size) or `make bench BENCH_ARGS=--quick`; not part of `make test`.
# Apprise, pyinstrument and py-spy (the bench extra) are installed for the benchmarks only, in
# the same single install as the dev extra (so it also stands for $(STAMP)).
BENCH_STAMP := $(VENV)/.installed-bench

$(BENCH_STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev,bench]'
	touch $(STAMP) $(BENCH_STAMP)

# BENCH_T0: when make started (before the installs), for run.py's make_bench_minutes.
BENCH_T0 := $(shell date +%s)

bench: $(BENCH_STAMP)
	scripts/install-system-packages.sh --bench
	HERALD_BENCH_T0=$(BENCH_T0) scripts/with-postgres.sh --durable \
		$(BIN)/python bench/run.py $(BENCH_ARGS)

clean:
	rm -rf var .pytest_cache .mypy_cache .ruff_cache
