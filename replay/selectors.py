"""Reads for replay campaigns: which runs a campaign would replay, their progress
and the attempts' comparison reports."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date
from pathlib import Path

from django.db.models import Count, OuterRef, Q, QuerySet, Subquery

from autopack_site.dates import utc_day_end, utc_day_start
from metrics.models import Phase, Run
from replay.models import ReplayAttempt, ReplayCampaign

# `--state FAILED` (the default) stands for every DONE_FAILED_* state.
FAILED = "FAILED"


def replay_states(state: str) -> list[str]:
    """The run states a `--state` value selects; ValueError listing the valid ones."""
    if state == FAILED:
        return Run.State.failed()
    if state not in Run.State.values:
        raise ValueError(
            f"unknown run state {state!r}; use {FAILED} (every DONE_FAILED_* state) or one of "
            + ", ".join(Run.State.values)
        )
    return [state]


def runs_for_replay(
    *,
    run_ids: Sequence[str] = (),
    date_from: date | None = None,
    date_to: date | None = None,
    state: str = FAILED,
) -> QuerySet[Run]:
    """The runs to replay, oldest first: in the state(s), created within the UTC days
    given (both inclusive), among `run_ids` when given. Replays of replays only when
    named in `run_ids`."""
    runs = Run.objects.filter(state__in=replay_states(state))
    runs = runs.filter(pk__in=run_ids) if run_ids else runs.filter(replay_of__isnull=True)
    if date_from is not None:
        runs = runs.filter(created_at__gte=utc_day_start(date_from))
    if date_to is not None and (end := utc_day_end(date_to)) is not None:
        runs = runs.filter(created_at__lt=end)
    return runs.order_by("created_at", "id")


def replay_candidates(runs: QuerySet[Run]) -> list[dict]:
    """What a dry run shows per run: id, state, created, failed phases and the last
    failure reason (the run's own, else its most recently failed phase's)."""
    last_failed_phase = (
        Phase.objects.filter(run=OuterRef("pk"), state=Phase.State.FAILED)
        .exclude(last_failure_reason="")
        .order_by("-completed_at", "-id")
        .values("last_failure_reason")[:1]
    )
    rows = runs.annotate(
        failed_phases=Count("phases", filter=Q(phases__state=Phase.State.FAILED)),
        last_phase_failure=Subquery(last_failed_phase),
    ).values("id", "state", "created_at", "failed_phases", "failure_reason", "last_phase_failure")
    return [
        {
            "run_id": row["id"],
            "state": row["state"],
            "created_at": row["created_at"],
            "failed_phases": row["failed_phases"],
            "last_failure_reason": row["failure_reason"] or row["last_phase_failure"] or "",
        }
        for row in rows
    ]


def campaigns_with_progress() -> QuerySet[ReplayCampaign]:
    """Campaigns with attempt counts (total, finished, recovered), one query."""
    finished = Q(attempts__status__in=ReplayAttempt.Status.finished())
    return ReplayCampaign.objects.annotate(
        attempts_total=Count("attempts"),
        attempts_finished=Count("attempts", filter=finished),
        attempts_recovered=Count(
            "attempts", filter=Q(attempts__status=ReplayAttempt.Status.SUCCEEDED)
        ),
    )


def campaigns_active() -> QuerySet[ReplayCampaign]:
    """Campaigns not yet finished, oldest first, with their attempt counts."""
    return (
        campaigns_with_progress()
        .exclude(status__in=ReplayCampaign.Status.finished())
        .order_by("created_at", "id")
    )


def campaign_attempts(campaign: ReplayCampaign) -> QuerySet[ReplayAttempt]:
    """A campaign's attempts in the order they were queued, with both runs."""
    return campaign.attempts.select_related("original_run", "replay_run").order_by("id")


def attempt_report(attempt: ReplayAttempt) -> dict | None:
    """The attempt's comparison report (replay.compare.run_comparison), or None
    while it has none, or when the file is gone or unreadable."""
    if not attempt.report_path:
        return None
    try:
        report = json.loads(Path(attempt.report_path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return report if isinstance(report, dict) else None
