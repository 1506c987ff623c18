# The two commands a newcomer needs: `make up` (the dev stack on this machine) and `make test`.
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
PYTHON ?= python3
VENV := .venv
STACK ?= dev
STATE_DIR := $(CURDIR)/.pulumi-state
# A local file backend and a passphrase kept beside it: no account, no cloud, nothing to type.
export PULUMI_BACKEND_URL ?= file://$(STATE_DIR)
export PULUMI_CONFIG_PASSPHRASE_FILE ?= $(STATE_DIR)/passphrase

.PHONY: stack up preview destroy audit validate status test lint typecheck lock mutate golden test-under-load unit policies cluster cluster-deps

# The locked versions, each checked against its hash (requirements-dev.txt holds the runtime's too).
$(VENV)/.installed: requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check --require-hashes -r requirements-dev.txt
	touch $@

$(STATE_DIR)/passphrase:
	mkdir -p $(STATE_DIR)
	umask 077 && $(PYTHON) -c 'import secrets; print(secrets.token_urlsafe(32))' > $@

stack: $(VENV)/.installed $(STATE_DIR)/passphrase
	@command -v pulumi > /dev/null || { echo "The Pulumi CLI is missing: see README, Prerequisites." >&2; exit 1; }
	pulumi stack select --create $(STACK) --secrets-provider passphrase

## up: converge the $(STACK) stack (dev: every role on this machine's Docker engine)
up: stack
	pulumi up --stack $(STACK) $(ARGS)

preview: stack
	pulumi preview --diff --stack $(STACK) $(ARGS)

destroy: stack
	pulumi destroy --stack $(STACK) $(ARGS)

## audit: save the site's audit report now (seed: audit service) into audit-reports/
audit: stack
	CODENVY_API_URL="$$(pulumi stack output url --stack $(STACK))/api" \
	CODENVY_ADMIN_PASSWORD="$$(pulumi stack output adminPassword --show-secrets --stack $(STACK))" \
	CODENVY_CA_PEM="$$(pulumi stack output registryCaCert --stack $(STACK))" \
	$(VENV)/bin/python components/resource_api.py audit audit-reports

## validate: check Pulumi.$(STACK).yaml and its gates without the Pulumi CLI (ARGS: --outputs STACK=FILE)
validate: $(VENV)/.installed
	$(VENV)/bin/python scripts/validate.py $(STACK) $(ARGS)

## status: the $(STACK) site's health, from its stack outputs and over SSH from its hosts
status: stack
	$(VENV)/bin/python scripts/status.py $(STACK) $(ARGS)

## test: lint, type checks, then every lane (unit, policies, cluster); the cluster lane needs root
# Two workers: the cluster lane, mostly waiting on its engines, on one; the other lanes beside it (tests/lanes.py).
test: lint typecheck cluster-deps
	$(VENV)/bin/python -m pytest -p tests.lanes --numprocesses 2

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

## typecheck: pyright over components/ and policies/ (pyproject.toml, [tool.pyright])
typecheck: $(VENV)/.installed
	$(VENV)/bin/pyright

## lock: recompile the lock files (*.txt) from requirements*.in, keeping every pin that still fits
lock: $(VENV)/.installed
	for input in requirements.in requirements-dev.in policies/requirements.in; do \
		$(VENV)/bin/pip-compile --quiet --generate-hashes --allow-unsafe --strip-extras --no-emit-index-url \
			--no-emit-find-links --output-file "$${input%.in}.txt" "$$input"; \
	done

## mutate: mutation testing (cosmic-ray) of components/ and policies/ (or MODULES) against the unit and policy
## lanes, each mutant running only the tests that run its line; prints the kill ratio (not part of `make test`).
## With no MODULES, a fixed sample of about one mutant in 40 (under an hour here); ARGS="--every 1" tests all
mutate: $(VENV)/.installed
	$(VENV)/bin/python scripts/mutate.py $(MODULES) $(ARGS)

## golden: rewrite the golden files of what the program renders (tests/unit/golden/<stack>/); review them with `git diff`
golden: $(VENV)/.installed
	$(VENV)/bin/python scripts/update_golden.py

## test-under-load: the cluster lane with every core and the disk kept busy (stress-ng), as root
test-under-load: $(VENV)/.installed cluster-deps
	scripts/under-load $(VENV)/bin/python -m pytest tests/cluster $(ARGS)

# The unit lane: components and the program under mocks (tests/unit), and the scripts run for real (tests/scripts).
unit: $(VENV)/.installed
	$(VENV)/bin/python -m pytest tests/unit tests/scripts

policies cluster: $(VENV)/.installed
	$(VENV)/bin/python -m pytest tests/$@

# The cluster lane's Debian packages; as root only (elsewhere that lane explains its skip).
cluster-deps:
	@if [ "$$(id -u)" = 0 ]; then scripts/install-cluster-deps; fi
