"""Reads from the run store that take more than one line."""

from datetime import date, datetime, time, timedelta
from datetime import timezone as dt_timezone
from typing import TypedDict

from django.db.models import (
    BigIntegerField,
    Count,
    F,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce, TruncDate
from django.shortcuts import get_object_or_404

from metrics.models import (
    TOKEN_CATEGORIES,
    DailyTokenSummary,
    DashboardEvent,
    Phase,
    PhaseMetrics,
    Run,
    total_tokens_expression,
)


def run_get(run_id: str) -> Run:
    """Return the run or raise Http404."""
    return get_object_or_404(Run, pk=run_id)


def runs_with_tiers_and_phases() -> QuerySet[Run]:
    """Runs with tiers and phases prefetched: three queries whatever the size."""
    return Run.objects.prefetch_related(
        "tiers",
        Prefetch("phases", queryset=Phase.objects.select_related("tier")),
    )


def run_detail_get(run_id: str) -> Run:
    return get_object_or_404(runs_with_tiers_and_phases(), pk=run_id)


def phase_get(run_id: str, phase_id: str) -> Phase:
    return get_object_or_404(Phase.objects.select_related("tier"), run_id=run_id, phase_id=phase_id)


def ledger_rows_for_run(run: Run) -> QuerySet[PhaseMetrics]:
    """Return the run's ledger rows newest first, each with its SQL total."""
    return (
        PhaseMetrics.objects.filter(run=run)
        .select_related("phase")
        .annotate(total_tokens=total_tokens_expression())
        .order_by("-created_at", "-id")
    )


def events_for_run(run: Run) -> QuerySet[DashboardEvent]:
    return DashboardEvent.objects.filter(run=run).select_related("phase").order_by("-created_at", "-id")


def run_for_executor_get(run_id: str) -> Run:
    """Return the run with tiers, phases and its ledger total (`tokens_used`)."""
    ledger_total = (
        PhaseMetrics.objects.filter(run=OuterRef("pk"))
        .values("run")
        .annotate(total=Sum(total_tokens_expression()))
        .values("total")
    )
    queryset = Run.objects.annotate(
        tokens_used=Coalesce(Subquery(ledger_total, output_field=BigIntegerField()), Value(0))
    ).prefetch_related("tiers", "phases")
    return get_object_or_404(queryset, pk=run_id)


EXECUTOR_STATUS_BY_RUN_STATE = {
    **{state: "COMPLETE" for state in [Run.State.DONE_SUCCESS]},
    **{state: "FAILED" for state in Run.State.failed()},
    **{
        state: "RUNNING"
        for state in [
            Run.State.PHASE_EXECUTION,
            Run.State.GATE,
            Run.State.CI_RUNNING,
            Run.State.SNAPSHOT_CREATED,
        ]
    },
    **{
        state: "QUEUED"
        for state in [
            Run.State.QUEUED,
            Run.State.PLAN_BOOTSTRAP,
            Run.State.RUN_CREATED,
            Run.State.PHASE_QUEUEING,
        ]
    },
}


def run_executor_status(run: Run) -> dict[str, str]:
    """Return the executor's coarse status for a run alongside its precise state."""
    return {"state": EXECUTOR_STATUS_BY_RUN_STATE[run.state], "run_state": run.state}


class ConsolidatedTotals(TypedDict):
    retrieval_tokens: int
    second_opinion_tokens: int
    evidence_request_tokens: int
    base_tokens: int
    total_tokens: int
    total_phases: int
    completed_phases: int
    failed_phases: int
    phases_with_metrics: int
    raw_rows: int
    rolled_up_rows: int


def _sums(prefix: str = "") -> dict:
    return {name: Coalesce(Sum(f"{prefix}{name}"), 0) for name in TOKEN_CATEGORIES}


def consolidated_totals_query(run_id: str) -> QuerySet:
    """Build the one aggregate query behind `consolidated_totals`.

    Each figure is a scalar subquery over an indexed slice (ledger by run,
    phases by run and state, summaries by run and day), so the cost follows the
    run's size, not the table's.
    """
    ledger = PhaseMetrics.objects.filter(run=OuterRef("pk")).order_by().values("run")
    summaries = DailyTokenSummary.objects.filter(run=OuterRef("pk")).order_by().values("run")
    phases = Phase.objects.filter(run=OuterRef("pk")).order_by().values("run")

    def scalar(queryset, expression) -> Coalesce:
        return Coalesce(
            Subquery(queryset.annotate(value=expression).values("value"),
                     output_field=BigIntegerField()),
            0,
        )

    annotations = {}
    for name in TOKEN_CATEGORIES:
        annotations[f"raw_{name}"] = scalar(ledger, Sum(name))
        annotations[f"rolled_{name}"] = scalar(summaries, Sum(name))
    annotations.update(
        raw_rows=scalar(ledger, Count("id")),
        phases_with_metrics=scalar(ledger, Count("phase", distinct=True)),
        rolled_up_rows=scalar(summaries, Sum("row_count")),
        total_phases=scalar(phases, Count("id")),
        completed_phases=scalar(phases, Count("id", filter=Q(state=Phase.State.COMPLETE))),
        failed_phases=scalar(phases, Count("id", filter=Q(state=Phase.State.FAILED))),
    )
    return Run.objects.filter(pk=run_id).values(**annotations)


def consolidated_totals(run_id: str) -> ConsolidatedTotals | None:
    """Return a run's token totals and phase counts in ONE query, or None if no run.

    Totals cover the whole run: raw ledger rows plus the daily summaries that
    retention rolled them into.
    """
    row = consolidated_totals_query(run_id).first()
    if row is None:
        return None
    categories = {name: row[f"raw_{name}"] + row[f"rolled_{name}"] for name in TOKEN_CATEGORIES}
    return ConsolidatedTotals(
        **categories,
        total_tokens=sum(categories.values()),
        total_phases=row["total_phases"],
        completed_phases=row["completed_phases"],
        failed_phases=row["failed_phases"],
        phases_with_metrics=row["phases_with_metrics"],
        raw_rows=row["raw_rows"],
        rolled_up_rows=row["rolled_up_rows"],
    )


def consolidated_page(run_id: str, *, limit: int, offset: int) -> list[dict]:
    """Return one page of a run's raw ledger rows, newest first (ties by id)."""
    return list(consolidated_page_query(run_id)[offset : offset + limit])


def consolidated_page_query(run_id: str) -> QuerySet:
    return (
        PhaseMetrics.objects.filter(run_id=run_id)
        .order_by("-created_at", "-id")
        .annotate(total_tokens=total_tokens_expression(), phase_key=F("phase__phase_id"))
        .values(
            "phase_key",
            "attempt",
            *TOKEN_CATEGORIES,
            "total_tokens",
            "model",
            "created_at",
        )
    )


class DailyTotals(TypedDict):
    date: date
    retrieval_tokens: int
    second_opinion_tokens: int
    evidence_request_tokens: int
    base_tokens: int
    total_tokens: int
    rows: int


def daily_totals(
    *, date_from: date | None = None, date_to: date | None = None, run_id: str | None = None
) -> list[DailyTotals]:
    """Return token totals per UTC day, raw rows and rolled-up summaries together.

    Two GROUP BY queries (one per source) merged by day: the merge touches one
    entry per day, never a ledger row.
    """
    ledger = PhaseMetrics.objects.all()
    summaries = DailyTokenSummary.objects.all()
    if run_id:
        ledger, summaries = ledger.filter(run_id=run_id), summaries.filter(run_id=run_id)
    if date_from:
        start = datetime.combine(date_from, time.min, tzinfo=dt_timezone.utc)
        ledger, summaries = ledger.filter(created_at__gte=start), summaries.filter(date__gte=date_from)
    if date_to:
        end = datetime.combine(date_to + timedelta(days=1), time.min, tzinfo=dt_timezone.utc)
        ledger, summaries = ledger.filter(created_at__lt=end), summaries.filter(date__lte=date_to)
    raw = (
        ledger.annotate(day=TruncDate("created_at", tzinfo=dt_timezone.utc))
        .order_by()
        .values("day")
        .annotate(**_sums(), rows=Count("id"))
    )
    rolled = summaries.order_by().values("date").annotate(
        **_sums(), rows=Coalesce(Sum("row_count"), 0)
    )
    by_day: dict[date, dict] = {}
    for entry in [*({**r, "date": r.pop("day")} for r in raw), *rolled]:
        merged = by_day.setdefault(entry["date"], {name: 0 for name in (*TOKEN_CATEGORIES, "rows")})
        for name in (*TOKEN_CATEGORIES, "rows"):
            merged[name] += entry[name]
    return [
        DailyTotals(
            date=day,
            **{name: totals[name] for name in TOKEN_CATEGORIES},
            total_tokens=sum(totals[name] for name in TOKEN_CATEGORIES),
            rows=totals["rows"],
        )
        for day, totals in sorted(by_day.items())
    ]
