# mlyard: `make demo` and `make test` each create .venv and install everything they need.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
STAMP := $(VENV)/.installed
TORCH_VERSION := 2.13.0

.PHONY: demo test lint typecheck unit integration e2e bench clean install

$(STAMP): pyproject.toml Makefile
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	# torch pinned first: this takes the CPU build from local disk, not a multi-GB CUDA build
	$(PIP) install -q torch==$(TORCH_VERSION)
	$(PIP) install -q -e '.[torch,bert,ray,dev,bench,postgres]' torch==$(TORCH_VERSION)
	# smclarify (the bias library SageMaker Clarify runs) is the reference of the parity tests
	# and bench/analysis.py; its unpinned requirements would pull a 2019 s3fs over ours
	$(PIP) install -q --no-deps smclarify==0.5 pyfunctional==1.5.0 dill tabulate
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/mlyard demo --ab

lint: $(STAMP)
	$(VENV)/bin/ruff check src tests bench examples
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports --no-cache

test: $(STAMP) lint
	$(PY) -m pytest -q -ra tests

unit: $(STAMP)
	$(PY) -m pytest -q tests/unit

bench: $(STAMP)
	$(PY) bench/blazingtext_vs_fasttext.py
	$(PY) bench/replica_overhead.py
	command -v wrk >/dev/null || apt-get install -y wrk
	$(PY) bench/serving.py
	$(PY) bench/analysis.py
	$(PY) bench/pipeline.py --output bench/results/pipeline.json

clean:
	rm -rf $(VENV) .mlyard .pytest_cache .mypy_cache .ruff_cache
