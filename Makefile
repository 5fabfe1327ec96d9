# Two entry points for newcomers: `make demo` and `make test` (see README.md).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint format venv serve

venv: $(STAMP)

$(STAMP): requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	touch $(STAMP)

# Set up, migrate, load demo data, print an API key and serve on SQLite (debug mode).
demo: $(STAMP)
	DJANGO_DEBUG=1 $(BIN)/python manage.py migrate --no-input
	DJANGO_DEBUG=1 $(BIN)/python manage.py seed_demo_replays --clear
	DJANGO_DEBUG=1 $(BIN)/python manage.py seed_demo_ab_results --clear
	DJANGO_DEBUG=1 $(BIN)/python manage.py seed_demo
	DJANGO_DEBUG=1 $(BIN)/python manage.py seed_demo_ab_results
	DJANGO_DEBUG=1 $(BIN)/python manage.py pattern_expansion
	DJANGO_DEBUG=1 $(BIN)/python manage.py seed_demo_replays
	@echo "API key for the demo (send as X-API-Key):"
	@DJANGO_DEBUG=1 $(BIN)/python manage.py create_api_key demo --scope admin
	DJANGO_DEBUG=1 $(BIN)/python manage.py runserver 127.0.0.1:8000

# Production serving: static files collected for WhiteNoise, then gunicorn with
# gunicorn.conf.py (debug off: DJANGO_SECRET_KEY and DJANGO_ALLOWED_HOSTS must be set).
serve: $(STAMP)
	$(BIN)/python manage.py migrate --no-input
	$(BIN)/python manage.py collectstatic --no-input --verbosity 0
	$(BIN)/gunicorn --config gunicorn.conf.py

# The whole suite on the configured database (SQLite unless DATABASE_URL is set).
test: $(STAMP)
	$(BIN)/python -m pytest --create-db

# What CI enforces: ruff's lint rules and its format (configured in pyproject.toml).
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# Apply the format and the safe lint fixes.
format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .
