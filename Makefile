# The two commands of the README: `make bench` and `make test`. Both set up .venv first.
# `make bench` writes its records into bench_results/<suite> (git-ignored, the default --out of
# `vssl-bench run`), never into the committed results/, which `make test` reads: the two pass in
# either order and leave the clone clean.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
SUITE ?= configs/suites/synthmotion.py
DATA ?= data/synthmotion

.PHONY: setup data bench test clean clean-all ci ci-reference faults gpu-check throughput

# TORCH_INDEX: install torch and torchvision (at the pinned versions) from another index first,
# e.g. `make setup TORCH_INDEX=https://download.pytorch.org/whl/cpu` for a CPU-only build, about
# 4 GB smaller than PyPI's x86_64 wheels, which bring CUDA (docs/guide.md, "Disk").
TORCH_INDEX ?=

$(VENV)/.installed: pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
ifneq ($(TORCH_INDEX),)
	$(BIN)/pip install --quiet --disable-pip-version-check -c constraints.txt \
		--index-url $(TORCH_INDEX) torch torchvision
endif
	$(BIN)/pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[test]'
	touch $@

setup: $(VENV)/.installed

data: setup
	$(BIN)/vssl-bench data synthmotion --out $(DATA) --scale default --seed 0

bench: data
	$(BIN)/vssl-bench run $(SUITE)

test: setup
	$(BIN)/python -m pytest -q -m 'not slow'

# CI accuracy regression (results/reference/README.md). `make ci`: the CI suite (every method and
# protocol) with seed 0 into a fresh results folder and work dir, `vssl-bench check` against its
# reference; the ci_regression suite (Supervised trained long enough to leave chance) and the
# slow test that it passes its check while a broken Supervised (shuffled labels) fails it, and
# the slow kill-and-resume tests of the other methods (tests/test_resume.py, and the in-process
# loader's CVRL pretraining, tests/test_in_process_loader.py); a
# smoke run of every suite config (configs/suites and configs/paper) end to end; a short fault
# injection run (3 kills, see `make faults`).
CI_SUITE := configs/suites/ci.py
CI_REFERENCE := results/reference/ci.json
CI_REG_SUITE := configs/suites/ci_regression.py
CI_REG_REFERENCE := results/reference/ci_regression.json
CI_OUT ?= ci_results
CI_WORK ?= work_dirs/ci
CI_REF_SEEDS ?= 0,1,2
CI_REF_DIR ?= work_dirs/ci_reference
# Tolerance = max(k * std over seeds and machines, floor): see results/reference/README.md
# for the choice.
CI_K ?= 3
CI_FLOOR ?= 2
# CI_REF_ADD=1: pool the new runs with the per-seed values already in the references (measured
# on another machine class), so the tolerances cover both machines; 0 replaces them.
CI_REF_ADD ?= 0
ci_ref_pool = $(if $(filter 1,$(CI_REF_ADD)),$(1))
# CI_REF_REPLACE=linear (protocols, comma-separated): after a new version of those protocols,
# rebuild only their cells from the new runs and keep every other cell and source.
CI_REF_REPLACE ?=
ci_ref_replace = $(if $(CI_REF_REPLACE),--replace-protocols $(CI_REF_REPLACE))

# Both CI targets train in float32 (VSSL_FLOAT32, vssl_bench/core/precision.py), as the references
# were made, also where bfloat16 is native. Float32 kernels still differ between CPU classes,
# so the references pool runs of every machine class CI has run on (results/reference/README.md).
ci ci-reference: export VSSL_FLOAT32 = 1

ci: setup
	rm -rf $(CI_OUT) $(CI_WORK)
	$(BIN)/vssl-bench run $(CI_SUITE) --seeds 0 --out $(CI_OUT)/ci --work-dir $(CI_WORK)
	$(BIN)/vssl-bench check $(CI_OUT)/ci --reference $(CI_REFERENCE)
	$(BIN)/vssl-bench run $(CI_REG_SUITE) --seeds 0 --out $(CI_OUT)/ci_regression --work-dir $(CI_WORK)
	VSSL_CI_RESULTS=$(CI_OUT)/ci_regression $(BIN)/python -m pytest -q -m slow tests/test_ci_regression.py tests/test_resume.py tests/test_in_process_loader.py
	VSSL_SMOKE_ALL=1 $(BIN)/python -m pytest -q tests/test_smoke.py -k every_suite
	$(BIN)/python -m tools.faults $(FAULTS_SUITE) --kills 3 --methods VCOP,RandomInit --dir $(CI_WORK)/faults

# Fault injection (tools/faults.py): an uninterrupted run of the tiny suite, then the same
# run killed (kill -9) FAULT_KILLS times at random moments and rerun; every record must equal the
# uninterrupted run's, with no temp file, lock, checkpoint or process left. `make ci` runs 3 kills.
FAULTS_SUITE ?= configs/suites/tiny.py
FAULT_KILLS ?= 20
FAULT_SEED ?= 0

faults: setup
	$(BIN)/python -m tools.faults $(FAULTS_SUITE) --kills $(FAULT_KILLS) --seed $(FAULT_SEED) --dir work_dirs/faults

ci-reference: setup
	rm -rf $(CI_REF_DIR)
	$(BIN)/vssl-bench run $(CI_SUITE) --seeds $(CI_REF_SEEDS) --out $(CI_REF_DIR)/ci --work-dir $(CI_REF_DIR)/work
	$(BIN)/vssl-bench check $(call ci_ref_pool,$(CI_REFERENCE)) $(CI_REF_DIR)/ci --write-reference --reference $(CI_REFERENCE) --k $(CI_K) --floor $(CI_FLOOR) $(ci_ref_replace)
	$(BIN)/vssl-bench run $(CI_REG_SUITE) --seeds $(CI_REF_SEEDS) --out $(CI_REF_DIR)/ci_regression --work-dir $(CI_REF_DIR)/work
	$(BIN)/vssl-bench check $(call ci_ref_pool,$(CI_REG_REFERENCE)) $(CI_REF_DIR)/ci_regression --write-reference --reference $(CI_REG_REFERENCE) --k $(CI_K) --floor $(CI_FLOOR) $(ci_ref_replace)

# Loader and step throughput (results/throughput/loader.{json,md,log}; minutes on a CPU).
throughput: setup
	$(BIN)/python -m tools.throughput loader

# On a machine lent one CUDA device: the checks of tools/throughput/gpu_check.py, under 10
# minutes, into results/throughput/gpu.md. Without CUDA it stops with one line.
gpu-check: setup
	$(BIN)/python -m tools.throughput.gpu_check

# `make clean` keeps trained weights, stats and records (resumable checkpoints, temp files of
# killed runs and stale frame caches go); `make clean-all` also drops the work dirs (weights,
# checkpoints, logs, feature cache) and the frame cache. Both are refused while a run uses
# work_dirs (`vssl-bench clean` checks its lock, vssl_bench/core/lock.py). Neither touches the videos,
# .venv, your records in bench_results/ or the committed results/.
clean:
	if [ -x $(BIN)/vssl-bench ]; then $(BIN)/vssl-bench clean --work-dir work_dirs --data-root $(DATA); fi
	rm -rf .pytest_cache $(CI_OUT)

clean-all:
	if [ -x $(BIN)/vssl-bench ]; then $(BIN)/vssl-bench clean --work-dir work_dirs --data-root $(DATA) --weights --features --frames > /dev/null; fi
	rm -rf work_dirs .pytest_cache $(CI_OUT) $(DATA)/.frame_cache
	@echo "removed work_dirs/ (trained weights, checkpoints, logs, feature cache), $(CI_OUT)/, .pytest_cache and $(DATA)/.frame_cache; kept the videos in $(DATA), .venv, bench_results/ (your records) and results/ (committed)"
