"""Reads from the run store that take more than one line."""

from django.db.models import BigIntegerField, OuterRef, Prefetch, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.shortcuts import get_object_or_404

from metrics.models import DashboardEvent, Phase, PhaseMetrics, Run, total_tokens_expression


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
