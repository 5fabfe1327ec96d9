"""Campaign bookkeeping without executors: selection, clones, claims, resume, cancel."""

import re
from datetime import UTC, date, datetime, timedelta

import pytest
from django.db import IntegrityError, transaction
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from metrics.models import IDENTIFIER_MAX_LENGTH, IDENTIFIER_PATTERN, Phase, Run, Tier
from replay import services
from replay.models import ReplayAttempt, ReplayCampaign
from replay.selectors import replay_candidates, replay_states, runs_for_replay
from replay.tests.factories import failed_run, queued_campaign

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 11, 20, 12, 0, 0, tzinfo=UTC)


@given(
    st.from_regex(rf"\A{IDENTIFIER_PATTERN}\Z").filter(lambda s: len(s) <= IDENTIFIER_MAX_LENGTH)
)
@hypothesis_settings(max_examples=60)
def test_replay_ids_keep_the_original_the_moment_and_fit_the_limit(original):
    replay_id = services.replay_run_id(original, now=NOW)
    head, _, suffix = replay_id.rpartition("-")
    assert len(replay_id) <= IDENTIFIER_MAX_LENGTH
    assert head.endswith("-replay-20261120T120000") and len(suffix) == 4
    assert original.startswith(head[: -len("-replay-20261120T120000")])
    assert re.fullmatch(IDENTIFIER_PATTERN, replay_id)


def test_replay_ids_differ_within_one_second():
    ids = {services.replay_run_id("run", now=NOW) for _ in range(200)}
    assert len(ids) > 190  # 36**4 suffixes: collisions are rare, never systematic


def test_a_clone_copies_the_settings_and_resets_the_history():
    original = failed_run("orig-1")
    clone = services.run_clone_for_replay(original=original, now=NOW)
    clone = Run.objects.get(pk=clone.pk)
    for field in services.RUN_SETTINGS:
        assert getattr(clone, field) == getattr(original, field), field
    assert clone.replay_of_id == original.pk and clone.id.startswith("orig-1-replay-")
    assert clone.state == Run.State.RUN_CREATED and clone.created_at == NOW
    assert clone.started_at is None and clone.completed_at is None and clone.failure_reason == ""
    assert clone.feature_flags == {"phase6_metrics": True, "consolidated_metrics": True}
    pairs = [
        (a, b)
        for a, b in zip(
            original.tiers.order_by("tier_index"), clone.tiers.order_by("tier_index"), strict=True
        )
    ]
    for source, copy in pairs:
        assert [getattr(copy, f) for f in services.TIER_SETTINGS] == [
            getattr(source, f) for f in services.TIER_SETTINGS
        ]
        assert copy.state == Tier.State.PENDING
    originals = list(original.phases.order_by("phase_index"))
    copies = list(clone.phases.order_by("phase_index"))
    assert len(copies) == len(originals) == 3
    for source, copy in zip(originals, copies, strict=True):
        for field in services.PHASE_SETTINGS:
            assert getattr(copy, field) == getattr(source, field), field
        assert copy.tier.tier_id == source.tier.tier_id and copy.tier.run_id == clone.pk
        assert copy.state == Phase.State.QUEUED
        assert (copy.builder_attempts, copy.auditor_attempts, copy.last_failure_reason) == (
            0,
            0,
            "",
        )
        assert copy.started_at is None and copy.completed_at is None
    assert not clone.phase_metrics.exists() and not clone.events.exists()


def test_states_and_replays_of_replays_in_the_selection():
    failed = failed_run("f1")
    budget = failed_run("f2", state=Run.State.DONE_FAILED_BUDGET_EXHAUSTED)
    failed_run("ok", state=Run.State.DONE_SUCCESS)
    replay = services.run_clone_for_replay(original=failed, now=NOW)
    Run.objects.filter(pk=replay.pk).update(state=Run.State.DONE_FAILED_ENVIRONMENT)
    assert list(runs_for_replay()) == [failed, budget]
    assert list(runs_for_replay(state="DONE_SUCCESS")) == [Run.objects.get(pk="ok")]
    assert [run.pk for run in runs_for_replay(run_ids=[replay.pk])] == [replay.pk]
    with pytest.raises(ValueError, match="DONE_FAILED_ENVIRONMENT"):
        replay_states("BROKEN")


def test_date_bounds_take_whole_utc_days():
    day = date(2026, 11, 10)
    start = datetime(2026, 11, 10, tzinfo=UTC)
    failed_run("before", created_at=start - timedelta(microseconds=1))
    failed_run("first", created_at=start)
    failed_run("last", created_at=start + timedelta(days=1) - timedelta(microseconds=1))
    failed_run("after", created_at=start + timedelta(days=1))
    chosen = runs_for_replay(date_from=day, date_to=day)
    assert [run.pk for run in chosen] == ["first", "last"]
    assert [run.pk for run in runs_for_replay(date_to=date.max)] == [
        "before",
        "first",
        "last",
        "after",
    ]


def test_candidates_say_why_each_run_failed():
    run = failed_run("why")
    (row,) = replay_candidates(runs_for_replay(run_ids=[run.pk]))
    assert row["failed_phases"] == 1 and row["state"] == run.state
    assert row["last_failure_reason"] == "phase failed"  # the run's own reason first


def test_a_campaign_never_holds_a_run_twice():
    run = failed_run("twice")
    campaign = queued_campaign(run)
    with pytest.raises(IntegrityError), transaction.atomic():
        ReplayAttempt.objects.create(campaign=campaign, original_run=run)


def test_claiming_clones_once_and_never_twice(settings, tmp_path):
    settings.AUTOPACK_REPLAY_RESULTS_DIR = tmp_path
    campaign = queued_campaign(failed_run("claim"))
    attempt = campaign.attempts.get()
    claimed = services.attempt_claim(attempt_id=attempt.pk)
    assert claimed.status == ReplayAttempt.Status.RUNNING and claimed.replay_run_id
    assert services.attempt_claim(attempt_id=attempt.pk) is None  # a redelivery
    assert Run.objects.filter(replay_of_id="claim").count() == 1
    campaign.refresh_from_db()
    assert campaign.status == ReplayCampaign.Status.RUNNING and campaign.started_at


def test_resume_requeues_a_lost_attempt_on_the_same_clone(settings, tmp_path):
    settings.AUTOPACK_REPLAY_RESULTS_DIR = tmp_path
    campaign = queued_campaign(failed_run("lost"))
    attempt = services.attempt_claim(attempt_id=campaign.attempts.get().pk)
    clone = attempt.replay_run
    Phase.objects.filter(run=clone).update(state=Phase.State.COMPLETE, builder_attempts=1)
    with pytest.raises(services.CampaignBusy):
        services.campaign_resume(campaign=campaign)  # its runner may still be alive
    ReplayAttempt.objects.filter(pk=attempt.pk).update(
        updated_at=datetime.now(UTC) - services.stale_after() - timedelta(seconds=1)
    )
    assert services.campaign_resume(campaign=campaign) == 1
    attempt.refresh_from_db()
    assert attempt.status == ReplayAttempt.Status.QUEUED and attempt.replay_run_id == clone.pk
    assert set(clone.phases.values_list("state", flat=True)) == {Phase.State.QUEUED}
    assert Run.objects.filter(replay_of_id="lost").count() == 1


def test_cancel_stops_queued_attempts_and_finishes_an_idlequeued_campaign(settings, tmp_path):
    settings.AUTOPACK_REPLAY_RESULTS_DIR = tmp_path
    campaign = queued_campaign(failed_run("c1"), failed_run("c2"))
    assert services.campaign_cancel(campaign=campaign) == 2
    assert services.campaign_finish_if_done(campaign=campaign)
    campaign.refresh_from_db()
    assert campaign.status == ReplayCampaign.Status.CANCELLED and campaign.finished_at
    assert not Run.objects.filter(replay_of__isnull=False).exists()
    assert (tmp_path / f"{campaign.pk}_summary.json").is_file()
