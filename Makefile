# The two commands of the README: `make bench` and `make test`. Both set up .venv first.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
SUITE ?= configs/suites/synthmotion.py
DATA ?= data/synthmotion

.PHONY: setup data bench test clean

$(VENV)/.installed: pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[test]'
	touch $@

setup: $(VENV)/.installed

data: setup
	$(BIN)/vssl-bench data synthmotion --out $(DATA) --scale default --seed 0

bench: data
	$(BIN)/vssl-bench run $(SUITE)

test: setup
	$(BIN)/python -m pytest -q

clean:
	rm -rf work_dirs .pytest_cache
