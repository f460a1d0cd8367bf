# Two commands on a fresh machine: `make demo` and `make test` (README).
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
TOOLS := .tools
UV := $(TOOLS)/bin/uv
export UV_PYTHON_DOWNLOADS := never
export UV_LINK_MODE := copy
# Compile .pyc at install: with PYTHONDONTWRITEBYTECODE set (as on this machine) every run would
# otherwise recompile dagster, dbt and great_expectations from source (~7 s of CPU a run).
export UV_COMPILE_BYTECODE := 1
DEMO_LANDING := data/landing
DEMO_WAREHOUSE := data/warehouse
DEMO_ENTERPRISES ?= 500

.PHONY: demo test env dev bench clean browser

# The environment: uv (pinned, from the package registry) in its own small venv, then
# `uv sync` installs exactly the lock into .venv with the machine's Python 3.11.
$(UV):
	@command -v $(PYTHON) >/dev/null || { echo "need $(PYTHON) on PATH"; exit 2; }
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/python -m pip install --quiet --disable-pip-version-check uv==0.13.8

$(BIN)/hzcarbon: pyproject.toml uv.lock $(UV)
	$(UV) sync --frozen --extra test --python $$(command -v $(PYTHON)) --quiet
	$(BIN)/python -m warehouse.dbt_plan prepare
	@touch $@

env: $(BIN)/hzcarbon

# A second `make demo` keeps the landing it generated (the run then says nothing is new); `make
# clean` starts over.
demo: env
	@if [ -d $(DEMO_LANDING)/energy_reports ]; then echo "make demo: reusing the landing in $(DEMO_LANDING) (make clean to start over)"; \
	else $(BIN)/hzcarbon generate --out $(DEMO_LANDING) --enterprises $(DEMO_ENTERPRISES) --years 2020-2025 --seed 1 --messy; fi
	@echo "make demo: the release is approved by the named account 'demo' (--auto-approve-by demo);"
	@echo "           without it a run leaves a candidate for '$(BIN)/hzcarbon release approve ID --by NAME'"
	$(BIN)/hzcarbon run --landing $(DEMO_LANDING) --warehouse $(DEMO_WAREHOUSE) --auto-approve-by demo

test: env browser
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -n 2 -q

# The portal's browser tests drive Debian's chromium (never a downloaded browser build); the
# CJK fonts make Chinese labels render in screenshots.
browser:
	@if [ ! -x /usr/bin/chromium ] || ! fc-list 2>/dev/null | grep -qi "Noto Sans CJK"; then \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk >/dev/null; fi

# dagster dev ignores SIGTERM when started with SIGINT ignored (as background jobs are); restore
# the default handler before exec so that `kill -TERM` stops it (bash cannot reset an ignored signal).
dev: env
	mkdir -p $(DEMO_WAREHOUSE)/dagster_home
	DAGSTER_HOME=$(CURDIR)/$(DEMO_WAREHOUSE)/dagster_home HZCARBON_LANDING=$(CURDIR)/$(DEMO_LANDING) HZCARBON_WAREHOUSE=$(CURDIR)/$(DEMO_WAREHOUSE) \
	  $(BIN)/python -c 'import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_DFL); os.execv(sys.argv[1], sys.argv[1:])' \
	  $(BIN)/dagster dev -m orchestration.definitions -h 127.0.0.1 -p 3000

bench: env
	$(BIN)/python bench/run_bench.py

clean:
	rm -rf data dbt_project/target dbt_project/logs
