# The course kit's two commands:  make demo  (build the course offline)  and  make test.
# Both create .venv when it is missing (Python 3.11 or 3.12), install the pinned lock and
# the helper package (editable), then run.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.dlcourse-installed
PYTHON_FOR_VENV ?= $(shell for p in python3.11 python3.12 python3; do \
	if command -v $$p >/dev/null && $$p -c 'import sys; sys.exit(not (3,11) <= sys.version_info[:2] <= (3,12))'; then echo $$p; break; fi; done)
# Tests run in parallel on the machine's cores (2 on the course's reference machine).
PYTEST_WORKERS ?= 2

.PHONY: demo test venv release sysdeps clean help

help:
	@echo "make demo   - build the course offline: release, lectures -> build/*.html, autograde reference solutions"
	@echo "make test   - run the test suite (helpers, notebooks in FAST mode, nbgrader round trips)"
	@echo "make release - regenerate assignments/ from solutions/ with nbgrader"

venv: $(STAMP)

$(STAMP): requirements-lock.txt shared/pyproject.toml
	@if [ ! -x "$(PY)" ]; then \
	  if [ -z "$(PYTHON_FOR_VENV)" ]; then echo "error: Python 3.11 or 3.12 is needed to create $(VENV)" >&2; exit 1; fi; \
	  echo "Creating $(VENV) with $(PYTHON_FOR_VENV)"; $(PYTHON_FOR_VENV) -m venv $(VENV); fi
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-lock.txt
	$(PY) -m pip install --quiet --no-deps -e ./shared
	@touch $@

demo: $(STAMP)
	$(PY) -m dlcourse.course demo

# System packages the tests use (bubblewrap for the grading sandbox, a browser for the
# JupyterLab tests): installed when missing and possible (root + apt-get), never fatal.
sysdeps:
	@for f in tools/sysdeps*.sh; do [ -f "$$f" ] && bash "$$f"; done; true

test: $(STAMP) sysdeps
	$(PY) -m pytest -n $(PYTEST_WORKERS) --dist loadgroup tests

release: $(STAMP)
	$(PY) -m dlcourse.course release

clean:
	rm -rf build .pytest_cache

# The Spanish edition (docs/translating.md): merge the English into the catalogs (changed text turns
# fuzzy), write lectures/es/ and assignments/es/ (refuses while a translation is missing or stale), report.
.PHONY: translations
translations: $(STAMP)
	$(PY) -m dlcourse.course i18n extract
	$(PY) -m dlcourse.course i18n build
	$(PY) -m dlcourse.course i18n status
