# The two commands of the README: `make demo` (the main job) and `make test` (the tests).
# Each does its own set-up, idempotently.  Run as root on a fresh Debian machine.
SHELL := /bin/bash
VENV  := .venv
PY    := $(VENV)/bin/python
export OMP_THREAD_LIMIT := 1
export SE_OFFLINE := true
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export PYTHONPATH := $(CURDIR)/keywords

.PHONY: setup demo test lint unit acceptance libdoc bench evaluate clean

setup: $(VENV)/.installed
	@bash scripts/setup_system.sh

$(VENV)/.installed: requirements.txt pyproject.toml
	@bash scripts/setup_system.sh
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements.txt
	$(PY) -m pip install -q --no-deps --no-build-isolation -e .
	touch $@

demo: setup
	$(VENV)/bin/invoicebot demo

lint: setup
	$(VENV)/bin/ruff check keywords tests scripts

unit: setup
	$(PY) -m pytest -q tests/unit

test: lint unit

bench: setup
	$(VENV)/bin/invoicebot bench

clean:
	rm -rf $(VENV) output
