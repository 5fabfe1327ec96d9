"""Serving with debug off as production does: gunicorn with the project's
gunicorn.conf.py, static files (the admin's, the API docs') from WhiteNoise."""

import urllib.request

import pytest
from django.db import connection
from rest_framework_api_key.models import APIKey

from autopack_site.ops.http import JsonClient
from autopack_site.testing import database_url, manage, running_server, subprocess_env

pytestmark = pytest.mark.django_db(transaction=True)


def fetch(url: str) -> tuple[int, dict, bytes]:
    with urllib.request.urlopen(url, timeout=15) as response:
        return response.status, dict(response.headers), response.read()


def test_gunicorn_serves_the_api_the_admin_and_their_static_files(tmp_path):
    _, key = APIKey.objects.create_key(name="serving")
    env = subprocess_env(
        DATABASE_URL=database_url(connection.settings_dict),
        DJANGO_STATIC_ROOT=str(tmp_path / "static"),
        GUNICORN_WORKERS="2",
        GUNICORN_THREADS="4",
    )
    collected = manage("collectstatic", "--no-input", "--verbosity", "0", env=env)
    assert collected.returncode == 0, collected.stderr
    log = tmp_path / "gunicorn.log"
    with running_server(env, gunicorn=True, log_path=log) as base_url:
        assert JsonClient(base_url, None).request("GET", "/health").status == 200
        assert JsonClient(base_url, key).request("GET", "/api/v1/runs/").status == 200
        status, headers, body = fetch(f"{base_url}/static/admin/css/base.css")
        assert status == 200 and headers["Content-Type"].startswith("text/css")
        assert b"body" in body and "max-age" in headers.get("Cache-Control", "")
        swagger = "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js"
        assert fetch(base_url + swagger)[0] == 200
        status, _, page = fetch(f"{base_url}/admin/login/")
        assert status == 200 and b"/static/admin/css/base.css" in page
    lines = log.read_text(encoding="utf-8")
    assert "gthread" in lines  # the configured worker class
    assert '"GET /health HTTP/1.1" 200' in lines  # the access log
