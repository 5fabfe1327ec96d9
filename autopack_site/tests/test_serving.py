"""Serving with debug off as production does: gunicorn with the project's
gunicorn.conf.py, static files (the admin's, the API docs') from WhiteNoise."""

import contextlib
import socket
import time
import urllib.parse
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


def _request_holding_a_thread(base_url: str) -> socket.socket:
    """A POST whose body never comes: the view waits reading it, holding its thread.

    The CSRF cookie is well formed, so the middleware goes on to read the form.
    """
    address = urllib.parse.urlsplit(base_url)
    held = socket.create_connection((address.hostname, address.port), timeout=5)
    held.sendall(
        b"POST /admin/login/ HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        b"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n"
        b"Cookie: csrftoken=" + b"a" * 32 + b"\r\n\r\n"
    )
    return held


def test_a_worker_with_every_thread_busy_leaves_new_connections_to_the_others(tmp_path):
    # gthread accepts up to worker_connections connections per process (1,000 by
    # default) and queues those it has no thread for: a probe accepted by a worker
    # whose threads all wait on slow requests waits with them, although another
    # worker has a free thread. 2 workers x 2 threads, 3 threads held: every probe
    # must find the fourth.
    env = subprocess_env(
        DATABASE_URL=database_url(connection.settings_dict),
        GUNICORN_WORKERS="2",
        GUNICORN_THREADS="2",
    )
    with running_server(env, gunicorn=True, log_path=tmp_path / "gunicorn.log") as base_url:
        assert fetch(f"{base_url}/health/live")[0] == 200  # both workers are up
        with contextlib.ExitStack() as stack:
            for _ in range(3):
                stack.callback(_request_holding_a_thread(base_url).close)
                time.sleep(0.2)  # accepted before the next one connects
            for _ in range(12):
                started = time.monotonic()
                assert fetch(f"{base_url}/health/live")[0] == 200
                assert time.monotonic() - started < 2.0
