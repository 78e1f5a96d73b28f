# The two set-up commands of the README. `.ci/run` calls `make test`, exactly as a new user does.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: example test browser lock

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Install gatekit and run it on the bundled example (exit 0: ship).
example: $(BIN)/python
	$(BIN)/pip install --quiet -c constraints.txt .
	$(BIN)/gatekit check examples/incident-bot/gate.yaml

# Install gatekit with its test tools, then run the tests, ruff and mypy (strict).
test: $(BIN)/python browser
	$(BIN)/pip install --quiet -c constraints.txt -e ".[test]"
	$(BIN)/python -m pytest
	$(BIN)/ruff check .
	$(BIN)/ruff format --check gatekit tests bench
	$(BIN)/mypy

# Headless Chromium (Debian's package) for the HTML scorecard's browser test. Needs root; where it cannot be
# installed the browser test skips locally, and fails under CI=true.
browser:
	@command -v chromium >/dev/null 2>&1 || (apt-get update -qq && apt-get install -y -qq chromium >/dev/null) \
		|| echo "warning: could not install chromium; the browser test will skip" >&2

# Refresh the constraints file that pins every dependency of a release (run after changing pyproject.toml).
lock: $(BIN)/python
	$(BIN)/pip install --quiet -e ".[test]"
	$(BIN)/pip freeze --exclude-editable | grep -v '^gatekit' > constraints.txt
