# Every target creates .venv on first use: a fresh machine needs only Python 3.11+ and make.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
LOCK   := requirements.lock
HOST   ?= 127.0.0.1
PORT   ?= 8080

.PHONY: help install run reset-store demo-connected test fuzz lint typecheck check bench audit lock clean

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

# The deployed dependencies are pinned by requirements.lock (used as constraints); the dev tools
# that it does not list resolve freely.
$(STAMP): pyproject.toml $(LOCK)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c $(LOCK) -e '.[dev]'
	@touch $@

install: $(STAMP)  ## create .venv and install the adapter with its dev tools

run: $(STAMP)  ## run the service on the embedded default (SQLite, reference payers, demo data)
	$(BIN)/adapter serve --host $(HOST) --port $(PORT)

reset-store: $(STAMP)  ## empty the default SQLite store (never a server database)
	$(BIN)/adapter reset-store

demo-connected: $(STAMP)  ## the connected demo: two payer simulators and the service routed to them (docs/payer-protocol.md)
	@mkdir -p var/demo-connected
	@printf 'amo: [{organismes: ["0","1","2","3","4","5","6","7","8","9"], url: "http://127.0.0.1:8091"}]\namc: [{amc_numbers: ["MUTEX00001","C2SESSAI01"], url: "http://127.0.0.1:8092"}]\n' > var/demo-connected/routes.yaml
	$(BIN)/adapter payer-sim --role amo --port 8091 --latency-ms 50 --fail-rate 0.1 --data-dir var/demo-connected/amo & \
	amo=$$!; $(BIN)/adapter payer-sim --role amc --port 8092 --data-dir var/demo-connected/amc & \
	amc=$$!; trap 'kill $$amo $$amc 2>/dev/null' EXIT INT TERM; \
	ADAPTER_PAYER_ROUTES=var/demo-connected/routes.yaml $(BIN)/adapter serve --host $(HOST) --port $(PORT)

test: $(STAMP)  ## run the test suite (warnings are errors; installs Chromium for the browser tests if missing)
	.ci/ensure-chromium
	$(BIN)/python -m pytest

fuzz: $(STAMP)  ## the long fuzz run: 10,000 mutated Bundles per test (see docs/security.md, "Fuzzing")
	ADAPTER_TEST_FUZZ_EXAMPLES=$${ADAPTER_TEST_FUZZ_EXAMPLES:-10000} $(BIN)/python -m pytest tests/test_fuzz.py

lint: $(STAMP)  ## ruff, and the import contracts of docs/architecture.md (import-linter)
	$(BIN)/ruff check adapter mappings tests benchmarks
	$(BIN)/ruff format --check adapter mappings tests benchmarks
	$(BIN)/lint-imports

typecheck: $(STAMP)  ## mypy --strict on the shipped packages
	$(BIN)/mypy --strict adapter mappings

check: lint typecheck test  ## everything CI runs

bench: $(STAMP)  ## run every benchmark (results printed; see benchmarks/README.md)
	$(BIN)/python -m benchmarks.intake
	$(BIN)/python -m benchmarks.xml_codec
	$(BIN)/python -m benchmarks.service
	$(BIN)/python -m benchmarks.connected
	$(BIN)/python -m benchmarks.adjudication  # last: it exits 1 when its guard is broken

audit: $(STAMP)  ## pip-audit the locked dependency set (needs a vulnerability database online; not run in CI)
	$(BIN)/python -m pip install --quiet -c $(LOCK) -e '.[audit]'
	$(BIN)/pip-audit --requirement $(LOCK) --no-deps --disable-pip --progress-spinner off

lock:  ## regenerate requirements.lock from a clean install of the deployed set (review the diff)
	rm -rf .lock-venv
	$(PYTHON) -m venv .lock-venv
	.lock-venv/bin/python -m pip install --quiet .
	head -n 3 $(LOCK) > $(LOCK).new
	.lock-venv/bin/python -m pip freeze --exclude-editable | grep -vi '^fhir-lpp-adapter' >> $(LOCK).new
	mv $(LOCK).new $(LOCK)
	rm -rf .lock-venv build

clean:  ## remove the virtual environment and caches
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache build *.egg-info
