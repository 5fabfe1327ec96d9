"""`POST /runs/{id}/execute` and the api executor: Autopack's `run_parallel.py
--executor api` contract, end to end against a live server of this project."""

import json
import time
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

from autopack_site.ops.http import JsonClient
from metrics.models import Run
from replay.models import ReplayCampaign
from replay.services import run_clone_for_replay
from replay.tests.factories import failed_run
from replay.tests.helpers import DRIVE


@pytest.fixture
def server(replay_settings, live_server):
    return live_server


def _poll(client: JsonClient, run_id: str, timeout: float = 30) -> list[str]:
    """Poll as Autopack's api executor does; the states seen, in order."""
    seen: list[str] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        reply = client.request("GET", f"/runs/{run_id}/status")
        assert reply.status == 200
        state = reply.body["state"]
        if not seen or seen[-1] != state:
            seen.append(state)
        if state in ("COMPLETE", "FAILED", "CANCELLED", "TIMEOUT"):
            return seen
        time.sleep(0.1)
    raise AssertionError(f"no terminal state: {seen}")


def test_execute_starts_the_local_executor_once_and_status_follows_it(server, api_key):
    clone = run_clone_for_replay(original=failed_run("to-execute"))
    client = JsonClient(server.url, api_key, bearer=True)
    reply = client.request("POST", f"/runs/{clone.pk}/execute", {})
    assert reply.status == 200
    assert reply.body == {
        "run_id": clone.pk,
        "status": "started",
        "message": f"Run {clone.pk} is executing.",
        "state": "PHASE_EXECUTION",
    }
    again = client.request("POST", f"/runs/{clone.pk}/execute", {})
    assert again.status == 409 and "already executing" in again.body["detail"]
    seen = _poll(client, clone.pk)
    assert seen[-1] == "COMPLETE" and "RUNNING" in seen
    clone.refresh_from_db()
    assert clone.state == "DONE_SUCCESS" and clone.started_at is not None
    finished = client.request("POST", f"/runs/{clone.pk}/execute", {})
    assert finished.status == 409 and "finished" in finished.body["detail"]
    assert client.request("POST", "/runs/nope/execute", {}).status == 404


def test_execute_without_an_executor_is_a_503_and_changes_nothing(server, api_key, settings):
    settings.AUTOPACK_EXECUTOR_COMMAND = ""
    clone = run_clone_for_replay(original=failed_run("unexecuted"))
    reply = JsonClient(server.url, api_key).request("POST", f"/runs/{clone.pk}/execute", {})
    assert reply.status == 503 and reply.body["code"] == "replay_unavailable"
    clone.refresh_from_db()
    assert clone.state == Run.State.RUN_CREATED


def test_execute_needs_a_key(server):
    run = failed_run("locked")
    assert JsonClient(server.url, None).request("POST", f"/runs/{run.pk}/execute").status in (
        401,
        403,
    )


def test_a_campaign_with_the_api_executor_against_this_server(server, settings):
    failed_run("via-api-1")
    failed_run("via-api-2")
    out = StringIO()
    call_command("replay_campaign", "--executor", "api", "--json", stdout=out, stderr=StringIO())
    document = json.loads(out.getvalue())
    assert document["status"] == "COMPLETED" and document["attempts"]["SUCCEEDED"] == 2
    campaign = ReplayCampaign.objects.get()
    assert campaign.executor == "api"
    for attempt in campaign.attempts.select_related("replay_run"):
        assert attempt.replay_run.state == "DONE_SUCCESS"
        log = Path(attempt.log_path).read_text(encoding="utf-8")
        assert "/execute: HTTP 200" in log and "state COMPLETE" in log


def test_the_api_executor_reports_a_failed_run_as_a_failed_attempt(server, settings):
    settings.AUTOPACK_EXECUTOR_COMMAND = DRIVE + " 0.0"
    failed_run("via-api-fails")
    call_command("replay_campaign", "--executor", "api", stdout=StringIO(), stderr=StringIO())
    attempt = ReplayCampaign.objects.get().attempts.get()
    assert attempt.status == "FAILED" and attempt.error == "the server reported FAILED"
    assert attempt.replay_run.state == "DONE_FAILED_REQUIRES_HUMAN_REVIEW"
