"""Health endpoints and `health_check`: in-process, and as a real server in a subprocess."""

import http.server
import re
import threading
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

from autopack_site.ops import health
from autopack_site.testing import http_get, manage, running_server, subprocess_env

pytestmark = pytest.mark.django_db

UNREACHABLE_POSTGRES = "postgres://postgres:s3cret-pw@127.0.0.1:1/autopack_missing"


def test_health_is_healthy_with_a_working_database(api_client, monkeypatch):
    monkeypatch.setenv("AUTOPACK_ENABLE_PHASE6_METRICS", "1")
    response = api_client.get("/health")
    assert response.status_code == 200
    body = response.json()
    assert body["service"] == "autopack"
    assert (body["status"], body["db_ok"], body["migrations_pending"]) == ("healthy", True, 0)
    assert body["kill_switches"] == {"phase6_metrics": True, "consolidated_metrics": False}
    assert re.fullmatch(r"[0-9a-f]{12}", body["database_identity"])
    assert body["version"] and body["timestamp"].endswith("Z")


def test_version_prefers_autopack_version(api_client, settings):
    settings.AUTOPACK_VERSION = "2026.11.3"
    assert api_client.get("/health").json()["version"] == "2026.11.3"


def test_ready_is_health_json_and_passes(api_client):
    response = api_client.get("/health/ready")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/health+json"
    body = response.json()
    assert body["status"] == "pass"
    assert set(body["checks"]) == {
        "database:responseTime",
        "migrations:pending",
        "killSwitch:phase6_metrics",
        "killSwitch:consolidated_metrics",
    }
    database = body["checks"]["database:responseTime"][0]
    assert database["status"] == "pass" and database["observedUnit"] == "ms"
    assert set(database) >= {"observedValue", "observedUnit", "status", "time"}
    assert body["checks"]["migrations:pending"][0]["observedValue"] == 0


def test_live_touches_no_database(api_client, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = api_client.get("/health/live")
    assert response.status_code == 200 and response.json() == {"status": "pass"}


def test_health_needs_no_key_and_accepts_trailing_slash(api_client):
    assert api_client.get("/health/").status_code == 200
    assert api_client.get("/health/ready/").status_code == 200


def test_database_identity_masks_credentials(settings):
    db = settings.DATABASES["default"]
    first = health.database_identity_of({**db, "USER": "alice", "PASSWORD": "one"})
    assert health.database_identity_of({**db, "USER": "bob", "PASSWORD": "two"}) == first
    assert health.database_identity_of({**db, "NAME": "other_db"}) != first
    assert health.database_identity() == first


def test_unreachable_broker_warns_but_stays_ready(api_client, settings):
    settings.CELERY_BROKER_URL = "redis://:hunter2@127.0.0.1:1/0"
    response = api_client.get("/health/ready")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "warn"
    assert body["checks"]["broker:connection"][0]["status"] == "warn"
    assert (
        "hunter2" not in response.content.decode() and "127.0.0.1" not in response.content.decode()
    )


def test_reachable_redis_broker_passes(api_client, settings):
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:6379/0"
    body = api_client.get("/health/ready").json()
    assert body["checks"]["broker:connection"][0]["status"] == "pass"


@pytest.fixture
def qdrant_stub():
    """A real HTTP server answering Qdrant's /readyz."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200 if self.path == "/readyz" else 404)
            self.end_headers()
            self.wfile.write(b"all shards are ready")

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()


def test_qdrant_checked_only_when_configured(api_client, settings, qdrant_stub):
    assert "qdrant:connection" not in api_client.get("/health/ready").json()["checks"]
    settings.QDRANT_HOST, settings.QDRANT_PORT = "127.0.0.1", qdrant_stub
    body = api_client.get("/health/ready").json()
    assert (body["status"], body["checks"]["qdrant:connection"][0]["status"]) == ("pass", "pass")


def test_qdrant_down_warns(api_client, settings):
    from autopack_site.testing import free_port

    settings.QDRANT_HOST, settings.QDRANT_PORT = "127.0.0.1", free_port()
    response = api_client.get("/health/ready")
    assert response.status_code == 200 and response.json()["status"] == "warn"


def test_health_check_command_passes_when_ready():
    out = StringIO()
    call_command("health_check", stdout=out)
    assert "Ready: status pass." in out.getvalue()


# --- Real server in a subprocess --------------------------------------------------


def test_unreachable_database_is_503_and_live_still_answers():
    env = subprocess_env(DATABASE_URL=UNREACHABLE_POSTGRES, DATABASE_CONNECT_TIMEOUT="2")
    with running_server(env) as base_url:
        status, body, _ = http_get(f"{base_url}/health")
        assert status == 503
        assert (body["status"], body["db_ok"]) == ("unhealthy", False)
        ready_status, ready, content_type = http_get(f"{base_url}/health/ready")
        assert (ready_status, ready["status"], content_type) == (
            503,
            "fail",
            "application/health+json",
        )
        assert http_get(f"{base_url}/health/live")[0] == 200
        # No password, user or host name in any health output.
        for text in (str(body), str(ready)):
            assert "s3cret-pw" not in text and "127.0.0.1" not in text and "postgres:" not in text


def test_pending_migrations_are_503(tmp_path: Path):
    env = subprocess_env(DATABASE_URL=f"sqlite:///{tmp_path / 'unmigrated.sqlite3'}")
    with running_server(env) as base_url:
        status, body, _ = http_get(f"{base_url}/health")
        assert status == 503
        assert (body["db_ok"], body["status"]) == (True, "unhealthy")
        assert body["migrations_pending"] > 0
        ready_status, ready, _ = http_get(f"{base_url}/health/ready")
        assert ready_status == 503 and ready["checks"]["migrations:pending"][0]["status"] == "fail"


def test_health_check_command_exit_codes(tmp_path: Path):
    database = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    not_migrated = manage("health_check", env=subprocess_env(DATABASE_URL=database))
    assert not_migrated.returncode == 1
    assert "migrations:pending" in not_migrated.stderr
    assert manage("migrate", "-v0", env=subprocess_env(DATABASE_URL=database)).returncode == 0
    ready = manage("health_check", env=subprocess_env(DATABASE_URL=database))
    assert ready.returncode == 0, ready.stderr
    unreachable = manage(
        "health_check",
        env=subprocess_env(DATABASE_URL=UNREACHABLE_POSTGRES, DATABASE_CONNECT_TIMEOUT="2"),
    )
    assert unreachable.returncode == 1 and "database:responseTime" in unreachable.stderr


def test_health_endpoints_only_answer_safe_methods(api_client):
    assert api_client.post("/health").status_code == 405
    assert api_client.head("/health/live").status_code == 200
