"""Campaigns on the real task queue: Celery workers in subprocesses against Redis on
127.0.0.1:6379 (a database of its own), executors driving a live server."""

import contextlib
import json
import os
import signal
import subprocess
import time
from io import StringIO

import psutil
import pytest
from django.core.management import call_command
from django.db import connection

from abtests.models import ABTestResult
from autopack_site.celery import app
from autopack_site.ops.http import JsonClient
from autopack_site.testing import (
    celery_worker,
    database_url,
    manage_in_background,
    subprocess_env,
)
from metrics.models import PhaseMetrics, Run
from replay.executors import kill_tree
from replay.models import ReplayAttempt, ReplayCampaign
from replay.services import run_clone_for_replay
from replay.tests.factories import failed_run
from replay.tests.helpers import DRIVE, peak_concurrency

BROKER = os.environ.get("AUTOPACK_TEST_BROKER_URL", "redis://127.0.0.1:6379/15")


def _redis():
    import redis

    client = redis.Redis.from_url(BROKER, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.exceptions.ConnectionError:
        if os.environ.get("AUTOPACK_REQUIRE_BROKER") == "1":
            raise
        pytest.skip(f"no Redis at {BROKER}; .ci/run starts one")
    return client


@pytest.fixture
def queue(settings, live_server, phase6_on, tmp_path):
    """Redis emptied, this process sending to it, and a way to start workers."""
    _redis().flushdb()
    settings.CELERY_BROKER_URL = BROKER
    settings.AUTOPACK_API_URL = live_server.url
    settings.AUTOPACK_REPLAY_RESULTS_DIR = tmp_path / "results"
    settings.AUTOPACK_EXECUTOR_COMMAND = DRIVE + f" 1.0 {tmp_path / 'record.txt'}"
    previous = app.conf.broker_url
    app.conf.broker_url = BROKER
    workers: list[subprocess.Popen] = []

    def start_worker(name: str, *, concurrency: int = 2, **env: str) -> subprocess.Popen:
        process = celery_worker(
            name,
            subprocess_env(
                DATABASE_URL=database_url(connection.settings_dict),
                CELERY_BROKER_URL=BROKER,
                CELERY_VISIBILITY_TIMEOUT="4",
                CELERY_UNACKED_RESTORE_INTERVAL="1",
                CELERY_UNACKED_RESTORE_THROTTLE="1",
                AUTOPACK_API_URL=live_server.url,
                AUTOPACK_EXECUTOR_COMMAND=settings.AUTOPACK_EXECUTOR_COMMAND,
                AUTOPACK_REPLAY_RESULTS_DIR=str(settings.AUTOPACK_REPLAY_RESULTS_DIR),
                AUTOPACK_REPLAY_HEARTBEAT_SECONDS="0.5",
                AUTOPACK_REPLAY_STALE_SECONDS="3",
                **env,
            ),
            tmp_path / f"{name}.log",
            concurrency=concurrency,
        )
        workers.append(process)
        return process

    yield start_worker
    for process in workers:
        kill_tree(process.pid)  # the worker, its pool and any executor, whatever state
        process.wait(timeout=10)
    app.conf.broker_url = previous


def _kill_tree(pid: int, sig: int) -> None:
    try:
        root = psutil.Process(pid)
    except psutil.NoSuchProcess:
        return
    for process in [*root.children(recursive=True), root]:
        with contextlib.suppress(psutil.NoSuchProcess):
            process.send_signal(sig)


def _finished(campaign_id: str, timeout: float = 60) -> ReplayCampaign:
    deadline = time.monotonic() + timeout
    while not (campaign := ReplayCampaign.objects.get(pk=campaign_id)).is_finished:
        assert time.monotonic() < deadline, list(campaign.attempts.values_list("status", flat=True))
        time.sleep(0.2)
    return campaign


def test_workers_run_a_campaign_never_past_its_batch_size(queue, tmp_path):
    queue("one", DRIVE_DELAY="0.5")
    queue("two", DRIVE_DELAY="0.5")  # four places in all, for a batch of two
    for n in range(5):
        failed_run(f"queued-{n}")
    out = StringIO()
    call_command("replay_campaign", "--batch-size", "2", "--json", stdout=out, stderr=StringIO())
    document = json.loads(out.getvalue())
    assert document["status"] == "COMPLETED" and document["attempts"]["SUCCEEDED"] == 5
    assert peak_concurrency(tmp_path / "record.txt") == 2
    campaign = ReplayCampaign.objects.get()
    assert ABTestResult.objects.filter(test_id=campaign.pk, is_valid=True).count() == 5
    assert (tmp_path / "results" / f"{campaign.pk}_summary.json").is_file()


def test_no_wait_leaves_the_campaign_to_the_queue(queue):
    failed_run("later")
    out = StringIO()
    call_command("replay_campaign", "--no-wait", stdout=out, stderr=StringIO())
    assert "is on the queue" in out.getvalue()
    campaign = ReplayCampaign.objects.get()
    assert not campaign.is_finished  # nobody has run it yet
    queue("late")
    campaign = _finished(campaign.pk)
    assert campaign.status == ReplayCampaign.Status.COMPLETED


def test_a_worker_killed_mid_replay_is_redelivered_and_the_replay_runs_once(queue):
    doomed = queue("doomed", concurrency=1, DRIVE_DELAY="60")
    failed_run("survivor")
    call_command("replay_campaign", "--no-wait", stdout=StringIO(), stderr=StringIO())
    campaign = ReplayCampaign.objects.get()
    deadline = time.monotonic() + 30
    while not campaign.attempts.filter(status=ReplayAttempt.Status.RUNNING).exists():
        assert time.monotonic() < deadline
        time.sleep(0.1)
    first_clone = campaign.attempts.get().replay_run_id
    _kill_tree(doomed.pid, signal.SIGKILL)  # the machine is gone: worker, pool, executor
    doomed.wait(timeout=10)
    queue("heir", concurrency=1, DRIVE_DELAY="0")
    campaign = _finished(campaign.pk, timeout=90)
    attempt = campaign.attempts.get()
    assert attempt.status == ReplayAttempt.Status.SUCCEEDED
    assert attempt.replay_run_id == first_clone
    assert Run.objects.filter(replay_of_id="survivor").count() == 1
    assert ABTestResult.objects.filter(test_id=campaign.pk).count() == 1
    # One executor's ledger: a row per phase, nothing doubled.
    assert PhaseMetrics.objects.filter(run_id=first_clone).count() == 3


def test_execute_on_the_queue_is_run_by_a_worker(queue, live_server, api_key):
    queue("executor")
    clone = run_clone_for_replay(original=failed_run("queued-execute"))
    client = JsonClient(live_server.url, api_key, bearer=True)
    assert client.request("POST", f"/runs/{clone.pk}/execute", {}).status == 200
    deadline = time.monotonic() + 60
    while client.request("GET", f"/runs/{clone.pk}/status").body["state"] != "COMPLETE":
        assert time.monotonic() < deadline
        time.sleep(0.2)
    clone.refresh_from_db()
    assert clone.state == "DONE_SUCCESS"


def test_sigterm_on_the_queue_puts_running_attempts_back_and_resume_finishes(
    queue, live_server, tmp_path, settings
):
    slow = queue("slow", concurrency=2, DRIVE_DELAY="60")
    for n in range(3):
        failed_run(f"qterm-{n}")
    env = subprocess_env(
        DATABASE_URL=database_url(connection.settings_dict),
        CELERY_BROKER_URL=BROKER,
        AUTOPACK_API_URL=live_server.url,
        AUTOPACK_EXECUTOR_COMMAND=settings.AUTOPACK_EXECUTOR_COMMAND,
        AUTOPACK_REPLAY_RESULTS_DIR=str(settings.AUTOPACK_REPLAY_RESULTS_DIR),
    )
    command = manage_in_background("replay_campaign", "--batch-size", "2", env=env)
    try:
        deadline = time.monotonic() + 60
        while ReplayAttempt.objects.filter(status="RUNNING").count() < 2:
            assert time.monotonic() < deadline and command.poll() is None
            time.sleep(0.2)
        command.send_signal(signal.SIGTERM)
        _, stderr = command.communicate(timeout=60)
    finally:
        if command.poll() is None:
            command.kill()
    assert command.returncode == 130 and "--resume" in stderr
    campaign = ReplayCampaign.objects.get()
    assert campaign.interrupted_at is not None
    assert sorted(campaign.attempts.values_list("status", flat=True)) == ["QUEUED"] * 3
    clones = dict(
        campaign.attempts.exclude(replay_run=None).values_list("original_run_id", "replay_run_id")
    )
    assert len(clones) == 2
    _kill_tree(slow.pid, signal.SIGTERM)  # the resumed replays go to a quick worker
    slow.wait(timeout=30)
    queue("quick", concurrency=2, DRIVE_DELAY="0")
    call_command("replay_campaign", "--resume", campaign.pk, stdout=StringIO(), stderr=StringIO())
    campaign = _finished(campaign.pk, timeout=60)
    assert campaign.status == ReplayCampaign.Status.COMPLETED and campaign.interrupted_at is None
    assert Run.objects.filter(replay_of__isnull=False).count() == 3
    for original, clone in clones.items():
        assert campaign.attempts.get(original_run_id=original).replay_run_id == clone


def test_cancel_on_the_queue_kills_running_replays(queue):
    queue("victim", concurrency=2, DRIVE_DELAY="60")
    failed_run("qcancel-1")
    failed_run("qcancel-2")
    failed_run("qcancel-3")
    call_command(
        "replay_campaign", "--no-wait", "--batch-size", "2", stdout=StringIO(), stderr=StringIO()
    )
    campaign = ReplayCampaign.objects.get()
    deadline = time.monotonic() + 60
    while campaign.attempts.filter(status="RUNNING").count() < 2:
        assert time.monotonic() < deadline
        time.sleep(0.2)
    call_command("replay_campaign", "--cancel", campaign.pk, stdout=StringIO())
    campaign = _finished(campaign.pk, timeout=60)
    assert campaign.status == ReplayCampaign.Status.CANCELLED
    assert sorted(campaign.attempts.values_list("status", flat=True)) == ["CANCELLED"] * 3
    assert not ABTestResult.objects.filter(test_id=campaign.pk).exists()
