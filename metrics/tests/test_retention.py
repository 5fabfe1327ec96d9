"""Retention rolls old ledger rows into daily summaries without changing any total."""

from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from metrics import selectors
from metrics.models import DailyTokenSummary, PhaseMetrics
from metrics.retention import metrics_retention_run
from metrics.tests.factories import PhaseFactory, PhaseMetricsFactory

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


@pytest.fixture
def ledger():
    """Two runs with rows spread over 60 days (several rows per run-day)."""
    run_ids = []
    for run_number in range(2):
        phase = PhaseFactory()
        run_ids.append(phase.run_id)
        for attempt in range(1, 41):
            PhaseMetricsFactory(
                phase=phase,
                attempt=attempt,
                created_at=NOW - timedelta(days=60 - attempt * 1.5, hours=run_number),
                retrieval_tokens=attempt,
                second_opinion_tokens=attempt * 2,
                evidence_request_tokens=run_number,
                base_tokens=1000 + attempt,
            )
    return run_ids


def run_totals(run_ids):
    return {run_id: selectors.consolidated_totals(run_id) for run_id in run_ids}


def comparable(totals):
    """Totals without the raw/rolled split, which retention is meant to change."""
    return {
        run_id: {
            k: v
            for k, v in t.items()
            if k not in ("raw_rows", "rolled_up_rows", "phases_with_metrics")
        }
        for run_id, t in totals.items()
    }


def day_totals():
    return selectors.daily_totals()


def test_totals_per_run_and_per_day_are_unchanged(ledger):
    before_runs, before_days = run_totals(ledger), day_totals()
    result = metrics_retention_run(days=30, batch_size=7, now=NOW)
    assert result.rows > 0 and result.batches > 1
    assert comparable(run_totals(ledger)) == comparable(before_runs)
    assert day_totals() == before_days
    cutoff = NOW - timedelta(days=30)
    assert not PhaseMetrics.objects.filter(created_at__lt=cutoff).exists()
    assert PhaseMetrics.objects.filter(created_at__gte=cutoff).exists()
    rolled = sum(DailyTokenSummary.objects.values_list("row_count", flat=True))
    assert rolled == result.rows
    after = run_totals(ledger)
    assert sum(t["rolled_up_rows"] + t["raw_rows"] for t in after.values()) == 80


def test_running_twice_never_doubles(ledger):
    metrics_retention_run(days=30, batch_size=5, now=NOW)
    summaries = list(
        DailyTokenSummary.objects.values_list("run_id", "date", "base_tokens", "row_count")
    )
    second = metrics_retention_run(days=30, batch_size=5, now=NOW)
    assert second.rows == 0
    assert (
        list(DailyTokenSummary.objects.values_list("run_id", "date", "base_tokens", "row_count"))
        == summaries
    )


def test_later_runs_add_to_existing_day_summaries(ledger):
    before = run_totals(ledger)
    metrics_retention_run(days=45, batch_size=4, now=NOW)
    metrics_retention_run(days=20, batch_size=4, now=NOW)
    assert comparable(run_totals(ledger)) == comparable(before)


def test_dry_run_writes_nothing(ledger):
    rows_before = PhaseMetrics.objects.count()
    result = metrics_retention_run(days=30, dry_run=True, now=NOW)
    assert result.rows > 0 and result.run_days > 0 and result.batches == 0
    assert PhaseMetrics.objects.count() == rows_before
    assert not DailyTokenSummary.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_interrupted_run_loses_nothing_and_resumes(ledger):
    before_runs, before_days = run_totals(ledger), day_totals()

    def interrupt(done, total):
        raise KeyboardInterrupt  # after the first committed batch

    with pytest.raises(KeyboardInterrupt):
        metrics_retention_run(days=30, batch_size=3, now=NOW, progress=interrupt)
    assert DailyTokenSummary.objects.exists()  # the first batch was committed
    assert comparable(run_totals(ledger)) == comparable(before_runs)
    assert day_totals() == before_days
    metrics_retention_run(days=30, batch_size=3, now=NOW)
    assert comparable(run_totals(ledger)) == comparable(before_runs)
    assert day_totals() == before_days


def test_consolidated_endpoint_after_retention(authed_client, monkeypatch, ledger):
    monkeypatch.setenv("AUTOPACK_ENABLE_CONSOLIDATED_METRICS", "1")
    run_id = ledger[0]
    before = authed_client.get(f"/api/v1/runs/{run_id}/consolidated-metrics/").json()
    metrics_retention_run(days=30, now=NOW)
    after = authed_client.get(f"/api/v1/runs/{run_id}/consolidated-metrics/").json()
    assert after["totals"] == before["totals"]
    assert after["count"] + after["rolled_up_rows"] == before["count"] == 40
    assert after["rolled_up_rows"] > 0 and len(after["results"]) == after["count"]


def test_command_reports_and_uses_the_setting(ledger, settings):
    settings.AUTOPACK_METRICS_RETENTION_DAYS = 10_000  # nothing is that old
    out = StringIO()
    call_command("metrics_retention", stdout=out, stderr=StringIO())
    assert "Rolled up 0 ledger rows" in out.getvalue()
    old = PhaseMetrics.objects.filter(created_at__lt=timezone.now() - timedelta(days=1)).count()
    assert old > 0  # NOW is fixed, so how many are older than a day depends on today
    out, err = StringIO(), StringIO()
    call_command("metrics_retention", "--days", "1", "--dry-run", stdout=out, stderr=err)
    assert out.getvalue().startswith(f"DRY RUN: would roll up {old} ledger rows")
    assert PhaseMetrics.objects.count() == 80
    call_command("metrics_retention", "--days", "1", "--batch-size", "25", stdout=out, stderr=err)
    assert f"rolled up {old} / {old} rows" in err.getvalue()
    assert PhaseMetrics.objects.count() == 80 - old


@pytest.mark.parametrize(
    "args, message",
    [
        (["--days", "0"], "--days must be between 1 and 36500"),
        (["--days", "99999999999"], "--days must be between 1 and 36500"),
        (["--batch-size", "0"], "--batch-size"),
    ],
)
def test_command_rejects_bad_arguments(args, message):
    with pytest.raises(CommandError, match=message):
        call_command("metrics_retention", *args, stdout=StringIO(), stderr=StringIO())


def _huge_run_day(rows: int = 10_000) -> str:
    """One run-day of legal rows whose base-token sum no BIGINT holds (10,000 x 10**15)."""
    run = PhaseFactory().run
    phases = [PhaseFactory(tier__run=run) for _ in range(100)]
    when = NOW - timedelta(days=45)
    PhaseMetrics.objects.bulk_create(
        PhaseMetrics(
            run=run,
            phase=phase,
            attempt=attempt,
            base_tokens=10**15,
            created_at=when,
        )
        for phase in phases
        for attempt in range(1, rows // len(phases) + 1)
    )
    return run.pk


def test_a_run_day_the_database_cannot_roll_up_is_reported_and_skipped(ledger):
    huge = _huge_run_day()
    before = comparable(run_totals(ledger))
    result = metrics_retention_run(days=30, now=NOW)
    # The others are rolled up as ever; their totals do not move.
    assert comparable(run_totals(ledger)) == before
    assert not PhaseMetrics.objects.filter(
        run_id__in=ledger, created_at__lt=NOW - timedelta(days=30)
    ).exists()
    assert result.rows == 80 - PhaseMetrics.objects.filter(run_id__in=ledger).count()
    # The refused run-day keeps every raw row and is reported.
    assert [run_id for run_id, _, _ in result.skipped] == [huge]
    assert PhaseMetrics.objects.filter(run_id=huge).count() == 10_000
    assert not DailyTokenSummary.objects.filter(run_id=huge).exists()
    # Each later run reports it again, and the operator is told.
    err = StringIO()
    call_command("metrics_retention", "--days", "30", stdout=StringIO(), stderr=err)
    assert f"kept run {huge} on " in err.getvalue()
    assert PhaseMetrics.objects.filter(run_id=huge).count() == 10_000
