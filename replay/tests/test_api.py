"""The replay API: a dry run unless the client says otherwise; field errors; start,
inspect, cancel, resume."""

import time

import pytest

from replay import services
from replay.models import ReplayAttempt, ReplayCampaign
from replay.tests.factories import failed_run, queued_campaign

URL = "/api/v1/replay-campaigns/"


@pytest.mark.django_db
def test_a_post_is_a_dry_run_unless_the_client_says_otherwise(authed_client):
    failed_run("api-1")
    response = authed_client.post(URL, {"run_ids": ["api-1"]}, format="json")
    assert response.status_code == 200
    body = response.json()
    assert body["dry_run"] is True and [row["run_id"] for row in body["runs"]] == ["api-1"]
    assert not ReplayCampaign.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "body, field",
    [
        ({"state": "BROKEN"}, "state"),
        ({"run_ids": ["bad id!"]}, "run_ids"),
        ({"run_ids": [7]}, "run_ids"),
        ({"expand_patterns": 0}, "expand_patterns"),
        ({"from_date": "2026-13-01"}, "from_date"),
        ({"batch_size": 0}, "batch_size"),
        ({"timeout_seconds": -1}, "timeout_seconds"),
        ({"executor": "ssh"}, "executor"),
        ({"dry_run": "perhaps"}, "dry_run"),
    ],
)
def test_bad_filters_are_field_errors(authed_client, body, field):
    response = authed_client.post(URL, body, format="json")
    assert response.status_code == 400 and field in response.json()
    assert not ReplayCampaign.objects.exists()


@pytest.mark.django_db
def test_a_run_named_that_does_not_exist_is_404_and_an_empty_window_selects_nothing(
    authed_client,
):
    failed_run("api-1")
    ghost = authed_client.post(URL, {"run_ids": ["api-1", "ghost"], "dry_run": False})
    assert ghost.status_code == 404 and "ghost" in ghost.json()["detail"]
    backwards = {"from_date": "2026-11-02", "to_date": "2026-11-01", "dry_run": False}
    empty = authed_client.post(URL, backwards, format="json")
    assert empty.status_code == 200 and empty.json()["runs"] == []
    assert not ReplayCampaign.objects.exists()


def test_a_started_campaign_runs_in_the_background_and_shows_its_attempts(
    authed_client, replay_settings
):
    failed_run("api-run")
    response = authed_client.post(URL, {"dry_run": False, "batch_size": 2}, format="json")
    assert response.status_code == 202
    campaign_id = response.json()["id"]
    deadline = time.monotonic() + 30
    while not ReplayCampaign.objects.get(pk=campaign_id).is_finished:
        assert time.monotonic() < deadline
        time.sleep(0.2)
    detail = authed_client.get(f"{URL}{campaign_id}/").json()
    assert detail["status"] == "COMPLETED" and detail["attempt_counts"]["SUCCEEDED"] == 1
    (attempt,) = detail["attempts"]
    assert attempt["original_run"] == "api-run" and attempt["replay_run"].startswith("api-run-")
    assert [row["id"] for row in authed_client.get(URL).json()["results"]] == [campaign_id]
    finished = authed_client.post(f"{URL}{campaign_id}/cancel/")
    assert finished.status_code == 409 and finished.json()["code"] == "conflict"


def test_no_executor_is_a_503_and_clones_nothing(authed_client, replay_settings):
    replay_settings.AUTOPACK_EXECUTOR_COMMAND = ""
    failed_run("nothing")
    response = authed_client.post(URL, {"dry_run": False}, format="json")
    assert response.status_code == 503 and response.json()["code"] == "replay_unavailable"
    assert "AUTOPACK_EXECUTOR_COMMAND" in response.json()["detail"]
    assert not ReplayCampaign.objects.exists()


@pytest.mark.django_db
def test_cancel_a_queued_campaign(authed_client, settings, tmp_path):
    settings.AUTOPACK_REPLAY_RESULTS_DIR = tmp_path
    campaign = queued_campaign(failed_run("to-cancel"))
    response = authed_client.post(f"{URL}{campaign.pk}/cancel/")
    assert response.status_code == 202 and response.json()["status"] == "CANCELLED"
    assert authed_client.post(f"{URL}missing/cancel/").status_code == 404


@pytest.mark.django_db
def test_the_replay_api_needs_a_key(api_client):
    assert api_client.get(URL).status_code in (401, 403)
    assert api_client.post(URL, {}, format="json").status_code in (401, 403)


def test_resume_is_refused_while_another_runner_beats(authed_client, replay_settings):
    campaign = queued_campaign(failed_run("beating"))
    services.attempt_claim(attempt_id=campaign.attempts.get().pk)
    response = authed_client.post(f"{URL}{campaign.pk}/resume/")
    assert response.status_code == 409 and "running elsewhere" in response.json()["detail"]
    assert campaign.attempts.get().status == ReplayAttempt.Status.RUNNING
