# "ViT, step by step": the two commands a reader needs.
#
#   make book   build the HTML book into _build/html
#   make test   run the package tests, the book HTML tests and the notebooks (nbval)
#
# Both create ./.venv on first use (python3.11, else python3) and reinstall the
# pinned requirements only when a requirements file or pyproject.toml changed.
# Helpers (not needed day to day): make venv, make venv-test, make html,
# make pytest, make nbval, make nbval-portable, make vendor, make clean, make help.
#
#   make nbval-portable [NB=notebooks/x.ipynb] [ISA=default|avx2|native]
#       nbval "as another CPU" and "as an installed package": the package is
#       installed non-editable into a temp folder (shadowing the editable
#       install), the notebooks are copied outside the repository, and
#       PyTorch's CPU kernels are limited to ISA (default: ATen's portable
#       kernels, oneDNN <= SSE4.1, MKL <= SSE4.2). See .ci/nbval-portable.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
.DELETE_ON_ERROR:

PYTHON ?= $(shell command -v python3.11 2>/dev/null || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip --disable-pip-version-check
# Stamp files live inside the venv: deleting .venv also forgets them.
STAMP_BOOK := $(VENV)/.stamp-book
STAMP_TEST := $(VENV)/.stamp-test

BUILD_DIR := _build
HTML_INDEX := $(CURDIR)/$(BUILD_DIR)/html/index.html
NBVAL_SANITIZE := tests/nbval_sanitize.cfg
NBVAL_CELL_TIMEOUT ?= 1200
# make nbval-portable: which notebooks (default all) and which instruction set.
NB ?=
ISA ?= default
# The instruction sets `make test` plays, one portable run each.
TEST_ISAS ?= default avx2

# Versions of the vendored front-end files in book/vendor (see `make vendor`).
MATHJAX_VERSION := 3.2.2
REQUIREJS_VERSION := 2.3.8
HTML_MANAGER_VERSION := 1.0.15

.PHONY: help book test venv venv-test html pytest nbval nbval-portable vendor clean
.PHONY: handouts pdf live-test

help:
	@echo "make book   build the book; prints the path of _build/html/index.html"
	@echo "make test   build the book, then run pytest on tests/ and nbval on notebooks/"
	@echo "            (natively, then as an installed package under lower CPU instruction sets)"
	@echo "make nbval-portable [NB=notebooks/x.ipynb] [ISA=default|avx2|native]"
	@echo "make handouts  learner notebooks without solutions, in _build/handouts/"
	@echo "make pdf       the whole book as one PDF, _build/pdf/vit-step-by-step.pdf"
	@echo "make live-test  Restart and Run All in JupyterLab, in headless Chromium (tests/test_live_jupyterlab.py)"

# ---------------------------------------------------------------- user commands

book: $(STAMP_BOOK)
	@$(MAKE) --no-print-directory html

# The book must build (the HTML tests read it). pytest, native nbval and the
# portable nbval runs (one per ISA in TEST_ISAS) then all run even if one
# fails, and `make test` fails if any did. Each stage's time is printed.
test: $(STAMP_TEST)
	@t=$$SECONDS; $(MAKE) --no-print-directory html; times="html $$((SECONDS - t))s"; \
	failed=""; \
	t=$$SECONDS; $(MAKE) --no-print-directory pytest || failed="$$failed pytest"; times="$$times, pytest $$((SECONDS - t))s"; \
	t=$$SECONDS; $(MAKE) --no-print-directory nbval || failed="$$failed nbval"; times="$$times, nbval $$((SECONDS - t))s"; \
	for isa in $(TEST_ISAS); do \
	  t=$$SECONDS; $(MAKE) --no-print-directory nbval-portable ISA=$$isa NB= || failed="$$failed nbval-portable(ISA=$$isa)"; \
	  times="$$times, nbval-portable ISA=$$isa $$((SECONDS - t))s"; \
	done; \
	echo "make test: stage times: $$times"; \
	if [ -n "$$failed" ]; then echo "make test: FAILED:$$failed" >&2; exit 1; fi; \
	echo "make test: all passed"

# ---------------------------------------------------------------- environment

$(PY):
	$(PYTHON) -m venv $(VENV)

$(STAMP_BOOK): requirements.txt pyproject.toml | $(PY)
	$(PIP) install -r requirements.txt
	$(PIP) install -e . --no-deps
	@touch $@

$(STAMP_TEST): $(STAMP_BOOK) requirements-test.txt requirements.txt pyproject.toml
	$(PIP) install -r requirements-test.txt
	@touch $@

venv: $(STAMP_BOOK)
venv-test: $(STAMP_TEST)

# ---------------------------------------------------------------- steps

# Stale pages of a previous build are removed first: the HTML tests scan
# every page under _build/html.
html: $(STAMP_BOOK)
	rm -rf $(BUILD_DIR)/html $(BUILD_DIR)/.doctrees
	$(VENV)/bin/jupyter-book build . -W -n --keep-going
	@echo
	@echo "Book built: $(HTML_INDEX)"

pytest: $(STAMP_TEST)
	$(VENV)/bin/pytest tests

# nbval re-runs every committed notebook and compares the fresh outputs with the
# stored ones. While notebooks/ holds no notebook there is nothing to run: that
# case is detected here explicitly (pytest would otherwise exit 5, "no tests
# collected"); any other outcome of pytest is passed through unchanged.
nbval: $(STAMP_TEST)
	@if [ -z "$$(find notebooks -name '*.ipynb' -not -path '*/.ipynb_checkpoints/*' 2>/dev/null | head -n 1)" ]; then \
	  echo "nbval: no notebooks under notebooks/ yet, nothing to check"; \
	else \
	  set -x; \
	  $(VENV)/bin/pytest --nbval --nbval-current-env \
	    --nbval-cell-timeout=$(NBVAL_CELL_TIMEOUT) \
	    --nbval-sanitize-with $(NBVAL_SANITIZE) notebooks; \
	fi

# nbval again, but as a learner on another machine meets the notebooks: a
# non-editable install (as `pip install <repo>` on Colab), the notebooks run
# from a folder outside the repository, and PyTorch's CPU kernels limited to
# a lower instruction set. NB= one notebook (or several); ISA=default|avx2|native.
nbval-portable: $(STAMP_TEST)
	ISA=$(ISA) PY=$(PY) NBVAL_CELL_TIMEOUT=$(NBVAL_CELL_TIMEOUT) .ci/nbval-portable $(NB)

# ---------------------------------------------------------------- handouts and PDF

# Learner notebooks without solutions and outputs, in _build/handouts/.
handouts: $(STAMP_BOOK)
	$(PY) scripts/make_handouts.py --out $(BUILD_DIR)/handouts

# The whole book as one PDF, _build/pdf/vit-step-by-step.pdf (needs Debian's
# chromium and a CJK font; .ci/run installs chromium and fonts-noto-cjk).
pdf: $(STAMP_BOOK)
	$(PY) scripts/build_pdf.py --force --out $(BUILD_DIR)/pdf/vit-step-by-step.pdf

# ---------------------------------------------------------------- live notebook

# JupyterLab (pinned, default settings, jupyterlab-myst) on 127.0.0.1 driven
# by Debian's chromium: Restart and Run All of one notebook per part of the
# book, then MyST rendering, folded solutions, animations and explorers are
# checked. Screenshots: LIVE_SCREENSHOTS=folder. Skips if chromium is missing.
live-test: $(STAMP_TEST)
	@t=$$SECONDS; VIT_LIVE_TEST=1 $(VENV)/bin/pytest -p no:cacheprovider -rs tests/test_live_jupyterlab.py; \
	echo "make live-test: $$((SECONDS - t))s"

# ---------------------------------------------------------------- maintenance

# Re-create book/vendor from the npm registry (only needed to change versions).
# node_modules is never created: `npm pack` fetches the tarballs only.
vendor:
	@tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; \
	set -x; \
	( cd "$$tmp" && npm pack --silent mathjax@$(MATHJAX_VERSION) requirejs@$(REQUIREJS_VERSION) \
	    @jupyter-widgets/html-manager@$(HTML_MANAGER_VERSION) >/dev/null ); \
	for t in "$$tmp"/*.tgz; do d="$${t%.tgz}"; mkdir -p "$$d"; tar xzf "$$t" -C "$$d"; done; \
	rm -rf book/vendor/mathjax book/vendor/requirejs book/vendor/jupyter-widgets; \
	mkdir -p book/vendor/mathjax/output/chtml/fonts book/vendor/requirejs book/vendor/jupyter-widgets; \
	mj="$$tmp/mathjax-$(MATHJAX_VERSION)/package"; \
	cp "$$mj/es5/tex-chtml-full.js" "$$mj/LICENSE" book/vendor/mathjax/; \
	cp -r "$$mj/es5/output/chtml/fonts/woff-v2" book/vendor/mathjax/output/chtml/fonts/; \
	cp "$$tmp/requirejs-$(REQUIREJS_VERSION)/package/require.js" book/vendor/requirejs/; \
	hm="$$tmp/jupyter-widgets-html-manager-$(HTML_MANAGER_VERSION)/package/dist"; \
	cp "$$hm/embed-amd.js" "$$hm/embed.js.LICENSE.txt" "$$hm"/*.woff2 book/vendor/jupyter-widgets/
	du -sh book/vendor/*

clean:
	rm -rf $(BUILD_DIR)
