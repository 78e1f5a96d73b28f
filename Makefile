# The two set-up commands of the README. `.ci/run` calls `make test`, exactly as a new user does.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: example test browser java lock package docs

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Install gatekit and run it on the bundled example (exit 0: ship).
example: $(BIN)/python
	$(BIN)/pip install --quiet -c constraints.txt .
	$(BIN)/gatekit check examples/incident-bot/gate.yaml

# Install gatekit with its test tools, then run the tests, ruff and mypy (strict).
test: $(BIN)/python browser java
	$(BIN)/pip install --quiet -c constraints.txt -e ".[test]"
	$(BIN)/python -m pytest
	$(BIN)/ruff check .
	$(BIN)/ruff format --check gatekit tests bench
	$(BIN)/mypy
	$(MAKE) --no-print-directory package docs

# Build the sdist and wheel as a release would, install the wheel (not the source tree) into a fresh venv and run
# the bundled example with it: a file missing from the wheel, a broken entry point or metadata fails here. The
# fresh venv gets the pinned dependencies from pip's cache, so this takes seconds after the first run.
DIST := build/dist
WHEEL_VENV := build/wheel-venv
package: $(BIN)/python
	rm -rf $(DIST) $(WHEEL_VENV) && mkdir -p build
	$(BIN)/python -m build --outdir $(DIST) . >build/package.log 2>&1 || (cat build/package.log; exit 1)
	@! grep -E 'Warning|[Dd]eprecat' build/package.log || (echo "error: the build warns (see above)" >&2; exit 1)
	$(PYTHON) -m venv $(WHEEL_VENV)
	$(WHEEL_VENV)/bin/python -m pip install --quiet -c constraints.txt $(DIST)/*.whl
	$(WHEEL_VENV)/bin/gatekit check examples/incident-bot/gate.yaml --no-record --no-color --report html=build/wheel-check.html >/dev/null

# The docs site; --strict turns a broken link, a missing nav page or an unknown anchor into an error (not with
# --quiet, which hides the warnings strict mode counts).
docs: $(BIN)/python
	$(BIN)/mkdocs build --strict --site-dir build/site

# Headless Chromium (Debian's package) for the HTML scorecard's browser test. Needs root; where it cannot be
# installed the browser test skips locally, and fails under CI=true.
browser:
	@command -v chromium >/dev/null 2>&1 || (apt-get update -qq && apt-get install -y -qq chromium >/dev/null) \
		|| echo "warning: could not install chromium; the browser test will skip" >&2

# Java 17 (Debian's headless JRE) for pyspark in local mode: tests/test_spark_stats.py runs the SQL of
# `gatekit stats-sql --dialect spark` on Spark itself. Needs root; where it cannot be installed the Spark test
# skips locally, and fails under CI=true.
java:
	@command -v java >/dev/null 2>&1 || (apt-get update -qq && apt-get install -y -qq openjdk-17-jre-headless >/dev/null) \
		|| echo "warning: could not install openjdk-17-jre-headless; the Spark test will skip" >&2

# Refresh the constraints file that pins every dependency of a release (run after changing pyproject.toml).
lock: $(BIN)/python
	$(BIN)/pip install --quiet -e ".[test]"
	$(BIN)/pip freeze --exclude-editable | grep -v '^gatekit' > constraints.txt
