# Two commands: `make run` (the bot; the web sandbox when no token is set) and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test test-sqlite test-postgres install check lock clean chromium

$(STAMP): requirements-dev.lock pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/coachbot

# Both legs: SQLite, then PostgreSQL (COACHBOT_TEST_POSTGRES, default the local server; its
# tests are reported as skipped when there is no server).
test: $(STAMP) chromium
	$(BIN)/python -m pytest
	COACHBOT_TEST_ENGINE=postgresql $(BIN)/python -m pytest

test-sqlite: $(STAMP)
	$(BIN)/python -m pytest

test-postgres: $(STAMP)
	COACHBOT_TEST_ENGINE=postgresql $(BIN)/python -m pytest

# The web sandbox's browser tests drive Debian's Chromium: installed here when missing and this
# runs as root with apt-get; otherwise those tests are reported as skipped, with the reason.
chromium:
	@command -v chromium >/dev/null || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null \
	  && apt-get update -qq && apt-get install -y -qq --no-install-recommends chromium >/dev/null; } \
	  || echo "no Chromium (apt-get install chromium): the browser tests will be skipped"

check: $(STAMP)
	$(BIN)/python -m ruff check coachbot tests migrations
	$(BIN)/python -m mypy coachbot

# Re-pin after changing dependencies in pyproject.toml (needs uv: pip install uv).
lock:
	uv pip compile pyproject.toml --python-version 3.11 -o requirements.lock
	uv pip compile pyproject.toml --extra test --extra lint --python-version 3.11 -o requirements-dev.lock

# Builds the image, runs it against the Bot API emulator (both containers from the image) until its
# HEALTHCHECK passes and it answers /start, and checks compose.yaml; one JSON line. Needs Docker:
# see scripts/docker/smoke.sh and the README's Docker section.
.PHONY: docker-smoke
docker-smoke:
	bash scripts/docker/smoke.sh

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis
