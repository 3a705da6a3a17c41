# The README's two commands: `make demo` (the main job) and `make test` (the tests; CI runs it).
# Each does its own set-up, idempotently.  Run as root on a fresh Debian machine.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
VENV  := .venv
PY    := $(VENV)/bin/python
ROBOT := $(PY) -m robot --pythonpath keywords
MODEL := models/invoice-minilm/model.safetensors
export OMP_THREAD_LIMIT := 1
export SE_OFFLINE := true
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export PYTHONPATH := $(CURDIR)/keywords

.PHONY: setup tryton model demo test lint unit libdoc dryrun acceptance bench fuzz bench-keying bench-queue evaluate-dev clean

## set-up -------------------------------------------------------------------------------------
setup: $(VENV)/.installed
	@bash scripts/setup_system.sh

$(VENV)/.installed: requirements.txt pyproject.toml scripts/setup_system.sh
	@bash scripts/setup_system.sh
	@test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check -r requirements.txt
	$(PY) -m pip install -q --disable-pip-version-check --no-deps --no-build-isolation -e .
	@touch $@

tryton: setup
	@bash scripts/tryton/setup.sh

## the fine-tuned model: built when missing (synthetic corpus + training, about 15 minutes on 2 cores)
model: setup  # built when missing, and again when it no longer loads (built by an older version of the features)
	@$(VENV)/bin/python -c "from invoicebot.model import load_model; load_model('$(dir $(MODEL))', required=True)" \
		2>/dev/null || env -u OMP_THREAD_LIMIT $(VENV)/bin/invoicebot train  # torch on every core; Tesseract on one

## the main job ----------------------------------------------------------------------------------
demo: setup tryton model
	@bash scripts/demo.sh

## the tests -------------------------------------------------------------------------------------
# Unit tests run last so that pytest's closing line ends the output.
test: lint libdoc dryrun acceptance unit

lint: setup
	$(VENV)/bin/ruff check keywords tests scripts
	$(PY) -m invoicebot.vocabulary > /dev/null

libdoc: setup
	@bash scripts/libdoc.sh

dryrun: setup
	RPA_WORKITEMS_ADAPTER=RPA.Robocorp.WorkItems.FileAdapter \
	RPA_INPUT_WORKITEM_PATH=devdata/work-items-in/producer/work-items.json \
	$(ROBOT) --dryrun --rpa --output NONE --report NONE --log NONE robot_tasks tests/acceptance

# The suites start Dovecot and Tryton themselves; Tryton is stopped afterwards, pass or fail.
# Then every output is scanned for secrets and personal identifiers in clear (a finding fails the target).
acceptance: setup tryton
	rc=0; $(ROBOT) --outputdir output/acceptance tests/acceptance || rc=$$?; bash scripts/tryton/stop.sh || true; \
	$(PY) scripts/scan_secrets.py output/acceptance || [ $$rc -ne 0 ] || rc=1; exit $$rc

# The queue's unit tests use the project's PostgreSQL (started here, stopped after; they skip where it is not running).
unit: setup
	bash scripts/postgres.sh start >/dev/null; rc=0; $(PY) -m pytest -q tests/unit || rc=$$?; bash scripts/postgres.sh stop >/dev/null || true; exit $$rc

## measurements ----------------------------------------------------------------------------------
bench: setup
	$(VENV)/bin/invoicebot bench

# hostile inputs (issue 19): 10,000 PDFs, images, zips, mails and XML files, each in its own child process;
# fails on a traceback, a hang, a crash or a peak over 2 GB (results in output/fuzz, `--replay ID` for one)
fuzz: setup
	$(VENV)/bin/invoicebot fuzz --count 10000 --seed 0 --jobs 2 --out output/fuzz -q

bench-keying: setup tryton
	$(PY) scripts/bench_keying.py --count 20

# generated mails -> the real producer -> PostgreSQL queue -> N = 1, 2, 4 real consumers (rules, dry-run keying);
# `make bench-queue MAILS=200` for a shorter run. Starts the project's PostgreSQL (scripts/postgres.sh), leaves it up.
MAILS ?= 1000
bench-queue: setup
	$(PY) scripts/bench_queue.py --mails $(MAILS) --consumers 1 2 4

# `make evaluate-dev EXTRACTOR=rules` for the rule baseline; auto = the model when one is built
EXTRACTOR ?= auto
evaluate-dev: setup
	rm -rf output/dev-pred
	$(VENV)/bin/invoicebot extract ../shared/dev/invoice2data/docs --out output/dev-pred --extractor $(EXTRACTOR) -q || test $$? -eq 3
	$(VENV)/bin/invoicebot evaluate --gt ../shared/dev/invoice2data/canonical --pred output/dev-pred --errors

clean:
	rm -rf $(VENV) output
