# Newsgraph. `make help` lists the targets.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
HOST ?= 127.0.0.1
PORT ?= 8000
export HOST PORT

$(STAMP): pyproject.toml
	@echo "==> creating $(VENV) and installing newsgraph with its dev tools (first run only)"
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	@$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	@touch $(STAMP)

# The OpenAPI linters (Redocly CLI, Spectral), pinned by openapi/lint/package-lock.json and
# installed with npm ci, like the venv: again only when the lockfile changes. Install scripts
# are not run: the linters need none (one dependency's only sends usage data).
LINT := openapi/lint
LINT_BIN := $(LINT)/node_modules/.bin
LINT_STAMP := $(LINT)/node_modules/.installed-stamp

$(LINT_STAMP): $(LINT)/package.json $(LINT)/package-lock.json
	@command -v npm >/dev/null || { echo "error: make check needs Node.js 20+ and npm (the OpenAPI linters)" >&2; exit 1; }
	@echo "==> installing the OpenAPI linters in $(LINT)/node_modules (first run only)"
	@cd $(LINT) && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
	@touch $(LINT_STAMP)

# The TypeScript SDK toolchain (openapi-typescript, openapi-fetch, tsc), pinned by
# sdk/typescript/package-lock.json, for the test that generates a TypeScript client and runs a
# scenario with it. Without npm that test skips, so `make test` only says so here.
SDK_TS := sdk/typescript
SDK_TS_STAMP := $(SDK_TS)/node_modules/.installed-stamp

$(SDK_TS_STAMP): $(SDK_TS)/package.json $(SDK_TS)/package-lock.json
	@if command -v npm >/dev/null; then \
		echo "==> installing the TypeScript SDK toolchain in $(SDK_TS)/node_modules (first run only)"; \
		cd $(SDK_TS) && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error && touch node_modules/.installed-stamp; \
	else \
		echo "note: npm not found; the TypeScript SDK test will skip (it needs Node.js 20+ and npm)"; \
	fi

# The explorer's checks (explorer/): openapi-typescript, TypeScript and Prettier (and axe-core,
# which the browser tests use), pinned by explorer/package-lock.json and installed with npm ci,
# like the venv only when the lockfile changes. Install scripts are not run: none needs one.
EXPLORER := explorer
EXPLORER_STAMP := $(EXPLORER)/node_modules/.installed-stamp

$(EXPLORER_STAMP): $(EXPLORER)/package.json $(EXPLORER)/package-lock.json
	@command -v npm >/dev/null || { echo "error: make check needs Node.js 20+ and npm (the explorer's type check)" >&2; exit 1; }
	@echo "==> installing the explorer's checkers in $(EXPLORER)/node_modules (first run only)"
	@cd $(EXPLORER) && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
	@touch $(EXPLORER_STAMP)

.PHONY: install
install: $(STAMP) ## Create .venv and install (skipped when up to date)

.PHONY: run
run: $(STAMP) ## Serve the API on http://$(HOST):$(PORT) (embedded PostgreSQL unless DATABASE_URL is set)
	@$(BIN)/newsgraph serve

.PHONY: test
test: $(STAMP) $(SDK_TS_STAMP) ## Run the test suite (TEST_DATABASE_URL, or the embedded PostgreSQL)
	@echo "==> running tests against $${TEST_DATABASE_URL:-the embedded PostgreSQL}"
	@$(BIN)/pytest $(PYTEST_ARGS); status=$$?; \
	if [ $$status -eq 5 ]; then echo "error: pytest collected no tests" >&2; exit 1; fi; \
	exit $$status

.PHONY: eval
eval: $(STAMP) ## Precision and recall of mention detection and candidates on tests/eval/ (no database)
	@$(BIN)/python -m tests.eval.evaluate

.PHONY: fuzz
fuzz: $(STAMP) ## Fuzz every operation with Schemathesis, long (FUZZ_EXAMPLES per operation, FUZZ_SEED)
	@echo "==> fuzzing with $${FUZZ_EXAMPLES:-500} examples per operation, seed $${FUZZ_SEED:-7}, against $${TEST_DATABASE_URL:-the embedded PostgreSQL}"
	@NEWSGRAPH_FUZZ_EXAMPLES=$${FUZZ_EXAMPLES:-500} NEWSGRAPH_FUZZ_SEED=$${FUZZ_SEED:-7} \
		NEWSGRAPH_FUZZ_PHASES=examples,coverage,fuzzing $(BIN)/pytest tests/contract/test_fuzz.py $(PYTEST_ARGS)

.PHONY: check
check: $(STAMP) $(LINT_STAMP) $(EXPLORER_STAMP) ## Lint, check formatting, type-check (the explorer's JS against the contract too), check the layers' imports, validate docker-compose.yml against the Compose Specification, lint the contract
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports
	$(BIN)/check-jsonschema --builtin-schema vendor.compose-spec docker-compose.yml
	REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true \
		$(LINT_BIN)/redocly lint --config $(LINT)/redocly.yaml openapi/openapi.json
	$(LINT_BIN)/spectral lint --ruleset $(LINT)/.spectral.yaml --fail-severity=hint openapi/openapi.json
	@$(MAKE) --no-print-directory check-explorer

.PHONY: check-explorer
check-explorer: $(EXPLORER_STAMP) ## Type-check the explorer's modules (api/explore/) against types generated from openapi/openapi.json, check their formatting
	cd $(EXPLORER) && node_modules/.bin/openapi-typescript ../openapi/openapi.json --immutable --output generated/openapi.d.ts
	cd $(EXPLORER) && node_modules/.bin/tsc --project tsconfig.json
	cd $(EXPLORER) && node_modules/.bin/prettier --config .prettierrc.json --check '../api/explore/**/*.{js,css,html}'

.PHONY: format
format: $(STAMP) $(EXPLORER_STAMP) ## Apply ruff's fixes and formatting, and Prettier's to the explorer
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .
	cd $(EXPLORER) && node_modules/.bin/prettier --config .prettierrc.json --write --log-level warn '../api/explore/**/*.{js,css,html}'

.PHONY: migrate
migrate: $(STAMP) ## Upgrade the database to the latest migration
	$(BIN)/newsgraph migrate upgrade

.PHONY: seed
seed: $(STAMP) ## Load the seed data (seeds/data/*.yaml); SEED_ARGS="--dry-run" to preview
	$(BIN)/newsgraph seed $(SEED_ARGS)

.PHONY: openapi
openapi: $(STAMP) ## Regenerate openapi/openapi.json from the app
	$(BIN)/newsgraph openapi

.PHONY: bench
bench: $(STAMP) ## Load a 100k-article corpus, serve it, measure endpoints vs the database floor (bench/RESULTS.md)
	$(BIN)/python -m bench.run $(BENCH_ARGS)

.PHONY: soak
soak: $(STAMP) ## The mixed read/write profile for SOAK_MINUTES (30) on the bench corpus: RSS, p99, errors over time (bench/RESULTS.md)
	$(BIN)/python -m bench.soak --minutes $${SOAK_MINUTES:-30} $(SOAK_ARGS)

.PHONY: clean
clean: ## Remove the virtualenv, the linters, the explorer's node_modules and caches (keeps .data, the embedded database)
	rm -rf $(VENV) $(LINT)/node_modules $(SDK_TS)/node_modules $(EXPLORER)/node_modules $(EXPLORER)/generated .mypy_cache .ruff_cache .pytest_cache

.PHONY: help
help: ## List the targets
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | \
		awk 'BEGIN {FS = ":.*## "}; {printf "  \033[36m%-10s\033[0m %s\n", $$1, $$2}'
