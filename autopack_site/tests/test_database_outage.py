"""A database that cannot be reached, or (SQLite) is locked by a writer, is a 503 with
Retry-After, never a 500; reads on SQLite do not wait for the write lock. The
failures are real: the connection is pointed at nothing, or another connection
holds the lock."""

import re
import socket
import sqlite3

import pytest
from django.db import connection
from rest_framework_api_key.models import APIKey

from autopack_site.db_outage import is_database_unavailable
from metrics.tests.factories import PhaseFactory, RunFactory

pytestmark = pytest.mark.django_db(transaction=True)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def key():
    _, key = APIKey.objects.create_key(name="outage")
    return key


class Outage:
    """Points this process's connection at no database (PostgreSQL: a port nobody
    listens on; SQLite: a folder that does not exist), and back."""

    def __init__(self):
        self.saved = dict(connection.settings_dict)

    def begin(self):
        connection.close()
        if connection.vendor == "postgresql":
            connection.settings_dict.update(HOST="127.0.0.1", PORT=str(_free_port()))
        else:
            connection.settings_dict["NAME"] = "/no/such/folder/db.sqlite3"

    def end(self):
        connection.close()
        connection.settings_dict.clear()
        connection.settings_dict.update(self.saved)


@pytest.fixture
def outage():
    cut = Outage()
    yield cut
    cut.end()


@pytest.mark.parametrize(
    "method, path, body",
    [
        ("get", "/api/v1/runs/", None),
        ("post", "/runs/start", {"run": {"run_id": "during-outage"}}),
        ("get", "/approval/pending", None),
        ("get", "/runs/any-run/status", None),
    ],
)
def test_an_unreachable_database_is_503_with_retry_after(client, key, outage, method, path, body):
    outage.begin()
    kwargs = {"data": body, "content_type": "application/json"} if body else {}
    response = getattr(client, method)(path, HTTP_X_API_KEY=key, **kwargs)
    assert response.status_code == 503
    assert response.json() == {
        "detail": "The database is unavailable; retry shortly.",
        "code": "database_unavailable",
    }
    assert int(response["Retry-After"]) > 0


def test_the_admin_says_503_too(admin_user, client, outage):
    client.force_login(admin_user)
    outage.begin()
    response = client.get("/admin/metrics/run/")
    assert response.status_code == 503 and response["Retry-After"]


def test_the_service_answers_again_when_the_database_is_back(client, key, outage):
    outage.begin()
    assert client.get("/api/v1/runs/", HTTP_X_API_KEY=key).status_code == 503
    outage.end()
    assert client.get("/api/v1/runs/", HTTP_X_API_KEY=key).status_code == 200


class Writer:
    """Another connection to the SQLite file, holding its write lock while `hold`
    is on; meanwhile this process waits 200 ms for the lock (not the configured 5 s)."""

    def __init__(self):
        self.options = connection.settings_dict["OPTIONS"]
        self.init_command = self.options["init_command"]
        self.other = sqlite3.connect(connection.settings_dict["NAME"], isolation_level=None)

    def hold(self):
        self.options["init_command"] = re.sub(
            r"busy_timeout=\d+", "busy_timeout=200", self.init_command
        )
        connection.close()
        self.other.execute("BEGIN IMMEDIATE")

    def release(self):
        if self.other.in_transaction:
            self.other.execute("ROLLBACK")
        self.options["init_command"] = self.init_command
        connection.close()


@pytest.fixture
def writer():
    if connection.vendor != "sqlite":
        pytest.skip("SQLite's write lock")
    holder = Writer()
    yield holder
    holder.release()
    holder.other.close()


def test_sqlite_reads_do_not_wait_for_a_writer_and_writes_are_503_while_it_holds_on(
    client, key, phase6_on, writer
):
    run = RunFactory()
    phase = PhaseFactory(tier__run=run)
    row = {
        "phase_id": phase.phase_id,
        "attempt": 1,
        "retrieval_tokens": 1,
        "second_opinion_tokens": 0,
        "evidence_request_tokens": 0,
        "base_tokens": 0,
    }

    def ingest():
        return client.post(
            f"/api/v1/runs/{run.pk}/metrics/",
            [row],
            content_type="application/json",
            HTTP_X_API_KEY=key,
        )

    writer.hold()
    # Reads take their snapshot without the write lock.
    assert client.get("/api/v1/runs/", HTTP_X_API_KEY=key).status_code == 200
    assert client.get(f"/runs/{run.pk}/status", HTTP_X_API_KEY=key).status_code == 200
    locked = ingest()
    assert locked.status_code == 503 and locked["Retry-After"]
    assert locked.json()["code"] == "database_unavailable"
    writer.release()
    assert ingest().status_code == 201


def test_errors_a_retry_would_repeat_are_not_outages(db):
    from django.db import OperationalError

    assert not is_database_unavailable(OperationalError("integer overflow"))
    assert not is_database_unavailable(ValueError("database is locked"))
    assert is_database_unavailable(OperationalError("database is locked"))
