"""The in-process pool's threads: one database connection each for their life, and a
pool that goes on whatever one attempt does (both databases, real commits)."""

import threading

import pytest
from django.db import connection
from django.db.backends.signals import connection_created

from replay import runner, services
from replay.benchmark import InstantExecutor
from replay.models import ReplayAttempt
from replay.tests.factories import failed_run, queued_campaign


@pytest.fixture
def results(settings, tmp_path):
    settings.AUTOPACK_REPLAY_RESULTS_DIR = tmp_path / "results"


@pytest.fixture
def opened():
    """Database connections opened by threads other than this one, as they open."""
    found = []

    def record(sender, connection, **kwargs):
        if threading.current_thread() is not threading.main_thread():
            found.append(connection)

    connection_created.connect(record)
    yield found
    connection_created.disconnect(record)


def test_each_pool_thread_keeps_one_connection_and_closes_it(
    transactional_db, results, opened, monkeypatch
):
    # Persistent connections, as the settings have them by default.
    monkeypatch.setitem(connection.settings_dict, "CONN_MAX_AGE", 60)
    campaign = queued_campaign(*[failed_run(f"orig-{n}") for n in range(6)], batch_size=2)
    campaign = runner.campaign_run(campaign=campaign, executor=InstantExecutor())
    assert campaign.status == "COMPLETED"
    # Six attempts, two threads: a connection per thread, not per attempt.
    assert len(opened) == 2
    assert all(wrapper.connection is None for wrapper in opened)


class _BreaksOn(InstantExecutor):
    def run(self, run_id, **kwargs):
        if run_id.startswith("orig-1-"):
            raise RuntimeError("executor broke")
        return super().run(run_id, **kwargs)


def test_an_attempt_whose_error_cannot_be_recorded_does_not_stall_the_pool(
    transactional_db, results, monkeypatch
):
    campaign = queued_campaign(*[failed_run(f"orig-{n}") for n in range(4)], batch_size=2)

    def unrecordable(*, attempt_id, reason):
        raise RuntimeError("the database went away")

    monkeypatch.setattr(services, "attempt_error", unrecordable)
    runner.campaign_run(campaign=campaign, executor=_BreaksOn())
    statuses = dict(campaign.attempts.values_list("original_run_id", "status"))
    # The broken one stays RUNNING for a later --resume to take over; the rest ran.
    assert statuses.pop("orig-1") == ReplayAttempt.Status.RUNNING
    assert set(statuses.values()) == {ReplayAttempt.Status.SUCCEEDED}
