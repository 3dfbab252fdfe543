# booking-deploy: `make help` lists the targets. Every target bootstraps what it needs first.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

VENV := .venv
BIN := $(CURDIR)/$(VENV)/bin
# The AWS emulator's port: the one knob. Everything else derives its URL from it.
EMULATOR_PORT ?= 5000
EMULATOR_URL := http://127.0.0.1:$(EMULATOR_PORT)
INVENTORY ?= inventories/local
# Extra ansible-playbook arguments, e.g. make site ARGS='--tags vpc -v'
ARGS ?=
# Strict emulator mode (tools/moto_strict.py, docs/emulator.md): the emulator that emulator-up
# starts fails a first run the way AWS does (service-linked roles, IAM propagation, WAF, NAT,
# eventual consistency, throttling, RDS versions). On by default; EMULATOR_STRICT=off for plain
# moto, or a spec such as `all,nat=5`. The test suites default to the short `test` profile
# (tests/conftest.py, tests/molecule/prepare.yml); BOOKING_EMULATOR_STRICT=off turns them off too.
EMULATOR_STRICT ?= all
# The emulator's data plane (docs/emulator.md). `real` (the default): ECS tasks run as podman
# containers (services with rolling deployments, the circuit breaker, health checks; their logs
# in CloudWatch Logs), each DB instance is a real PostgreSQL, each replication group a real Redis
# (AUTH, TLS), each load balancer a real HTTPS proxy whose name resolves on this machine, and
# api.twilio.com a stub of Twilio's test credentials: the release runs for real and its smoke
# test goes through the load balancer. Needs root (endpoint addresses, bridges, /etc/hosts).
# `scripted`: tasks and servers are records, rollouts complete on a timer (the test suite's
# default). `make down` before switching.
EMULATOR_DATA_PLANE ?= real
ifeq ($(EMULATOR_DATA_PLANE),real)
EMULATOR_DATA_PLANE_ENV := BOOKING_EMULATOR_ECS_TASKS=podman BOOKING_EMULATOR_RDS=postgres \
	BOOKING_EMULATOR_ELASTICACHE=redis BOOKING_EMULATOR_ELB=proxy BOOKING_EMULATOR_TWILIO=stub
else ifneq ($(EMULATOR_DATA_PLANE),scripted)
$(error EMULATOR_DATA_PLANE must be scripted or real, not '$(EMULATOR_DATA_PLANE)')
endif

export PATH := $(BIN):$(PATH)
# Our strategy plugins (plugins/strategy: mitogen_linear) and ansible.cfg's `strategy` for every
# Ansible run make starts, molecule's too (molecule writes its own ansible.cfg, so ours does not
# reach a scenario). Ansible's own strategy is one variable away: ANSIBLE_STRATEGY=linear make ...
export ANSIBLE_STRATEGY_PLUGINS := $(CURDIR)/plugins/strategy
export ANSIBLE_STRATEGY ?= $(shell sed -n 's/^strategy *= *//p' ansible.cfg)
export BOOKING_EMULATOR_URL := $(EMULATOR_URL)
export BOOKING_EMULATOR_DATA_PLANE := $(EMULATOR_DATA_PLANE)
export ANSIBLE_FORCE_COLOR ?= 0

# The app's own venv: Python 3.11, as in the image.
APP_VENV := .venv-app
PYTHON311 ?= $(shell for p in python3.11 $$HOME/.pyenv/versions/3.11*/bin/python3.11 \
	/usr/local/bin/python3.11 /usr/bin/python3.11; do \
	"$$p" -c 'import sys; assert sys.version_info[:2] == (3, 11)' >/dev/null 2>&1 \
	&& { echo "$$p"; break; }; done)

# ansible-core 2.21 needs Python 3.12 on the controller. Take the first python3.12 that runs.
PYTHON312 ?= $(shell for p in python3.12 $$HOME/.pyenv/versions/3.12*/bin/python3.12 \
	/usr/local/bin/python3.12 /usr/bin/python3.12; do \
	"$$p" -c 'import sys; assert sys.version_info[:2] == (3, 12)' >/dev/null 2>&1 \
	&& { echo "$$p"; break; }; done)

.PHONY: help setup lock site verify check deploy diff rollback restore run-command status logs exec backup-check dr-drill migrate-data teardown cost security lock-security prowler-setup lock-prowler posture emulator-up emulator-down emulator-reset emulator-url \
	lint test test-unit test-beside-unit test-molecule test-app app-setup services-up run-app down clean \
	container-setup image pin-base-image registry-up registry-down lint-container test-container \
	bench-api bench-container bench-real-release bench-release-strategies bench-provision bench-critical-path bench-release bench-fresh-site

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-16s %s\n", $$1, $$2}'

setup: $(VENV)/.installed ## Create or update the toolchain venv (.venv, Python 3.12)

# uv installs the three venvs (pinned, so the same packages pip would take) in a fraction of pip's
# time: on a clean clone, pip spent about 5 of CI's minutes unpacking ansible's collections and
# checkov. It comes from PyPI, pinned below, into the toolchain venv; every venv uses that one.
UV_VERSION := 0.13.9
UV := $(CURDIR)/$(VENV)/bin/uv
# uv reads no pip.conf: the machine's pip settings (extra indexes, find-links) do not apply to it.
# --compile-bytecode: pip writes every package's .pyc at install time, uv does not by default, and
# where PYTHONDONTWRITEBYTECODE is set (this machine and CI's) Python never writes them later:
# every process then compiles boto3, botocore and ansible from source - boto3's import and a
# client 1.0 s instead of 0.46 s, paid by every module run (docs/benchmarks.md).
UV_INSTALL = $(UV) pip install --quiet --compile-bytecode --python

$(UV):
	@test -n "$(PYTHON312)" || { echo "error: Python 3.12 not found (set PYTHON312=...)" >&2; exit 1; }
	@test -x $(VENV)/bin/python || $(PYTHON312) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

# tools/shared-botocore-loader: our own package (one botocore data loader and one built-in handler
# table per process, so that a module run under mitogen neither decodes the AWS service models nor
# registers botocore's handlers again; its module says why).
SHARED_LOADER := tools/shared-botocore-loader
$(VENV)/.installed: requirements.txt constraints.txt requirements.yml $(wildcard $(SHARED_LOADER)/*) | $(UV)
	$(UV_INSTALL) $(VENV)/bin/python -r requirements.txt -c constraints.txt \
		--reinstall-package booking-shared-botocore-loader ./$(SHARED_LOADER)
	$(VENV)/bin/ansible-galaxy collection install -r requirements.yml >/dev/null
	@touch $@

app-setup: $(APP_VENV)/.installed ## Create or update the app's venv (.venv-app, Python 3.11)

$(APP_VENV)/.installed: app/requirements.txt app/requirements-dev.txt | $(UV)
	@test -n "$(PYTHON311)" || { echo "error: Python 3.11 not found (set PYTHON311=...)" >&2; exit 1; }
	@test -x $(APP_VENV)/bin/python || $(PYTHON311) -m venv $(APP_VENV)
	$(UV_INSTALL) $(APP_VENV)/bin/python -r app/requirements-dev.txt
	@touch $@

# checkov in its own venv: its dependencies would otherwise pin the toolchain's.
SECURITY_VENV := .venv-security
security: $(SECURITY_VENV)/.installed ## Security gate: checkov (Ansible framework), every skip reasoned in .checkov.yaml
	$(SECURITY_VENV)/bin/checkov --config-file .checkov.yaml

$(SECURITY_VENV)/.installed: requirements-security.txt constraints-security.txt | $(UV)
	@test -n "$(PYTHON311)" || { echo "error: Python 3.11 not found (set PYTHON311=...)" >&2; exit 1; }
	@test -x $(SECURITY_VENV)/bin/python || $(PYTHON311) -m venv $(SECURITY_VENV)
	$(UV_INSTALL) $(SECURITY_VENV)/bin/python -r requirements-security.txt -c constraints-security.txt
	@touch $@

# Prowler in its own venv too (about 240 pinned packages, boto3 among them); Python 3.12.
# Without --compile-bytecode: the venv is 2.3 GB, mostly other clouds' SDKs the scan never
# imports, and compiling them all was most of the install's CPU (146 CPU s with, 2026-12-07).
PROWLER_VENV := .venv-prowler
prowler-setup: $(PROWLER_VENV)/.installed ## Create or update Prowler's venv (.venv-prowler) for the posture scan

$(PROWLER_VENV)/.installed: requirements-prowler.txt constraints-prowler.txt | $(UV)
	@test -x $(PROWLER_VENV)/bin/python || $(PYTHON312) -m venv $(PROWLER_VENV)
	$(UV) pip install --quiet --python $(PROWLER_VENV)/bin/python -r requirements-prowler.txt -c constraints-prowler.txt
	@touch $@

lock-prowler: | $(UV) ## Re-pin constraints-prowler.txt after changing requirements-prowler.txt
	@test -x $(PROWLER_VENV)/bin/python || $(PYTHON312) -m venv $(PROWLER_VENV)
	$(UV) pip install --quiet --python $(PROWLER_VENV)/bin/python -r requirements-prowler.txt
	{ echo '# Generated by `make lock-prowler` from requirements-prowler.txt: every package, pinned.'; \
	  $(UV) pip freeze --python $(PROWLER_VENV)/bin/python | grep -v '^pip=='; } > constraints-prowler.txt

# The posture scan against the running emulator (make emulator-up + make site): Prowler's
# FSBP and CIS checks of the services site.yml creates, every finding fixed or excepted with its
# reason in security/prowler-exceptions.yml (tools/prowler_scan.py; docs/ci.md).
posture: setup prowler-setup ## Security posture: Prowler against the running emulator, every finding fixed or excepted (security/prowler-exceptions.yml)
	python tools/prowler_scan.py --endpoint-url $(EMULATOR_URL)

lock-security: ## Re-pin constraints-security.txt after changing requirements-security.txt
	@test -x $(SECURITY_VENV)/bin/python || $(PYTHON311) -m venv $(SECURITY_VENV)
	$(SECURITY_VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements-security.txt
	{ echo '# Generated by `make lock-security` from requirements-security.txt: every package, pinned.'; \
	  $(SECURITY_VENV)/bin/pip freeze --all | grep -v '^pip=='; } > constraints-security.txt

lock: ## Re-pin constraints.txt after changing requirements.txt
	@test -x $(VENV)/bin/python || $(PYTHON312) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements.txt
	{ echo '# Generated by `make lock` from requirements.txt: every package of the toolchain, pinned.'; \
	  $(VENV)/bin/pip freeze --all | grep -v -e '^pip==' -e '^booking-'; } > constraints.txt

site: setup emulator-up registry-up ## Provision the local environment, build and release the current commit (site.yml)
	ansible-playbook site.yml -i $(INVENTORY) $(ARGS)

# Can this account take this inventory? Read-only, one table, non-zero exit on any failed check
# (playbooks/verify.yml). The local inventory needs the emulator (and the registry, for the image
# of a recorded release); real inventories need neither.
verify: setup $(if $(filter inventories/local,$(patsubst %/,%,$(INVENTORY))),emulator-up registry-up) ## Check, read-only, that the account can take INVENTORY (run before the first site)
	ansible-playbook playbooks/verify.yml -i $(INVENTORY) $(ARGS)

# Release a tag already in the registry (make image + podman push, or CI), or roll back.
TAG ?=
REVISION ?=
deploy: setup emulator-up registry-up ## Release an image tag: make deploy TAG=<git sha> [STRATEGY=blue_green|canary|linear]
	@test -n "$(TAG)" || { echo "usage: make deploy TAG=<image tag in the registry>" >&2; exit 2; }
	ansible-playbook playbooks/deploy.yml -i $(INVENTORY) -e image_tag=$(TAG) \
		$(if $(STRATEGY),-e release_strategy=$(STRATEGY)) $(ARGS)

run-command: setup ## Run a one-off command in the current release: make run-command CMD='python manage.py seed_demo'
	@test -n "$(CMD)" || { echo "usage: make run-command CMD='python manage.py <command>'" >&2; exit 2; }
	ansible-playbook playbooks/run-command.yml -i $(INVENTORY) \
		-e '{"release_command": $(shell python3 -c 'import json, shlex, sys; print(json.dumps(shlex.split(sys.argv[1])))' "$(CMD)")}' $(ARGS)

# Copy the database at the vault's vault_booking_migration_source_url into the environment's
# (playbooks/migrate-data.yml, docs/cutover.md); FORCE=1 drops the target's data first.
FORCE ?=
migrate-data: setup ## Copy the legacy database in (pg_dump/pg_restore in a task): make migrate-data [FORCE=1] [CONFIRM=prod]
	ansible-playbook playbooks/migrate-data.yml -i $(INVENTORY) $(if $(FORCE),-e force=true) \
		$(if $(CONFIRM),-e migrate_data_confirm=$(CONFIRM)) $(ARGS)

diff: setup ## What deploy.yml would change, changing nothing: make diff TAG=<git sha> [STRATEGY=...] (ARGS=--diff for whole definitions)
	@test -n "$(TAG)" || { echo "usage: make diff TAG=<image tag in the registry>" >&2; exit 2; }
	ansible-playbook playbooks/diff.yml -i $(INVENTORY) -e image_tag=$(TAG) \
		$(if $(STRATEGY),-e release_strategy=$(STRATEGY)) $(ARGS)

status: setup ## What runs: the release, each service's tasks, deployments and events, target health, alarms in ALARM, the database and Redis
	ansible-playbook playbooks/status.yml -i $(INVENTORY) $(ARGS)

SERVICE ?=
SINCE ?= 10m
logs: setup ## The latest log lines from CloudWatch Logs: make logs [SERVICE=web|worker|migrate] [SINCE=10m]
	ansible-playbook playbooks/logs.yml -i $(INVENTORY) -e logs_since=$(SINCE) $(if $(SERVICE),-e logs_service=$(SERVICE)) $(ARGS)

exec: setup ## A command in a running task, on the terminal: make exec SERVICE=web CMD='python manage.py shell' (ECS Exec on AWS, podman locally)
	@test -n "$(CMD)" || { echo "usage: make exec [SERVICE=web|worker] CMD='<command>'" >&2; exit 2; }
	@mkdir -p .run
	@ansible-playbook playbooks/exec.yml -i $(INVENTORY) -e exec_service=$(or $(SERVICE),web) \
		-e exec_target_file=$(CURDIR)/.run/exec-target.json $(ARGS) > .run/exec-target.log \
		|| { cat .run/exec-target.log; exit 2; }
	@python tools/ecs_exec.py .run/exec-target.json "$(CMD)"

dr-drill: setup ## Disaster-recovery drill: restore the latest restorable time into a scratch instance, check it, report RPO/RTO (bench/dr-drills/), delete it
	ansible-playbook playbooks/dr-drill.yml -i $(INVENTORY) $(ARGS)

backup-check: setup ## Publish the database's backup lag (RPO) and snapshot age for the backup alarms (AWX runs it every 5 minutes)
	ansible-playbook playbooks/backup-check.yml -i $(INVENTORY) $(ARGS)

cost: setup ## Monthly cost estimate of staging and production, line by line (no AWS call)
	@python tools/cost_report.py

rollback: setup emulator-up registry-up ## Roll back to the previous release (or TAG=..., REVISION=N; STRATEGY= as deployed)
	ansible-playbook playbooks/rollback.yml -i $(INVENTORY) \
		$(if $(TAG),-e image_tag=$(TAG)) $(if $(REVISION),-e revision=$(REVISION)) \
		$(if $(STRATEGY),-e release_strategy=$(STRATEGY)) $(ARGS)

# Remove the environment (prod needs CONFIRM=prod); the backup bucket and a final database
# snapshot stay unless ARGS='-e teardown_keep_backups=false' / '-e teardown_final_snapshot=false'.
CONFIRM ?=
teardown: setup emulator-up ## Remove the environment in reverse order (CONFIRM=<env> for prod)
	ansible-playbook playbooks/teardown.yml -i $(INVENTORY) $(if $(CONFIRM),-e teardown_confirm=$(CONFIRM)) $(ARGS)

# Restore the database into a new instance and switch the environment to it (playbooks/restore.yml):
# TIME=<ISO 8601> (default: the latest restorable time) or SNAPSHOT=<id>; the replaced instance is
# kept as <prefix>-postgres-pre-restore-<stamp> until DROP_OLD=true (alone: only that). CONFIRM=
# as for teardown. Then new tasks of the current release, connected to the restored database.
TIME ?=
SNAPSHOT ?=
DROP_OLD ?=
restore: setup emulator-up registry-up ## Restore the database (TIME=<ISO 8601> or SNAPSHOT=<id>; DROP_OLD=true; CONFIRM=<env> for prod)
	ansible-playbook playbooks/restore.yml -i $(INVENTORY) $(if $(TIME),-e restore_time=$(TIME)) \
		$(if $(SNAPSHOT),-e restore_snapshot=$(SNAPSHOT)) $(if $(DROP_OLD),-e restore_drop_old=$(DROP_OLD)) \
		$(if $(CONFIRM),-e restore_confirm=$(CONFIRM)) $(ARGS)

check: setup emulator-up registry-up ## Dry-run site.yml with --check --diff
	ansible-playbook site.yml -i $(INVENTORY) --check --diff $(ARGS)

emulator-up: setup $(if $(EMULATOR_DATA_PLANE_ENV),container-setup) ## Start the local AWS emulator, strict unless EMULATOR_STRICT=off, EMULATOR_DATA_PLANE=real for real tasks and databases (reused if already running)
	@BOOKING_EMULATOR_STRICT='$(EMULATOR_STRICT)' $(EMULATOR_DATA_PLANE_ENV) python tools/emulator.py up --port $(EMULATOR_PORT)

emulator-down: ## Stop the local AWS emulator
	@if [ -x $(VENV)/bin/python ]; then $(VENV)/bin/python tools/emulator.py down; fi

emulator-reset: setup ## Forget every resource in the running emulator
	@python tools/emulator.py reset --port $(EMULATOR_PORT)

emulator-url: ## Print the emulator's endpoint URL
	@echo $(EMULATOR_URL)

services-up: ## Start the local PostgreSQL and Redis if they are down
	@tools/local-services.sh up

run-app: app-setup services-up ## Migrate, seed demo data, serve the API on :8000 with a worker
	app/bin/run-local

lint: setup ## yamllint, ansible-lint (production profile), ruff, actionlint (+ shellcheck) on .github/workflows
	yamllint --strict .
	ansible-lint --profile production
	ruff check .
	actionlint

# Workers: three on two cores. The suite is mostly CPU (about 1,010 CPU seconds under mitogen),
# but the site stack waits out the emulator's holds, and with 2 workers a third of the CPU sat
# idle. Measured 2026-12-06: 2 workers 1066 s, 3 workers 883 s; 3 workers with a site stack per
# file (the two chains side by side) 967 s - more CPU, and the cores were the bound - docs/ci.md.
# 2026-12-07: the site chain alone had grown to 830 s (610 CPU s) and was the critical path of
# make test (2,295 of 2,380 s under CI's load), so the two files have a stack each again.
# --no-loadscope-reorder: xdist otherwise queues the groups by their number of tests, not in the
# order tests/conftest.py sorts them (the site stack first), so the longest chains started late.
PYTEST_WORKERS ?= 3
test-unit: setup prowler-setup $(SECURITY_VENV)/.installed ## pytest: toolchain, modules and playbooks against an in-process emulator
	python -m pytest tests -n $(PYTEST_WORKERS) --dist loadgroup --no-loadscope-reorder -q

# Scenarios run three at a time (each has its own emulator port and molecule state): 2026-12-06,
# 7.0 min against 7.8 with two (their emulators' holds leave a core idle); a failing scenario's
# log is printed, every log stays in .run/molecule-<role>.log.
MOLECULE_JOBS ?= 3
test-molecule: setup ## Every role's molecule scenario against its own emulator
	@mkdir -p .run
	@ls -d roles/*/molecule/default | cut -d/ -f2 | xargs -P $(MOLECULE_JOBS) -I{} sh -c '\
		start=$$(date +%s); \
		if (cd roles/{} && molecule test) > .run/molecule-{}.log 2>&1; then \
			echo "molecule {}: passed in $$(( $$(date +%s) - start )) s"; \
		else \
			echo "molecule {}: FAILED (.run/molecule-{}.log)"; tail -n 80 .run/molecule-{}.log; exit 1; \
		fi'

test-app: app-setup services-up ## The Django app's tests against PostgreSQL and Redis
	cd app && ../$(APP_VENV)/bin/python -m pytest -q

# pytest beside everything else: the suite is CPU-bound on two cores (2026-12-06, after the
# fork server and the emulator snapshots: pytest about 1,010 CPU seconds, molecule 520, lint 105,
# checkov 25, the app's tests and the image's the rest), and pytest is the longest part (its site
# stack waits out the emulator's holds: in its last minutes only that chain runs). So pytest
# starts at once, and the rest runs one part after another beside it at nice 10, taking the CPU
# pytest leaves idle and the cores once it is done. Clean clone, 2026-12-06: 1245 s (pytest 1128 s,
# everything else done inside it); before, with lint and checkov first, molecule beside pytest,
# then the app and the image: 1393 s. Each part's output is printed when it ends
# (--output-sync); the first failure fails the run once pytest is done.
# The container tests are a third stream, at normal priority: since the real data plane's
# release tests (tests/container/test_release_real.py) they are long (about 13 min beside pytest)
# but mostly wait (image pulls, health checks, connection draining), so the other two streams'
# CPU fills their waits; niced, their containers could miss ECS's health check timeouts while
# pytest holds the cores. Run after the niced chain they made `make test` 31 min (2026-12-06
# evening: 676 s alone at the end); before it, the niced chain ran alone at the end instead.
TEST_BESIDE_UNIT := lint security test-molecule test-app
test: setup ## Everything CI runs: lint, checkov, pytest (infra and app), molecule, the image
	@$(MAKE) --no-print-directory -j3 --output-sync=target test-unit test-container test-beside-unit

test-beside-unit:
	@for target in $(TEST_BESIDE_UNIT); do nice -n 10 $(MAKE) --no-print-directory $$target || exit 1; done

down: emulator-down ## Stop every local service the Makefile started
	@tools/local-services.sh down
	@tools/container/registry.sh down

# --- Container image (Dockerfile): podman on the project's own image store (.run/containers) with
# tools/container/containers.conf; see docs/container-image.md.
# The loopback registry's port (5000 is the emulator's, 5101-5121 molecule's).
REGISTRY_PORT ?= 5002
export REGISTRY_PORT

container-setup: ## Install podman, buildah, skopeo, debootstrap, docker-registry, runc if missing
	@tools/container/setup.sh

image: container-setup ## Build the image (IMAGE_BUILDER=podman|buildah|docker, BASE_IMAGE=); prints its reference
	@tools/container/build.sh

registry-up: container-setup ## Start the loopback image registry on 127.0.0.1:REGISTRY_PORT (5002; reused if running)
	@tools/container/registry.sh up

registry-down: ## Stop the loopback image registry
	@tools/container/registry.sh down

pin-base-image: container-setup ## Re-pin the Dockerfile's base image (ARG BASE_IMAGE) to the digest its tag points to now (needs Docker Hub)
	@tools/container/pin-base-image.sh

lint-container: setup ## hadolint the Dockerfile
	hadolint Dockerfile

# Two workers, a test file each at a time (--dist loadfile): the release tests on the real data
# plane (test_release_real.py, about 10 min, mostly waiting on health checks, draining and bake
# times) beside the other files. Their emulators keep apart: each its own VPC CIDR, endpoint
# addresses and /etc/hosts block. The registry is started first, so that no module's fixture
# stops it under the other worker, and the image is built first: two cold builds at once raced
# on the debootstrapped base's tarball (clean clone, 2026-12-07).
test-container: setup container-setup services-up registry-up image ## The image end to end: build, migrate, web, worker, a booking, stop, push and pull; releases on the real data plane
	python -m pytest tests/container -q -rs -n 2 --dist loadfile --no-loadscope-reorder

# --- The AWX execution environment (execution-environment.yml), built and run here
# (tools/container/ee.py; docs/ci.md, "AWX execution environment"). The base: EE_BASE_IMAGE, else
# the definition's CentOS Stream 10 where it can be pulled, else a local Debian trixie base
# (debootstrap, tools/container/ee-base.sh). tests/container/test_execution_environment.py
# builds it and runs site.yml and deploy.yml in it.
.PHONY: ee ee-run
EE_BASE_IMAGE ?=
export EE_BASE_IMAGE
ee: setup container-setup ## Build the AWX execution environment (ansible-builder + podman; EE_BASE_IMAGE= another base); prints its reference
	@python tools/container/ee.py build

PLAYBOOK ?= site.yml
EXTRA_VARS ?= {}
ee-run: ee emulator-up ## Run a playbook in the EE as AWX runs a job (ansible-runner), against the emulator: make ee-run PLAYBOOK=site.yml [ARGS=...] [EXTRA_VARS='{json}']
	@python tools/container/ee.py run $(PLAYBOOK) --cmdline "$(ARGS)" --extra-vars '$(EXTRA_VARS)'

# --- Benchmarks (bench/README.md): each rewrites its own section of bench/RESULTS.md.
bench-api: app-setup services-up ## API benchmark: seeded PostgreSQL, gunicorn as in the image, wrk (~9 min)
	@command -v wrk >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
		apt-get install -y -qq wrk >/dev/null; }
	$(APP_VENV)/bin/python bench/api/run.py

bench-container: app-setup container-setup services-up ## Container benchmark: image size, cold start to healthy
	$(APP_VENV)/bin/python bench/container.py

# Provisioning benchmarks (bench/provision/): each starts its own emulator on a port in 5460-5479.
bench-provision: setup ## Provisioning benchmark: site.yml converge and no-op re-run vs a boto3 floor (~15 min)
	python bench/provision/run.py

bench-critical-path: setup ## site.yml with slow RDS/Redis/NAT/ALB creation vs without, side by side (~18 min)
	python bench/provision/critical_path.py

bench-fresh-site: ## make site on a fresh machine: clean clone, venv, podman, base image, build, converge (~5 min)
	$(or $(PYTHON312),python3) bench/fresh_site.py

bench-real-release: setup ## A deploy and a rollback on the real data plane of the running make site, with a request loop (~5 min)
	python bench/real_release.py

bench-release-strategies: setup ## A release per strategy (rolling, blue_green, canary) and a rollback during a bake, on the running make site (~12 min)
	python bench/release_strategies.py

bench-release: setup ## Release benchmark: deploy.yml phases on the emulator, real-AWS rollout arithmetic (~3 min)
	python bench/provision/release.py

clean: down ## Remove the venv and local state
	rm -rf $(VENV) $(APP_VENV) $(SECURITY_VENV) $(PROWLER_VENV) .run
