# One command to set up and run Sanad, one to run the tests. See README.md.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
SANAD := $(VENV)/bin/sanad
export HF_HUB_OFFLINE := 1

.PHONY: run setup install models browser test test-fast eval bench clean

## make run: set everything up (venv, pinned deps, offline models, sample index) and start the web UI
run: setup
	$(SANAD) serve

## make setup: install and prepare without starting anything (idempotent)
setup: install models

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet torch==2.13.0
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $@

models: install
	$(SANAD) setup

browser:
	bash scripts/install_browser.sh

## make test: everything above plus a headless Chromium, the whole test suite (slow tests included),
## then the evaluation gate (metrics must stay above eval/thresholds.json)
test: setup browser
	$(PY) -m pytest; status=$$?; \
	  if [ $$status -eq 5 ]; then echo "pytest collected no tests: failing" >&2; exit 1; fi; exit $$status
	$(SANAD) eval --suite seeds --answers 20 --check
	$(SANAD) eval --suite xquad --answers 8 --check
	$(SANAD) eval --suite followups --check
	$(SANAD) eval --suite conflicts --check
	$(SANAD) eval --suite timeline --check

## make test-fast: unit tests only (no models needed)
test-fast: install
	$(PY) -m pytest -m "not slow"

## make eval: the full evaluation report (seeds and XQuAD)
eval: setup
	$(SANAD) eval --suite seeds
	$(SANAD) eval --suite xquad --answers 40
	$(SANAD) eval --suite followups --rewrite both --answers 40
	$(SANAD) eval --suite conflicts --answers 30
	$(SANAD) eval --suite timeline

bench: setup
	$(SANAD) bench

clean:
	rm -rf $(VENV) index/v-* index/CURRENT
