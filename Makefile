# Greenline: the two commands of the README, and what they need.
#   make demo   set up, then repair every example (embedded Temporal, rule playbooks, no API key)
#   make test   set up, then run the test suite
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
DEMO_DIR ?= $(or $(TMPDIR),/tmp)/greenline-demo

.PHONY: setup python docker demo test clean-demo

setup: python docker

python: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $@

# The docker daemon and the offline sandbox image (needs root: installs packages, starts dockerd).
docker:
	@if [ "$$(id -u)" -eq 0 ]; then bash infra/ensure-docker.sh; \
	elif command -v sudo >/dev/null; then sudo bash infra/ensure-docker.sh; \
	else echo "make: not root and no sudo: skipping docker; repairs use --sandbox local"; fi

# Each example becomes a git repository of its own under $(DEMO_DIR), then is repaired.
demo: setup
	@rm -rf $(DEMO_DIR) && mkdir -p $(DEMO_DIR)
	@set -e; for example in missing-dependency missing-env-var dependency-then-env; do \
	  cp -r examples/$$example $(DEMO_DIR)/$$example; \
	  git -C $(DEMO_DIR)/$$example init -q -b main; git -C $(DEMO_DIR)/$$example add -A; \
	  git -C $(DEMO_DIR)/$$example -c user.name=demo -c user.email=demo@localhost commit -q -m "broken build"; \
	done
	$(BIN)/greenline repair $(DEMO_DIR)/missing-dependency --auto-approve \
	  --cmd "pip install -q -r requirements.txt && python -m pytest -q"
	$(BIN)/greenline repair $(DEMO_DIR)/missing-env-var --auto-approve \
	  --cmd "set -a && . ./ci.env && set +a && pip install -q -r requirements.txt && python -m pytest -q"
	$(BIN)/greenline repair $(DEMO_DIR)/dependency-then-env --auto-approve \
	  --cmd "pip install -q -r requirements.txt && touch .env && set -a && . ./.env && set +a && python -m pytest -q"
	@echo "fix branches: git -C $(DEMO_DIR)/<example> log --oneline --all"

test: setup
	$(BIN)/ruff check --quiet .
	$(BIN)/python -m pytest -q

clean-demo:
	rm -rf $(DEMO_DIR)
