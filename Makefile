# The course kit's two commands:  make demo  (build the course offline)  and  make test.
# Both create .venv when it is missing (Python 3.11, 3.12 or 3.13), install the pinned lock and
# the helper package (editable), then run.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.dlcourse-installed
# The first of these that runs and is 3.11-3.13 (Colab's default is 3.13): make venv PYTHON_FOR_VENV=python3.13 to choose.
PYTHON_FOR_VENV ?= $(shell for p in python3.11 python3.12 python3.13 python3; do \
	if command -v $$p >/dev/null && $$p -c 'import sys; sys.exit(not (3,11) <= sys.version_info[:2] <= (3,13))' 2>/dev/null; then echo $$p; break; fi; done)
# Tests run in parallel on the machine's cores (2 on the course's reference machine).
PYTEST_WORKERS ?= 2

.PHONY: demo test venv release sysdeps clean help site site-full lock-check

help:
	@echo "make demo   - build the course offline: release, lectures -> build/*.html, autograde reference solutions"
	@echo "make test   - run the test suite (helpers, notebooks in FAST mode, nbgrader round trips)"
	@echo "make release - regenerate assignments/ from solutions/ with nbgrader"
	@echo "make site   - the course website, English and Spanish, in build/site/ (FAST-mode outputs, cached); make site-full: full-mode outputs"
	@echo "make lock-check - resolve requirements-lock.txt (dry run) with every Python 3.11-3.13 found"

venv: $(STAMP)

$(STAMP): requirements-lock.txt shared/pyproject.toml
	@if [ ! -x "$(PY)" ]; then \
	  if [ -z "$(PYTHON_FOR_VENV)" ]; then echo "error: Python 3.11, 3.12 or 3.13 is needed to create $(VENV)" >&2; exit 1; fi; \
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

# The course website (Sphinx + MyST-NB): build/site/index.html offers both editions, build/site/en/
# and build/site/es/ (SITE_ARGS="--language en" builds one). Lectures run once per mode and edition and
# their outputs are cached in build/site-cache/<mode> and <mode>-es (a rebuild runs only changed notebooks).
SITE_ARGS ?=
site: $(STAMP)
	$(PY) -m dlcourse.course site --mode fast $(SITE_ARGS)

site-full: $(STAMP)
	$(PY) -m dlcourse.course site --mode full $(SITE_ARGS)

# The lock must resolve on every supported Python (wheels for each): a dry run, nothing installed.
LOCK_PYTHONS ?= $(wildcard /root/.pyenv/versions/3.1[123].*/bin/python) $(shell command -v python3.11 python3.12 python3.13 2>/dev/null)
lock-check:
	@seen=; for p in $(LOCK_PYTHONS); do $$p -c 'import sys; sys.exit(not (3,11) <= sys.version_info[:2] <= (3,13))' 2>/dev/null || continue; \
	  v=$$($$p -c 'import platform; print(platform.python_version())'); case " $$seen " in *" $$v "*) continue;; esac; seen="$$seen $$v"; \
	  n=$$($$p -m pip install --dry-run --ignore-installed --quiet --report - -r requirements-lock.txt 2>/dev/null \
	       | $$p -c 'import json,sys; r=json.load(sys.stdin)["install"]; s=[i["metadata"]["name"] for i in r if not i["download_info"]["url"].endswith(".whl")]; print(len(r), "packages, sdists:", s or "none"); sys.exit(bool(s))') \
	    && echo "Python $$v: the lock resolves ($$n)" || { echo "Python $$v: the lock does NOT resolve to wheels: $$n" >&2; exit 1; }; done
