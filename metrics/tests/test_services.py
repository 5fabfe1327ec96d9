"""Services of the run store: creation, phase roll-up, ledger upserts, events."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from metrics import services
from metrics.models import DashboardEvent, Phase, PhaseMetrics, Run, Tier
from metrics.tests.factories import PhaseFactory, PhaseMetricsFactory, RunFactory, TierFactory

pytestmark = pytest.mark.django_db


def make_run(**run_fields):
    return services.run_create(
        run_fields={"id": "svc-run", **run_fields},
        tiers=[{"tier_id": "T1", "tier_index": 0}, {"tier_id": "T2", "tier_index": 1}],
        phases=[
            {"phase_id": "p0", "tier_id": "T1", "phase_index": 0},
            {"phase_id": "p1", "tier_id": "T2", "phase_index": 1},
        ],
    )


def test_run_create_writes_run_tiers_and_phases():
    run = make_run(git_commit_sha="abc123")
    assert run.git_commit_sha == "abc123"
    assert list(run.tiers.values_list("tier_id", flat=True)) == ["T1", "T2"]
    assert list(run.phases.values_list("phase_id", "tier__tier_id")) == [
        ("p0", "T1"),
        ("p1", "T2"),
    ]


def test_run_create_records_kill_switch_states(monkeypatch):
    monkeypatch.setenv("AUTOPACK_ENABLE_PHASE6_METRICS", "1")
    run = make_run()
    assert run.feature_flags == {"phase6_metrics": True, "consolidated_metrics": False}


def test_run_create_refuses_existing_id():
    make_run()
    with pytest.raises(services.RunAlreadyExists, match="svc-run"):
        make_run()


def test_run_create_with_unknown_tier_writes_nothing():
    with pytest.raises(ValidationError, match="T9"):
        services.run_create(
            run_fields={"id": "bad-run"},
            tiers=[{"tier_id": "T1"}],
            phases=[{"phase_id": "p0", "tier_id": "T9"}],
        )
    assert not Run.objects.filter(pk="bad-run").exists()
    assert not Tier.objects.exists()


def test_run_create_refuses_duplicate_phase_ids_in_body():
    with pytest.raises(ValidationError, match="duplicate phase_id 'p0'"):
        services.run_create(
            run_fields={"id": "dup-run"},
            tiers=[{"tier_id": "T1"}],
            phases=[{"phase_id": "p0", "tier_id": "T1"}, {"phase_id": "p0", "tier_id": "T1"}],
        )
    assert not Run.objects.filter(pk="dup-run").exists()


def test_first_executing_phase_starts_the_run():
    run = make_run()
    now = timezone.now()
    services.phase_update(
        phase=run.phases.get(phase_id="p0"), changes={"state": "EXECUTING"}, now=now
    )
    run.refresh_from_db()
    assert run.state == Run.State.PHASE_EXECUTION
    assert run.started_at == now
    later = now + timedelta(minutes=5)
    services.phase_update(
        phase=run.phases.get(phase_id="p1"), changes={"state": "EXECUTING"}, now=later
    )
    run.refresh_from_db()
    assert run.started_at == now  # only the first one sets it


def test_run_succeeds_when_every_phase_is_complete_or_skipped():
    run = make_run()
    now = timezone.now()
    services.phase_update(
        phase=run.phases.get(phase_id="p0"), changes={"state": "COMPLETE"}, now=now
    )
    run.refresh_from_db()
    assert run.state == Run.State.PHASE_EXECUTION  # started, one phase still open
    assert run.started_at == now
    services.phase_update(
        phase=run.phases.get(phase_id="p1"), changes={"state": "SKIPPED"}, now=now
    )
    run.refresh_from_db()
    assert run.state == Run.State.DONE_SUCCESS
    assert run.completed_at == now


def test_run_needs_review_when_a_phase_failed_and_failure_is_an_event():
    run = make_run()
    services.phase_update(
        phase=run.phases.get(phase_id="p0"),
        changes={"state": "FAILED", "last_failure_reason": "Hunk #1 FAILED at 12"},
    )
    services.phase_update(phase=run.phases.get(phase_id="p1"), changes={"state": "COMPLETE"})
    run.refresh_from_db()
    assert run.state == Run.State.DONE_FAILED_REQUIRES_HUMAN_REVIEW
    event = DashboardEvent.objects.get(run=run)
    assert (event.event_type, event.message) == ("PHASE_FAILED", "Hunk #1 FAILED at 12")


def test_retrying_a_phase_reopens_a_rolled_up_run():
    run = make_run()
    for phase in run.phases.all():
        services.phase_update(phase=phase, changes={"state": "FAILED"})
    run.refresh_from_db()
    assert run.state == Run.State.DONE_FAILED_REQUIRES_HUMAN_REVIEW
    services.phase_update(phase=run.phases.get(phase_id="p0"), changes={"state": "EXECUTING"})
    run.refresh_from_db()
    assert (run.state, run.completed_at) == (Run.State.PHASE_EXECUTION, None)


def test_roll_up_keeps_an_explicit_verdict():
    run = make_run()
    Run.objects.filter(pk=run.pk).update(state=Run.State.DONE_FAILED_BUDGET_EXHAUSTED)
    for phase in run.phases.all():
        services.phase_update(phase=phase, changes={"state": "COMPLETE"})
    run.refresh_from_db()
    assert run.state == Run.State.DONE_FAILED_BUDGET_EXHAUSTED


def test_tokens_used_sets_base_tokens_and_never_adds():
    phase = PhaseFactory(builder_attempts=2)
    services.phase_update(phase=phase, changes={"state": "EXECUTING"}, tokens_used=700)
    services.phase_update(phase=phase, changes={"state": "EXECUTING"}, tokens_used=700)
    row = PhaseMetrics.objects.get(phase=phase)
    assert (row.attempt, row.base_tokens, row.retrieval_tokens) == (2, 700, 0)


def test_phase_tokens_set_keeps_other_categories():
    row = PhaseMetricsFactory(attempt=1, retrieval_tokens=50, base_tokens=10)
    services.phase_tokens_set(phase=row.phase, category="second_opinion_tokens", tokens=99)
    row.refresh_from_db()
    assert (row.retrieval_tokens, row.second_opinion_tokens, row.base_tokens) == (50, 99, 10)


def ledger_row(phase_id, attempt=1, **tokens):
    values = dict.fromkeys(services.TOKEN_CATEGORIES, 0)
    values.update(tokens)
    return services.LedgerRow(phase_id=phase_id, attempt=attempt, **values)


def test_ingest_counts_created_updated_unchanged():
    phase = PhaseFactory(phase_id="p0")
    run = phase.run
    first = services.phase_metrics_ingest(
        run=run, rows=[ledger_row("p0", 1, base_tokens=10), ledger_row("p0", 2, base_tokens=20)]
    )
    assert first == services.LedgerIngestResult(created=2, updated=0, unchanged=0)
    second = services.phase_metrics_ingest(
        run=run, rows=[ledger_row("p0", 1, base_tokens=10), ledger_row("p0", 2, base_tokens=25)]
    )
    assert second == services.LedgerIngestResult(created=0, updated=1, unchanged=1)
    assert dict(PhaseMetrics.objects.values_list("attempt", "base_tokens")) == {1: 10, 2: 25}


def test_ingest_rejects_unknown_phase_and_writes_nothing():
    phase = PhaseFactory(phase_id="p0")
    with pytest.raises(services.UnknownPhase, match=r"Row 1: run .* has no phase 'nope'"):
        services.phase_metrics_ingest(run=phase.run, rows=[ledger_row("p0"), ledger_row("nope")])
    assert not PhaseMetrics.objects.exists()


def test_ingest_rejects_phase_of_another_run():
    other = PhaseFactory(phase_id="elsewhere")
    run = RunFactory()
    TierFactory(run=run)
    with pytest.raises(services.UnknownPhase, match="elsewhere"):
        services.phase_metrics_ingest(run=run, rows=[ledger_row("elsewhere")])
    assert not PhaseMetrics.objects.filter(phase=other).exists()


def test_ingest_rejects_same_attempt_twice_in_one_batch():
    phase = PhaseFactory(phase_id="p0")
    with pytest.raises(ValidationError, match="appears twice"):
        services.phase_metrics_ingest(run=phase.run, rows=[ledger_row("p0"), ledger_row("p0")])


def test_events_record_links_phases():
    phase = PhaseFactory(phase_id="p0")
    events = services.events_record(
        run=phase.run,
        events=[
            {"event_type": "CI_FAILED", "phase_id": "p0", "message": "2 failed, 10 passed"},
            {"event_type": "RUN_FAILED", "message": "gave up"},
        ],
    )
    assert [(e.event_type, e.phase_id) for e in events] == [
        ("CI_FAILED", phase.pk),
        ("RUN_FAILED", None),
    ]


def test_events_record_rejects_unknown_phase():
    run = RunFactory()
    with pytest.raises(services.UnknownPhase, match="Item 0"):
        services.events_record(run=run, events=[{"event_type": "CI_FAILED", "phase_id": "x"}])
    assert not DashboardEvent.objects.exists()


def test_builder_result_failed_is_an_error_event_with_base_tokens():
    phase = PhaseFactory()
    event = services.builder_result_record(
        phase=phase,
        result={
            "status": "failed",
            "builder_attempts": 2,
            "tokens_used": 1234,
            "notes": "patch failed",
            "patch_content": "x" * 50,
        },
    )
    assert event.event_type == DashboardEvent.EventType.BUILDER_ERROR
    assert event.payload["patch_size"] == 50 and "patch_content" not in event.payload
    row = PhaseMetrics.objects.get(phase=phase)
    assert (row.attempt, row.base_tokens) == (2, 1234)
    phase.refresh_from_db()
    assert phase.builder_attempts == 2


def test_auditor_result_sets_second_opinion_tokens():
    phase = PhaseFactory(builder_attempts=1)
    for _ in range(2):  # a retried POST changes nothing
        services.auditor_result_record(
            phase=phase,
            result={
                "review_notes": "ok",
                "recommendation": "approve",
                "auditor_attempts": 1,
                "tokens_used": 300,
            },
        )
    row = PhaseMetrics.objects.get(phase=phase)
    assert (row.second_opinion_tokens, row.base_tokens) == (300, 0)
    assert Phase.objects.get(pk=phase.pk).auditor_attempts == 1
