# Ringledger: `make run` starts everything on embedded defaults; `make test` runs the whole suite.
# Both create the environment in .venv from the lock files when it is missing or out of date.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
UV := $(PYTHON) -m uv
STAMP_RUN := $(VENV)/.installed-run
STAMP_DEV := $(VENV)/.installed-dev
export UV_COMPILE_BYTECODE := 1

.PHONY: install install-dev run test lint bench bench-large soak lock system-packages clean

install: $(STAMP_RUN)

install-dev: $(STAMP_DEV)

$(VENV)/bin/python:
	@$(UV) --version >/dev/null 2>&1 || $(PYTHON) -m pip install --quiet uv
	$(UV) venv --quiet --python 3.11 $(VENV)

$(STAMP_RUN): requirements.lock pyproject.toml | $(VENV)/bin/python
	$(UV) pip sync --quiet --python $(PY) --compile-bytecode requirements.lock
	$(UV) pip install --quiet --python $(PY) --compile-bytecode --no-deps -e .
	@rm -f $(STAMP_DEV)
	@touch $@

$(STAMP_DEV): requirements-dev.lock pyproject.toml | $(VENV)/bin/python
	$(UV) pip sync --quiet --python $(PY) --compile-bytecode requirements-dev.lock
	$(UV) pip install --quiet --python $(PY) --compile-bytecode --no-deps -e .
	@touch $@ $(STAMP_RUN)

run: $(STAMP_RUN)
	$(VENV)/bin/ringledger run

# Debian packages the tests use against real servers: slapd (directory), openssl (its test
# certificates), chromium (browser tests), postgresql (the app database on PostgreSQL), wrk (load
# figures of `make soak`).
system-packages:
	@missing=""; \
	[ -x /usr/sbin/slapd ] || missing="$$missing slapd ldap-utils"; \
	[ -x /usr/bin/openssl ] || missing="$$missing openssl"; \
	[ -x /usr/bin/chromium ] || missing="$$missing chromium"; \
	ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing="$$missing postgresql"; \
	[ -x /usr/bin/wrk ] || missing="$$missing wrk"; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing >/dev/null; \
	fi

test: $(STAMP_DEV) system-packages
	$(PY) -m ruff check .
	$(PY) -m mypy
	$(PY) -m pytest -p no:cacheprovider

lint: $(STAMP_DEV)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m mypy

bench: $(STAMP_DEV)
	$(PY) -m bench.run

bench-large: $(STAMP_DEV)
	$(PY) -m bench.run --large

# Long fault, fuzz and load runs (about 30 minutes, at most 40); writes the figures into docs/RELIABILITY.md.
soak: $(STAMP_DEV) system-packages
	timeout 2400 $(PY) -m bench.soak

# Re-resolve the lock files after a change of dependencies in pyproject.toml.
lock:
	$(UV) pip compile --quiet pyproject.toml --extra postgres --generate-hashes --python-version 3.11 -o requirements.lock
	$(UV) pip compile --quiet pyproject.toml --extra postgres --group dev --generate-hashes --python-version 3.11 -o requirements-dev.lock

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
