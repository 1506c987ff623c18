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

.PHONY: stack up preview destroy audit test test-under-load unit policies cluster cluster-deps

$(VENV)/.installed: requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
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

## test: lint, then every lane (unit, policies, cluster); the cluster lane needs root
test: $(VENV)/.installed cluster-deps
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/python -m pytest

## test-under-load: the cluster lane with every core and the disk kept busy (stress-ng), as root
test-under-load: $(VENV)/.installed cluster-deps
	scripts/under-load $(VENV)/bin/python -m pytest tests/cluster $(ARGS)

unit policies cluster: $(VENV)/.installed
	$(VENV)/bin/python -m pytest tests/$@

# The cluster lane's Debian packages; as root only (elsewhere that lane explains its skip).
cluster-deps:
	@if [ "$$(id -u)" = 0 ]; then scripts/install-cluster-deps; fi
