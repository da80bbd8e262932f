# Two commands do all the set-up on a fresh machine: `make lab` and `make test`.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(CURDIR)/$(VENV)/bin
STAMPS := .make
LAB_ARGS ?=
CHROMIUM ?= /usr/bin/chromium

export PATH := $(BIN):$(CURDIR)/node_modules/.bin:$(PATH)
export PIP_DISABLE_PIP_VERSION_CHECK := 1
export DEBIAN_FRONTEND := noninteractive

.PHONY: help lab test lint pytest jest ui-test build env test-env chromium clean

help:
	@echo "make lab    create .venv, build, start JupyterLab on examples/ (LAB_ARGS=... passes through)"
	@echo "make test   lint, pytest, jest and the Galata end-to-end tests in headless Chromium"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# npm install from the committed lock file (not `npm ci`: the registry here lacks some of
# rspack's optional per-platform binaries, which `npm ci` then reports as missing from the lock).
node_modules/.package-lock.json: package.json package-lock.json
	npm install --no-audit --no-fund
	@touch $@

# The package (editable) and what the examples need: all `make lab` installs. The hatch build
# hook is skipped: the committed production labextension is used, so the tree stays clean.
# The labextension link `make build` makes is dropped first: pip would write the package's
# shared data through it, into the committed build.
LABEXTENSION_LINK := $(VENV)/share/jupyter/labextensions/clustercraft
$(STAMPS)/env: pyproject.toml $(BIN)/python
	$(BIN)/python -m pip install -q --upgrade pip
	rm -rf $(LABEXTENSION_LINK)
	SKIP_JUPYTER_BUILDER=1 $(BIN)/python -m pip install -q -e ".[examples]"
	@mkdir -p $(STAMPS) && touch $@

# The test and benchmark tools on top, for `make test`.
$(STAMPS)/test-env: $(STAMPS)/env node_modules/.package-lock.json
	rm -rf $(LABEXTENSION_LINK)
	SKIP_JUPYTER_BUILDER=1 $(BIN)/python -m pip install -q -e ".[examples,test,bench]"
	@touch $@

env: $(STAMPS)/env
test-env: $(STAMPS)/test-env

# The production build, committed with the sources (see scripts/labextension_stamp.py); rebuilt
# only when a source differs from what the committed build was made from.
build: env
	@if python scripts/labextension_stamp.py current; then \
		echo "labextension: up to date with the sources"; \
	else \
		$(MAKE) --no-print-directory node_modules/.package-lock.json && \
		npm run build:prod && python scripts/labextension_stamp.py write; \
	fi
	jupyter labextension develop --overwrite . > /dev/null
	jupyter server extension enable clustercraft > /dev/null

lab: build
	cd examples && jupyter lab $(if $(filter 0,$(shell id -u)),--allow-root) $(LAB_ARGS)

chromium:
	@if [ ! -x "$(CHROMIUM)" ]; then \
		echo "installing Debian's chromium"; \
		apt-get update -qq && apt-get install -y -qq chromium > /dev/null; \
	fi

lint: test-env
	ruff check clustercraft bench examples ui-tests scripts
	ruff format --check clustercraft bench examples ui-tests scripts
	npm run lint
	python scripts/labextension_stamp.py check

# The job-queue tests run against a real one-node SLURM (scripts/slurm.sh: installs Debian's
# slurmctld, slurmd, slurm-client and munge when root with apt-get, else says why it is skipped),
# started here and stopped afterwards, also when tests fail; one already running is left so.
# Once SLURM is up, its tests must not skip (CLUSTERCRAFT_REQUIRE_SLURM). The Dask Gateway
# server is a pytest fixture (clustercraft/tests/queues.py).
WITH_SLURM = slurm=0; $(CURDIR)/scripts/slurm.sh start --lease $$$$ || slurm=$$?; \
	if [ $$slurm != 2 ]; then \
		export CLUSTERCRAFT_REQUIRE_SLURM=1; \
		trap '$(CURDIR)/scripts/slurm.sh stop --lease $$$$' EXIT; \
	fi

pytest: test-env
	@$(WITH_SLURM); pytest

jest: test-env
	npm test

# The Galata server offers a SLURM profile while SLURM runs (ui-tests/jupyter_server_test_config.py).
ui-test: test-env build chromium
	@$(WITH_SLURM); cd ui-tests && CHROMIUM=$(CHROMIUM) playwright test

# Every runner runs and prints its summary; any failure fails the whole command.
test: test-env build chromium
	@status=0; \
	for target in lint pytest jest ui-test; do \
		echo "==> make $$target"; \
		$(MAKE) --no-print-directory $$target || { echo "==> make $$target FAILED"; status=1; }; \
	done; \
	exit $$status

# What builds and test runs leave; the committed labextension stays.
clean:
	rm -rf $(STAMPS) lib tsconfig.tsbuildinfo ui-tests/test-results
