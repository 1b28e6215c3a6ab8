# One command to set up and run Sanad, one to run the tests. See README.md.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
SANAD := $(VENV)/bin/sanad
export HF_HUB_OFFLINE := 1
# The sample index the developer targets (test, eval, bench) build and measure, inside the checkout
# (git-ignored), so they never read or replace the user's own index in ~/.local/share/sanad/index.
SAMPLE_INDEX := $(CURDIR)/index
LINT_PATHS := rag bench tests scripts app.py

.PHONY: run setup install models browser office lint test test-fast eval bench doctor clean

## make run: set everything up (venv, pinned deps, offline models, sample index) and start the web UI
run: setup
	$(SANAD) serve

## make setup: install and prepare without starting anything (idempotent); the index goes to the
## user's data folder (`sanad doctor` shows where), the models to ~/.cache/sanad/models
setup: install models

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet torch==2.13.0
	$(PY) -m pip install --quiet -e '.[dev,scale]'
	touch $@

models: install
	$(SANAD) setup

browser:
	bash scripts/install_browser.sh

## make lint: ruff (lint rules and formatting, configured in pyproject.toml) and mypy on rag/; no network
lint: install
	$(PY) -m ruff check $(LINT_PATHS)
	$(PY) -m ruff format --check $(LINT_PATHS)
	$(PY) -m mypy

## make office: headless LibreOffice Writer and an Arabic font, for the PDF/DOCX round-trip tests
office:
	bash scripts/install_office.sh

## make test: lint first, then everything above plus a headless Chromium and LibreOffice, the whole test suite
## (slow tests included), then the evaluation gate (metrics must stay above eval/thresholds.json) on the sample index
test: export SANAD_INDEX_DIR := $(SAMPLE_INDEX)
test: lint setup browser office
	$(PY) -m pytest; status=$$?; \
	  if [ $$status -eq 5 ]; then echo "pytest collected no tests: failing" >&2; exit 1; fi; exit $$status
	$(SANAD) eval --suite seeds --answers 20 --check
	$(SANAD) eval --suite xquad --answers 8 --evidence 100 --check
	$(SANAD) eval --suite arcd --answers 0 --evidence 100 --check
	$(SANAD) eval --suite followups --check
	$(SANAD) eval --suite conflicts --check
	$(SANAD) eval --suite timeline --check
	$(SANAD) eval --suite injection --answers 4 --check

## make test-fast: unit tests only (no models needed)
test-fast: install
	$(PY) -m pytest -m "not slow"

## make eval: the full evaluation report (seeds, XQuAD and ARCD) on the sample index
eval: export SANAD_INDEX_DIR := $(SAMPLE_INDEX)
eval: setup
	$(SANAD) eval --suite seeds
	$(SANAD) eval --suite xquad --answers 40
	$(SANAD) eval --suite arcd --answers 40
	$(SANAD) eval --suite followups --rewrite both --answers 40
	$(SANAD) eval --suite conflicts --answers 30
	$(SANAD) eval --suite timeline
	$(SANAD) eval --suite injection

## make bench: every bench section on the sample index (`sanad bench --sections startup` for startup alone)
bench: export SANAD_INDEX_DIR := $(SAMPLE_INDEX)
bench: setup
	$(SANAD) bench

## make doctor: what is where, versions, and what is missing
doctor: install
	$(SANAD) doctor

clean:
	rm -rf $(VENV) index/v-* index/CURRENT
