# The two quick-start commands: `make plan` and `make test`. Each sets up ./venv when needed.
STACK ?= dev
PYTHON ?= python3
VENV := venv
PY := $(VENV)/bin/python
# pip byte-compiles every module it installs, one at a time (pulumi_aws alone has 3,100; a
# stack imports about 800 of them): `make test` lets each process that imports a module first
# write its compiled form instead (PYTHONDONTWRITEBYTECODE emptied), so only what runs is compiled.
PIP := $(PY) -m pip install --quiet --disable-pip-version-check --no-compile
# A venv starts with the pip its Python bundles (3.11's: 23.2): a current pip resolves the dev set
# in half the time (the old one checks every wheel of every release's tags: 15 s of CPU here).
NEW_PIP := "pip>=25,<27"
SCAN_VENV := venv-scan

.PHONY: plan test policy scan bench sim replay docs demo clean

$(VENV)/.runtime: requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) $(NEW_PIP)
	$(PIP) -r requirements.txt
	touch $@

# The client's package goes in editable, without its dependencies (requirements-dev.txt has them):
# `import longjobs` from anywhere and the `longjobs` command in ./venv/bin.
$(VENV)/.dev: $(VENV)/.runtime requirements-dev.txt pyproject.toml
	$(PIP) -r requirements-dev.txt
	$(PIP) --no-deps --no-build-isolation -e .
	touch $@

plan: $(VENV)/.runtime  ## What `pulumi up` would declare for STACK, offline, with costs
	$(PY) -m tools.plan --stack $(STACK)

# Some files spend most of their time waiting (on Docker, on a schedule's or the supervisor's
# minute): they start first (tests/conftest.py), and two workers a core fill their waits.
WORKERS ?= $(shell echo $$((2 * $$(getconf _NPROCESSORS_ONLN))))

test: $(VENV)/.dev  ## Lint, then every test (mypy's among them)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	PYTHONDONTWRITEBYTECODE= $(PY) -m pytest -n $(WORKERS) --dist loadfile --no-loadscope-reorder --durations=15

docs: $(VENV)/.runtime  ## docs/configuration.md from the config model, the deploy permissions in docs/operations.md
	$(PY) -m tools.docs

policy: $(VENV)/.dev  ## Every rule of the policy pack over every resource STACK declares, offline
	$(PY) -m tools.policy_check --stack $(STACK)

$(SCAN_VENV)/.installed: requirements-scan.txt
	test -x $(SCAN_VENV)/bin/python || $(PYTHON) -m venv $(SCAN_VENV)
	$(SCAN_VENV)/bin/python -m pip install --quiet --disable-pip-version-check $(NEW_PIP)
	$(SCAN_VENV)/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-scan.txt
	touch $@

scan: $(VENV)/.runtime $(SCAN_VENV)/.installed  ## checkov over every stack's resources, offline
	$(PY) -m tools.scan

bench: $(VENV)/.dev  ## Benchmarks: print figures, assert nothing
	$(PY) -m benchmarks.program_bench
	$(PY) -m benchmarks.trigger_bench
	$(PY) -m benchmarks.supervisor_bench
	$(PY) -m benchmarks.caller_identity_bench
	$(PY) -m benchmarks.local_bench
	$(PY) -m benchmarks.client_bench

demo: $(VENV)/.dev  ## The dev stack on this machine with Docker: a run, a Spot interruption, its resumed retry, the record and its notice
	$(PY) -m local.demo

SEEDS ?= 540
LOAD ?= 6
RUNS ?= 40
sim: $(VENV)/.dev  ## The lifecycle under the deterministic simulation: SEEDS worlds of RUNS runs and LOAD worlds under load (or SEED=n, with LOAD=1 a load seed), invariants checked at every step
	$(PY) -m tools.sim --seeds $(SEEDS) --runs $(RUNS) --load $(if $(SEED),$(if $(filter file,$(origin LOAD)),0,$(LOAD)),$(LOAD)) $(if $(SEED),--seed $(SEED))

replay: sim  ## The simulation's former name

clean:
	rm -rf $(VENV) $(SCAN_VENV) .pytest_cache .ruff_cache .hypothesis .mypy_cache
