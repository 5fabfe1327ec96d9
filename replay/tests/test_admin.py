"""Campaigns in the admin: progress, links, and the cancel and resume actions."""

import time
from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
from django.core.management import call_command

from replay import services
from replay.models import ReplayAttempt, ReplayCampaign
from replay.tests.factories import failed_run, queued_campaign

CHANGELIST = "/admin/replay/replaycampaign/"


@pytest.fixture
def finished_campaign(replay_settings):
    failed_run("admin-1")
    failed_run("admin-2")
    call_command("replay_campaign", stdout=StringIO(), stderr=StringIO())
    return ReplayCampaign.objects.get()


def test_the_list_shows_progress_and_recovery(admin_client, finished_campaign):
    page = admin_client.get(CHANGELIST).content.decode()
    assert finished_campaign.pk in page and "2/2" in page and "2 (100%)" in page


def test_a_campaign_page_links_both_runs_the_pairs_and_the_summary(admin_client, finished_campaign):
    page = admin_client.get(f"{CHANGELIST}{finished_campaign.pk}/change/").content.decode()
    for attempt in finished_campaign.attempts.all():
        assert f"/admin/metrics/run/{attempt.original_run_id}/change/" in page
        assert f"/admin/metrics/run/{attempt.replay_run_id}/change/" in page
    assert "valid</a>" in page and f"?test_id={finished_campaign.pk}" in page
    assert f"{finished_campaign.pk}_summary.md" in page and "SUCCEEDED 2" in page


def test_cancel_action_stops_a_queued_campaign(admin_client, db, settings, tmp_path):
    settings.AUTOPACK_REPLAY_RESULTS_DIR = tmp_path
    campaign = queued_campaign(failed_run("queued"))
    admin_client.post(CHANGELIST, {"action": "cancel", "_selected_action": [campaign.pk]})
    campaign.refresh_from_db()
    assert campaign.status == ReplayCampaign.Status.CANCELLED
    assert campaign.attempts.get().status == ReplayAttempt.Status.CANCELLED


def test_resume_action_runs_a_lost_attempt_in_the_background(admin_client, replay_settings):
    campaign = queued_campaign(failed_run("lost-one"))
    attempt = services.attempt_claim(attempt_id=campaign.attempts.get().pk)
    ReplayAttempt.objects.filter(pk=attempt.pk).update(
        updated_at=datetime.now(UTC) - timedelta(minutes=5)
    )
    response = admin_client.post(
        CHANGELIST, {"action": "resume", "_selected_action": [campaign.pk]}
    )
    assert response.status_code == 302
    deadline = time.monotonic() + 30
    while not ReplayCampaign.objects.get(pk=campaign.pk).is_finished:
        assert time.monotonic() < deadline
        time.sleep(0.2)
    attempt.refresh_from_db()
    assert (
        attempt.status == ReplayAttempt.Status.SUCCEEDED
        and attempt.replay_run.state == "DONE_SUCCESS"
    )
