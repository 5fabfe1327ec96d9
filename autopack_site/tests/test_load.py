"""Load and faults against the production server: gunicorn with the project's
config, concurrent ingestion clients (autopack_site.loadtest, small numbers here;
docs/STAGING_ROLLOUT.md has the full 50 x 10,000 figures), PostgreSQL restarted
mid-load on a throwaway cluster."""

import time

import pytest
from django.db import connection

from autopack_site import loadtest
from autopack_site.api.keys import api_key_create
from autopack_site.api.scopes import INGEST
from autopack_site.testing import (
    database_url,
    manage,
    postgres_binaries_present,
    running_server,
    subprocess_env,
    throwaway_postgres,
)

pytestmark = [pytest.mark.load, pytest.mark.django_db(transaction=True)]


def server_env(url: str) -> dict[str, str]:
    return subprocess_env(
        DATABASE_URL=url,
        AUTOPACK_ENABLE_PHASE6_METRICS="1",
        AUTOPACK_RETRY_AFTER_SECONDS="1",
        GUNICORN_WORKERS="2",
        GUNICORN_THREADS="4",
    )


@pytest.fixture
def served(tmp_path):
    """gunicorn on this test's database, and an ingest key."""
    _, key = api_key_create(name="load", scope=INGEST)
    env = server_env(database_url(connection.settings_dict))
    with running_server(env, gunicorn=True, log_path=tmp_path / "gunicorn.log") as base_url:
        yield base_url, key


def test_every_acknowledged_row_is_stored_once_and_a_resend_changes_nothing(served):
    base_url, key = served
    figures = loadtest.run_load(
        base_url=base_url,
        api_key=key,
        clients=8,
        rows_per_client=2000,
        batch_rows=500,
        resend=True,
    )
    assert loadtest.held(figures), loadtest.report(figures)
    assert figures["statuses"] == {201: 32}  # 8 clients x 4 batches, each created
    assert figures["resend_statuses"] == {200: 32}  # nothing new the second time
    assert figures["rows_stored"] == figures["rows_acknowledged"] == 16_000
    assert figures["probe_failures"] == 0


def test_racing_duplicates_all_succeed(served):
    base_url, key = served
    figures = loadtest.run_load(
        base_url=base_url, api_key=key, clients=8, race=4, rows_per_client=1000, batch_rows=250
    )
    assert loadtest.held(figures), loadtest.report(figures)
    # 2 runs x 4 batches, each sent by 4 clients at once: one creates, three find it.
    assert figures["statuses"] == {200: 24, 201: 8}
    assert figures["rows_stored"] == 2000


def _restart(cluster) -> None:
    cluster.restart()


def _stop_for_two_seconds(cluster) -> None:
    cluster.stop()
    time.sleep(2)
    cluster.start()


@pytest.mark.skipif(not postgres_binaries_present(), reason="needs PostgreSQL 15's binaries")
@pytest.mark.parametrize("fault", [_restart, _stop_for_two_seconds], ids=["restart", "stop"])
def test_postgresql_restarted_or_stopped_mid_load_is_503_with_retry_after_then_the_exact_count(
    tmp_path, fault
):
    if connection.vendor != "postgresql":
        pytest.skip("runs once, in the PostgreSQL run (it starts its own cluster)")
    with throwaway_postgres() as cluster:
        env = server_env(cluster.url)
        migrated = manage("migrate", "--no-input", env=env, timeout=300)
        assert migrated.returncode == 0, migrated.stderr
        made = manage("create_api_key", "load", "--scope", "ingest", env=env)
        assert made.returncode == 0, made.stderr
        key = made.stdout.strip()
        restarted: list[float] = []

        def restart() -> None:
            time.sleep(0.3)
            fault(cluster)
            restarted.append(time.monotonic())

        with running_server(env, gunicorn=True, log_path=tmp_path / "gunicorn.log") as base_url:
            figures = loadtest.run_load(
                base_url=base_url,
                api_key=key,
                clients=6,
                rows_per_client=6000,
                batch_rows=200,
                during=restart,
            )
            finished = time.monotonic()
    report = loadtest.report(figures)
    assert restarted and restarted[0] < finished, report
    # Clients saw the restart as 503 + Retry-After only, resent, and lost nothing.
    assert loadtest.held(figures), report
    assert set(figures["statuses"]) <= {201, 503}, report
    assert figures["rows_stored"] == 36_000, report
