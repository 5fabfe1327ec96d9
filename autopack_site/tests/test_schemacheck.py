"""Schemathesis with every check against a live gunicorn server, on the database the
suite runs on (`python -m autopack_site.schemacheck`, fewer examples than the
300 per operation of the full run)."""

import contextlib
import os
import subprocess
import sys

import pytest
from django.conf import settings

from autopack_site.testing import BASE_DIR, subprocess_env

pytestmark = pytest.mark.fuzz

EXAMPLES = int(os.environ.get("AUTOPACK_SCHEMACHECK_EXAMPLES", "20"))


@contextlib.contextmanager
def empty_database_url():
    """A new empty database on the suite's server (None on SQLite: the tool makes a
    temporary file), dropped afterwards."""
    database = settings.DATABASES["default"]
    if not database["ENGINE"].endswith("postgresql"):
        yield None
        return
    import psycopg2

    name = f"autopack_schemacheck_{os.getpid()}"
    params = {
        "host": database.get("HOST") or "127.0.0.1",
        "port": database.get("PORT") or 5432,
        "user": database.get("USER") or "postgres",
        "password": database.get("PASSWORD") or None,
        "dbname": "postgres",
    }
    admin = psycopg2.connect(**params)
    admin.autocommit = True
    try:
        with admin.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}"')
            cursor.execute(f'CREATE DATABASE "{name}"')
        password = f":{params['password']}" if params["password"] else ""
        yield f"postgres://{params['user']}{password}@{params['host']}:{params['port']}/{name}"
    finally:
        with admin.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


def test_every_schemathesis_check_passes_against_a_live_server():
    with empty_database_url() as database_url:
        argv = [sys.executable, "-m", "autopack_site.schemacheck", "--examples", str(EXAMPLES)]
        argv += ["--seed", "20261202"]
        if database_url:
            argv += ["--database-url", database_url]
        done = subprocess.run(
            argv,
            cwd=BASE_DIR,
            env=subprocess_env(),
            capture_output=True,
            text=True,
            encoding="utf-8",
            timeout=1800,
            check=False,
        )
    report = done.stdout[-6000:] + done.stderr[-3000:]
    assert done.returncode == 0, report
    assert "48 selected" in done.stdout or "selected / " in done.stdout, report
    assert "No issues found" in done.stdout or " passed" in done.stdout, report
