# cylinder-trace: `make run` serves the API on SQLite with demo data; `make test` runs the tests.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 5000
PYTEST_ARGS ?=
# Debian packages the service and its tests need: a CJK TrueType font for labels, zbar to
# decode QR codes in tests, and chromium for the pages' browser tests (driven by Playwright).
# Installed when missing and running as root; otherwise named.
SYSTEM_PACKAGES := fonts-wqy-microhei libzbar0 chromium

.PHONY: run test lint format venv system-deps clean

venv: $(VENV)/.installed

# Reinstall whenever the project's dependencies change.
$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

system-deps:
	@missing=""; \
	for package in $(SYSTEM_PACKAGES); do \
		[ "$$(dpkg-query -W -f='$${Status}' $$package 2>/dev/null)" = "install ok installed" ] \
			|| missing="$$missing $$package"; \
	done; \
	if [ -n "$$missing" ]; then \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
			echo "installing Debian packages:$$missing"; \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
		else \
			echo "missing system packages:$$missing (sudo apt-get install$$missing)" >&2; \
			exit 1; \
		fi; \
	fi

run: system-deps venv
	CT_ENV=development $(BIN)/alembic upgrade head
	CT_ENV=development $(BIN)/cylinder-trace demo seed --if-empty
	CT_ENV=development $(BIN)/flask --app wsgi run --host $(HOST) --port $(PORT)

test: system-deps venv
	$(BIN)/pytest $(PYTEST_ARGS)

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: venv
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# The gettext catalogs (cylinder_trace/translations): extract the msgids of the code and the
# pages' templates into messages.pot, merge them into the zh_CN and en catalogs (translate the
# new zh_CN entries, then run it again), compile the .mo files (committed: no build step).
TRANSLATIONS := cylinder_trace/translations
.PHONY: translations
translations: venv
	$(BIN)/pybabel extract -F babel.cfg --add-location=file --project=cylinder-trace \
		--copyright-holder=cylinder-trace -o $(TRANSLATIONS)/messages.pot .
	$(BIN)/pybabel update -i $(TRANSLATIONS)/messages.pot -d $(TRANSLATIONS) \
		--ignore-obsolete --ignore-pot-creation-date
	$(BIN)/pybabel compile -d $(TRANSLATIONS) --statistics

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache *.egg-info
