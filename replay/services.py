"""Writes for replay campaigns: campaigns and their attempts, clones of the original
runs, each attempt's outcome, and the reports.

An attempt's life: QUEUED → (claim: clone if not cloned yet) RUNNING → finished
(SUCCEEDED, FAILED, TIMED_OUT, ERROR, CANCELLED). Claiming is idempotent: an attempt
that is not QUEUED or DISPATCHED is never started again, so a redelivered or
repeated dispatch never starts a second executor for the same replay.
"""

from __future__ import annotations

import dataclasses
import json
import os
import secrets
import string
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.db.models import Count
from django.utils import timezone
from django.utils.module_loading import import_string
from rest_framework_api_key.models import APIKey

from abtests.models import ABTestResult
from abtests.selectors import experiment_summary
from abtests.services import ab_result_analyze_runs
from autopack_site import kill_switches
from autopack_site.api.keys import api_key_create
from autopack_site.api.scopes import INGEST
from autopack_site.errors import ConflictError, DomainError
from autopack_site.ops.http import JsonClient
from metrics.models import IDENTIFIER_MAX_LENGTH, DashboardEvent, Phase, PhaseMetrics, Run, Tier
from patterns.mining import mine
from patterns.selectors import failure_messages, known_patterns, pattern_matches
from replay import compare
from replay.executors import (
    ApiExecutor,
    ExecutorConfigError,
    ExecutorOutcome,
    LocalExecutor,
)
from replay.models import ReplayAttempt, ReplayCampaign

_SUFFIX_ALPHABET = string.ascii_lowercase + string.digits
# What the clone copies from its original: how the run is to be executed.
RUN_SETTINGS = (
    "safety_profile",
    "run_scope",
    "token_cap",
    "max_phases",
    "max_duration_minutes",
    "goal_anchor",
    "git_commit_sha",
    "git_branch",
    "model_mapping_hash",
)
TIER_SETTINGS = ("tier_id", "tier_index", "name", "description")
PHASE_SETTINGS = (
    "phase_id",
    "phase_index",
    "name",
    "description",
    "task_category",
    "complexity",
    "builder_mode",
    "scope",
)
REPLAY_FEATURE_FLAGS = {"phase6_metrics": True, "consolidated_metrics": True}
UNFINISHED_REASON = "the executor ended without finishing the run"


class ReplayRefused(DomainError):
    """A campaign cannot start here as configured; nothing was cloned."""

    status_code = 503
    code = "replay_unavailable"


def local_executor(*, api_key: str = "") -> LocalExecutor:
    """The local executor as configured (AUTOPACK_EXECUTOR_COMMAND, AUTOPACK_API_URL)."""
    return LocalExecutor(
        command=settings.AUTOPACK_EXECUTOR_COMMAND,
        api_url=settings.AUTOPACK_API_URL,
        api_key=api_key or os.environ.get("AUTOPACK_API_KEY", ""),
        cwd=Path(settings.BASE_DIR),
    )


Executor = LocalExecutor | ApiExecutor


def executor_named(name: str, *, api_key: str = "") -> Executor:
    """The executor a campaign uses: local (a subprocess per replay) or api (the
    server at AUTOPACK_API_URL executes it, `POST /runs/{id}/execute`).
    AUTOPACK_REPLAY_EXECUTOR_CLASS, when set, replaces both (benchmarks)."""
    if settings.AUTOPACK_REPLAY_EXECUTOR_CLASS:
        return import_string(settings.AUTOPACK_REPLAY_EXECUTOR_CLASS)(api_key=api_key)
    if name == ReplayCampaign.Executor.API:
        return ApiExecutor(
            api_url=settings.AUTOPACK_API_URL,
            api_key=api_key or os.environ.get("AUTOPACK_API_KEY", ""),
            poll_seconds=settings.AUTOPACK_API_POLL_SECONDS,
        )
    return local_executor(api_key=api_key)


def with_campaign_key(executor: Executor, campaign: ReplayCampaign) -> Executor:
    """The executor with a key: the configured one, else one made for this campaign
    (revoked when it ends)."""
    if executor.api_key:
        return executor
    return dataclasses.replace(executor, api_key=campaign_key_create(campaign=campaign))


def replay_preflight(*, executor: Executor) -> None:
    """Before anything is cloned: the executor is usable, and the server the replays
    report to has Phase 6 ingestion on (their telemetry would be refused otherwise)."""
    try:
        executor.check()
    except ExecutorConfigError as error:
        raise ReplayRefused(str(error)) from None
    api_url = executor.api_url
    try:
        reply = JsonClient(api_url, None, timeout=10).request("GET", "/health")
    except OSError as error:
        raise ReplayRefused(f"cannot reach {api_url}/health: {error}") from None
    if not isinstance(reply.body, dict):
        raise ReplayRefused(f"{api_url}/health answered HTTP {reply.status} without JSON")
    if not (reply.body.get("kill_switches") or {}).get("phase6_metrics"):
        raise ReplayRefused(
            f"{api_url} has {kill_switches.PHASE6_METRICS} off: the replays' telemetry would "
            f"be refused; set {kill_switches.PHASE6_METRICS}=1 there first"
        )


def _suffix(length: int = 4) -> str:
    return "".join(secrets.choice(_SUFFIX_ALPHABET) for _ in range(length))


def replay_run_id(original_id: str, *, now: datetime) -> str:
    """`<original>-replay-<UTC yyyymmddThhmmss>-<4 random>`, the original cut so the
    id stays within the identifier limit."""
    tail = f"-replay-{now.astimezone(UTC):%Y%m%dT%H%M%S}-{_suffix()}"
    return original_id[: IDENTIFIER_MAX_LENGTH - len(tail)] + tail


def campaign_id_for(*, now: datetime) -> str:
    return f"replay-{now.astimezone(UTC):%Y%m%dT%H%M%S}-{_suffix(6)}"


def run_clone_for_replay(*, original: Run, now: datetime | None = None) -> Run:
    """A fresh run with the original's settings, tiers and phases, states reset and
    history cleared, marked as its replay with both Phase 6 features on; in a
    transaction of its own, or the caller's (no savepoint: it is all or nothing)."""
    with transaction.atomic(savepoint=False):
        return _clone(original=original, now=now or timezone.now())


def _clone(*, original: Run, now: datetime) -> Run:
    clone = Run(
        id=replay_run_id(original.pk, now=now),
        state=Run.State.RUN_CREATED,
        created_at=now,
        replay_of=original,
        feature_flags=dict(REPLAY_FEATURE_FLAGS),
        **{field: getattr(original, field) for field in RUN_SETTINGS},
    )
    # replay_of is the run in hand: no query to prove it exists.
    clone.full_clean(exclude=["replay_of"], validate_unique=False)
    clone.save(force_insert=True)
    tiers = {
        tier.pk: Tier(
            run=clone,
            state=Tier.State.PENDING,
            created_at=now,
            **{field: getattr(tier, field) for field in TIER_SETTINGS},
        )
        for tier in original.tiers.all()
    }
    Tier.objects.bulk_create(tiers.values())
    Phase.objects.bulk_create(
        Phase(
            run=clone,
            tier=tiers[phase.tier_id],
            state=Phase.State.QUEUED,
            created_at=now,
            **{field: getattr(phase, field) for field in PHASE_SETTINGS},
        )
        for phase in original.phases.all()
    )
    return clone


@transaction.atomic
def replay_run_reset(*, run: Run) -> Run:
    """Back to as cloned: an interrupted replay is executed again on the same clone
    (never a second clone), so what the interrupted executor reported goes."""
    PhaseMetrics.objects.filter(run=run).delete()
    DashboardEvent.objects.filter(run=run).delete()
    run.phases.update(
        state=Phase.State.QUEUED,
        builder_attempts=0,
        auditor_attempts=0,
        last_failure_reason="",
        started_at=None,
        completed_at=None,
    )
    run.tiers.update(state=Tier.State.PENDING)
    run.state, run.started_at, run.completed_at, run.failure_reason = (
        Run.State.RUN_CREATED,
        None,
        None,
        "",
    )
    run.save(update_fields=["state", "started_at", "completed_at", "failure_reason", "updated_at"])
    return run


def campaign_filters(*, run_ids, from_date, to_date, state) -> dict:
    """What selected a campaign's runs, as stored with it."""
    return {
        "run_ids": list(run_ids),
        "from_date": from_date.isoformat() if from_date else None,
        "to_date": to_date.isoformat() if to_date else None,
        "state": state,
    }


def replay_campaign_open(*, executor: Executor, **campaign) -> ReplayCampaign:
    """Check the executor and the target server, then create the campaign (nothing is
    cloned until its attempts are dispatched)."""
    replay_preflight(executor=executor)
    return replay_campaign_create(**campaign)


@transaction.atomic
def replay_campaign_create(
    *,
    runs: Sequence[Run],
    filters: dict,
    executor_name: str,
    batch_size: int,
    timeout_seconds: int,
    created_by: str = "",
    expand_patterns: bool = False,
) -> ReplayCampaign:
    """A PENDING campaign with one QUEUED attempt per run; nothing is cloned yet."""
    campaign = ReplayCampaign(
        id=campaign_id_for(now=timezone.now()),
        filters=filters,
        executor=executor_name,
        batch_size=batch_size,
        timeout_seconds=timeout_seconds,
        created_by=created_by,
        expand_patterns=expand_patterns,
    )
    campaign.full_clean()
    campaign.save(force_insert=True)
    ReplayAttempt.objects.bulk_create(
        ReplayAttempt(campaign=campaign, original_run=run) for run in runs
    )
    return campaign


def results_dir() -> Path:
    return Path(settings.AUTOPACK_REPLAY_RESULTS_DIR)


class AttemptBusy(Exception):
    """The attempt is running elsewhere and still beating: try again later."""


def attempt_claim(*, attempt_id: int, take_over_stale: bool = False) -> ReplayAttempt | None:
    """Start an attempt: lock it, clone its original unless cloned already, mark it
    RUNNING. None when it must not start (finished, its campaign cancelled or
    interrupted, or, without take_over_stale, already started): the idempotency every
    dispatch relies on. With take_over_stale (a redelivered task), an attempt left
    RUNNING by a runner that stopped beating is taken over on its own clone, reset;
    one still beating raises AttemptBusy."""
    with transaction.atomic():
        attempt = (
            ReplayAttempt.objects.select_for_update(of=("self",))
            .select_related("campaign", "original_run", "replay_run")
            .get(pk=attempt_id)
        )
        campaign = attempt.campaign
        now = timezone.now()
        if (
            campaign.interrupted_at is not None
            and attempt.status == ReplayAttempt.Status.DISPATCHED
        ):
            attempt.status = ReplayAttempt.Status.QUEUED
            attempt.save(update_fields=["status", "updated_at"])
            return None
        if campaign.status == ReplayCampaign.Status.CANCELLED or campaign.interrupted_at:
            return None
        if attempt.status == ReplayAttempt.Status.RUNNING and take_over_stale:
            if attempt.updated_at > now - stale_after():
                raise AttemptBusy(f"attempt {attempt.pk} is running elsewhere")
            replay_run_reset(run=attempt.replay_run)
        elif attempt.status not in (ReplayAttempt.Status.QUEUED, ReplayAttempt.Status.DISPATCHED):
            return None
        if attempt.replay_run is None:
            attempt.replay_run = run_clone_for_replay(original=attempt.original_run, now=now)
        attempt.status, attempt.started_at = ReplayAttempt.Status.RUNNING, now
        attempt.log_path = str(results_dir() / f"{attempt.replay_run_id}.log")
        attempt.save(update_fields=["replay_run", "status", "started_at", "log_path", "updated_at"])
        if campaign.status == ReplayCampaign.Status.PENDING:
            ReplayCampaign.objects.filter(
                pk=campaign.pk, status=ReplayCampaign.Status.PENDING
            ).update(status=ReplayCampaign.Status.RUNNING, started_at=now, updated_at=now)
    return attempt


def campaign_dispatch(*, campaign: ReplayCampaign) -> list[int]:
    """Mark as many QUEUED attempts DISPATCHED as the campaign has free places
    (batch_size minus those dispatched or running) and return their ids, for the
    caller to enqueue. The campaign row is locked, so workers finishing at once never
    dispatch past the bound."""
    with transaction.atomic():
        campaign = ReplayCampaign.objects.select_for_update().get(pk=campaign.pk)
        if campaign.status == ReplayCampaign.Status.CANCELLED or campaign.interrupted_at:
            return []
        active = campaign.attempts.filter(
            status__in=[ReplayAttempt.Status.DISPATCHED, ReplayAttempt.Status.RUNNING]
        ).count()
        free = max(campaign.batch_size - active, 0)
        chosen = list(
            campaign.attempts.filter(status=ReplayAttempt.Status.QUEUED)
            .order_by("pk")
            .values_list("pk", flat=True)[:free]
        )
        ReplayAttempt.objects.filter(pk__in=chosen).update(
            status=ReplayAttempt.Status.DISPATCHED, updated_at=timezone.now()
        )
    return chosen


def campaign_interrupt(*, campaign: ReplayCampaign) -> None:
    """Stop starting attempts; running ones go back to the queue (their runners watch)."""
    ReplayCampaign.objects.filter(pk=campaign.pk, interrupted_at__isnull=True).update(
        interrupted_at=timezone.now(), updated_at=timezone.now()
    )


def campaign_should_stop(*, campaign_id: str) -> str | None:
    """What a running attempt's runner must do now: "cancel", "interrupt" or None."""
    status, interrupted_at = ReplayCampaign.objects.values_list("status", "interrupted_at").get(
        pk=campaign_id
    )
    if status == ReplayCampaign.Status.CANCELLED:
        return "cancel"
    return "interrupt" if interrupted_at is not None else None


def _judge(outcome: ExecutorOutcome, run: Run) -> tuple[str, str]:
    """The attempt's status and reason from what the executor did and left behind."""
    if outcome.cancelled:
        return ReplayAttempt.Status.CANCELLED, "cancelled while running"
    if outcome.timed_out:
        return ReplayAttempt.Status.TIMED_OUT, "the executor ran past the timeout and was killed"
    if outcome.error:
        return ReplayAttempt.Status.ERROR, outcome.error
    if outcome.exit_code is not None and outcome.exit_code < 0:
        return ReplayAttempt.Status.ERROR, f"the executor crashed (signal {-outcome.exit_code})"
    if outcome.exit_code not in (0, None):
        return ReplayAttempt.Status.FAILED, (
            outcome.detail or f"the executor exited with code {outcome.exit_code}"
        )
    if not run.is_terminal:
        return ReplayAttempt.Status.ERROR, f"{UNFINISHED_REASON} (state {run.state})"
    if run.state == Run.State.DONE_SUCCESS:
        return ReplayAttempt.Status.SUCCEEDED, ""
    return ReplayAttempt.Status.FAILED, f"the replay ended {run.state}"


def attempt_finish(*, attempt: ReplayAttempt, outcome: ExecutorOutcome) -> ReplayAttempt:
    """Record an attempt's outcome: its status and reason, a replay left unfinished
    marked DONE_FAILED_ENVIRONMENT, the A/B pair (test id = campaign id) and the
    comparison report."""
    now = timezone.now()
    with transaction.atomic():
        attempt = (
            ReplayAttempt.objects.select_for_update(of=("self",))
            .select_related("campaign", "original_run")
            .get(pk=attempt.pk)
        )
        if attempt.status in ReplayAttempt.Status.finished():
            return attempt
        replay = Run.objects.select_for_update().get(pk=attempt.replay_run_id)
        status, reason = _judge(outcome, replay)
        if not replay.is_terminal:
            replay.state = Run.State.DONE_FAILED_ENVIRONMENT
            replay.failure_reason = reason
            replay.completed_at = now
            replay.save(update_fields=["state", "failure_reason", "completed_at", "updated_at"])
        attempt.status, attempt.error, attempt.finished_at = status, reason, now
        attempt.exit_code = outcome.exit_code
        # A cancelled replay is not a result: no A/B pair, no comparison.
        if status != ReplayAttempt.Status.CANCELLED:
            attempt.report_path = str(_pair_record(attempt=attempt, replay=replay))
        attempt.save(
            update_fields=[
                "status",
                "error",
                "finished_at",
                "exit_code",
                "report_path",
                "updated_at",
            ]
        )
    return attempt


def _pair_record(*, attempt: ReplayAttempt, replay: Run) -> Path:
    """The original/replay pair as an A/B result (strict validity from the runs' final
    SHA and hash) and as a comparison report; returns the report's path."""
    ab = ab_result_analyze_runs(
        test_id=attempt.campaign_id,
        control=attempt.original_run,
        treatment=replay,
        created_by=f"replay campaign {attempt.campaign_id}",
    )
    report = results_dir() / f"{replay.pk}_comparison.json"
    compare.write_json_atomic(
        report,
        compare.run_comparison(
            original=run_side(attempt.original_run, ab, "control"),
            replay=run_side(replay, ab, "treatment"),
            attempt_status=attempt.status,
            attempt_error=attempt.error,
            ab_valid=ab.is_valid,
            ab_errors=ab.validity_errors,
            patterns=replay_failure_patterns(replay),
        ),
    )
    return report


def run_side(run: Run, ab: ABTestResult, side: str) -> dict:
    """One run's figures for its comparison report, as the A/B analysis just counted
    them (`side` is "control" or "treatment"): counted once, never twice."""
    tokens = dict(getattr(ab, f"{side}_tokens"))
    tokens["total_tokens"] = getattr(ab, f"{side}_total_tokens")
    return {
        "run_id": run.pk,
        "state": run.state,
        "phases_complete": getattr(ab, f"{side}_phases_complete"),
        "phases_failed": getattr(ab, f"{side}_phases_failed"),
        "phases_total": getattr(ab, f"{side}_phases_total"),
        "tokens": tokens,
        "duration_seconds": run.duration_seconds,
        "git_commit_sha": run.git_commit_sha,
        "model_mapping_hash": run.model_mapping_hash,
    }


def replay_failure_patterns(run: Run) -> list[str]:
    """Ids of the stored patterns the run's failures match (events and phase reasons)."""
    found: set[str] = set()
    for message in failure_messages(run_ids=[run.pk]):
        found.update(match["pattern_id"] for match in pattern_matches(message.text))
    return sorted(found)


def attempt_counts(campaign: ReplayCampaign) -> dict[str, int]:
    """Attempts per status, every status listed; counted in SQL, so never stale."""
    counted = dict(campaign.attempts.order_by().values_list("status").annotate(n=Count("id")))
    return {status: counted.get(status, 0) for status in ReplayAttempt.Status.values}


def campaign_finish_if_done(*, campaign: ReplayCampaign) -> bool:
    """Once no attempt is unfinished: the campaign's final status, finish time, the
    revocation of its executors' keys, and the summary reports. True when finished."""
    with transaction.atomic():
        campaign = ReplayCampaign.objects.select_for_update().get(pk=campaign.pk)
        counts = attempt_counts(campaign)
        if any(counts[status] for status in ReplayAttempt.Status.unfinished()):
            return False
        if campaign.status != ReplayCampaign.Status.CANCELLED:
            finished = sum(counts.values())
            succeeded = counts[ReplayAttempt.Status.SUCCEEDED]
            campaign.status = (
                ReplayCampaign.Status.COMPLETED
                if finished and succeeded == finished
                else ReplayCampaign.Status.FAILED
                if not succeeded
                else ReplayCampaign.Status.PARTIAL
            )
        campaign.finished_at = campaign.finished_at or timezone.now()
        campaign.save(update_fields=["status", "finished_at", "updated_at"])
        campaign_keys_revoke(campaign=campaign)
    campaign_reports_write(campaign=campaign)
    return True


def _key_name(campaign: ReplayCampaign) -> str:
    return f"replay {campaign.pk}"[:50]


def campaign_key_create(*, campaign: ReplayCampaign) -> str:
    """A key for this campaign's executors, revoked when the campaign ends."""
    _, key = api_key_create(name=_key_name(campaign), scope=INGEST)
    return key


def campaign_keys_revoke(*, campaign: ReplayCampaign) -> int:
    return APIKey.objects.filter(name=_key_name(campaign), revoked=False).update(revoked=True)


def campaign_reports_write(*, campaign: ReplayCampaign) -> Path:
    """`<campaign>_summary.json` and `.md` from the attempts' comparison reports."""
    comparisons = []
    still_failing_ids = []
    for attempt in campaign.attempts.exclude(report_path=""):
        comparison = json.loads(Path(attempt.report_path).read_text(encoding="utf-8"))
        comparisons.append(comparison)
        if not comparison["recovered"]:
            still_failing_ids.append(comparison["replay"]["run_id"])
    expanded = patterns_of_failures(still_failing_ids) if campaign.expand_patterns else []
    seconds = (
        (campaign.finished_at - campaign.started_at).total_seconds()
        if campaign.started_at and campaign.finished_at
        else None
    )
    summary = compare.campaign_summary(
        campaign={
            "id": campaign.pk,
            "status": campaign.status,
            "executor": campaign.executor,
            "filters": campaign.filters,
            "batch_size": campaign.batch_size,
            "timeout_seconds": campaign.timeout_seconds,
            "created_by": campaign.created_by,
            "started_at": campaign.started_at.isoformat() if campaign.started_at else None,
            "finished_at": campaign.finished_at.isoformat() if campaign.finished_at else None,
            "seconds": seconds,
        },
        attempts=attempt_counts(campaign),
        comparisons=comparisons,
        statistics=experiment_summary(campaign.pk).as_dict(),
        expanded_patterns=expanded,
    )
    base = results_dir() / f"{campaign.pk}_summary"
    compare.write_json_atomic(base.with_suffix(".json"), summary)
    compare.write_atomic(base.with_suffix(".md"), compare.summary_markdown(summary))
    return base.with_suffix(".json")


def patterns_of_failures(run_ids: Sequence[str]) -> list[dict]:
    """Pattern expansion over these runs' failures (stored patterns keep their ids)."""
    if not run_ids:
        return []
    messages = failure_messages(run_ids=run_ids)
    result = mine(messages, known_patterns())
    return [
        {"pattern_id": p.pattern_id, "kind": p.kind, "template": p.template, "count": p.count}
        for p in result.patterns
    ]


@transaction.atomic
def campaign_cancel(*, campaign: ReplayCampaign) -> int:
    """Cancel: queued attempts never start; running ones are killed by whoever runs
    them (they watch the status). Returns how many queued attempts were cancelled."""
    now = timezone.now()
    campaign = ReplayCampaign.objects.select_for_update().get(pk=campaign.pk)
    if campaign.is_finished:
        return 0
    campaign.status = ReplayCampaign.Status.CANCELLED
    campaign.save(update_fields=["status", "updated_at"])
    return campaign.attempts.filter(
        status__in=[ReplayAttempt.Status.QUEUED, ReplayAttempt.Status.DISPATCHED]
    ).update(
        status=ReplayAttempt.Status.CANCELLED,
        error="campaign cancelled before it started",
        finished_at=now,
        updated_at=now,
    )


@transaction.atomic
def attempts_requeue(*, attempts: Sequence[ReplayAttempt]) -> None:
    """Back to QUEUED, each replay reset to as cloned (an interrupted executor's
    reports go): the next dispatch runs it again on the same clone."""
    for attempt in attempts:
        if attempt.replay_run_id is not None:
            replay_run_reset(run=Run.objects.get(pk=attempt.replay_run_id))
    ReplayAttempt.objects.filter(pk__in=[attempt.pk for attempt in attempts]).update(
        status=ReplayAttempt.Status.QUEUED,
        started_at=None,
        finished_at=None,
        error="",
        exit_code=None,
        report_path="",
        updated_at=timezone.now(),
    )


def attempt_error(*, attempt_id: int, reason: str) -> None:
    """The attempt broke outside its executor (bookkeeping, a crash in its worker): it
    is ERROR with the reason, and its replay, if unfinished, DONE_FAILED_ENVIRONMENT."""
    now = timezone.now()
    with transaction.atomic():
        attempt = ReplayAttempt.objects.select_for_update().get(pk=attempt_id)
        if attempt.status in ReplayAttempt.Status.finished():
            return
        Run.objects.filter(pk=attempt.replay_run_id).exclude(state__in=Run.State.terminal()).update(
            state=Run.State.DONE_FAILED_ENVIRONMENT,
            failure_reason=reason,
            completed_at=now,
            updated_at=now,
        )
        attempt.status, attempt.error, attempt.finished_at = ReplayAttempt.Status.ERROR, reason, now
        attempt.save(update_fields=["status", "error", "finished_at", "updated_at"])


class CampaignBusy(ConflictError):
    """The campaign is being run elsewhere right now."""


def heartbeat_seconds() -> float:
    """How often a runner touches its running attempts."""
    return settings.AUTOPACK_REPLAY_HEARTBEAT_SECONDS


def stale_after() -> timedelta:
    """An attempt untouched this long has lost its runner (killed, or its machine gone)."""
    return timedelta(seconds=settings.AUTOPACK_REPLAY_STALE_SECONDS)


def attempts_heartbeat(*, attempt_ids: Sequence[int]) -> None:
    ReplayAttempt.objects.filter(pk__in=attempt_ids, status=ReplayAttempt.Status.RUNNING).update(
        updated_at=timezone.now()
    )


def campaign_cancel_and_settle(*, campaign: ReplayCampaign) -> int:
    """Cancel, and finish the campaign at once when nothing of it is running (no runner
    would be left to). ConflictError for a campaign already finished."""
    if campaign.is_finished:
        raise ConflictError(f"Campaign {campaign.pk} is already {campaign.status}.")
    cancelled = campaign_cancel(campaign=campaign)
    campaign_finish_if_done(campaign=campaign)
    return cancelled


@transaction.atomic
def campaign_resume(*, campaign: ReplayCampaign) -> int:
    """Ready an interrupted or cancelled campaign to run again: attempts whose runner
    is gone (RUNNING without a heartbeat) and cancelled ones go back to QUEUED, their
    replay reset, never cloned again. Returns how many attempts will run. Refuses
    (CampaignBusy) while another runner still beats for it."""
    now = timezone.now()
    campaign = ReplayCampaign.objects.select_for_update().get(pk=campaign.pk)
    again = list(
        campaign.attempts.select_for_update(of=("self",))
        .filter(status__in=[ReplayAttempt.Status.RUNNING, ReplayAttempt.Status.CANCELLED])
        .select_related("replay_run")
    )
    alive = [
        attempt
        for attempt in again
        if attempt.status == ReplayAttempt.Status.RUNNING
        and attempt.updated_at > now - stale_after()
    ]
    if alive:
        raise CampaignBusy(
            f"campaign {campaign.pk} is running elsewhere ({len(alive)} attempt(s) reported "
            f"within {stale_after().total_seconds():g} s); cancel it or wait"
        )
    attempts_requeue(attempts=again)
    campaign.status = (
        ReplayCampaign.Status.RUNNING if campaign.started_at else ReplayCampaign.Status.PENDING
    )
    campaign.finished_at = campaign.interrupted_at = None
    campaign.save(update_fields=["status", "finished_at", "interrupted_at", "updated_at"])
    return campaign.attempts.filter(status__in=ReplayAttempt.Status.unfinished()).count()


# --- POST /runs/{id}/execute: this server executes one run with the local executor --

# Run states in which a run is being executed (the executor status RUNNING).
EXECUTING_STATES = (
    Run.State.PHASE_EXECUTION,
    Run.State.GATE,
    Run.State.CI_RUNNING,
    Run.State.SNAPSHOT_CREATED,
)


class RunNotExecutable(ConflictError):
    pass


@transaction.atomic
def run_execution_start(*, run_id: str) -> Run:
    """Mark the run as executing (PHASE_EXECUTION, started now) before its executor is
    dispatched: a second request for it is refused (RunNotExecutable, a 409), so one
    run never gets two executors. Run.DoesNotExist for an unknown run."""
    run = Run.objects.select_for_update().get(pk=run_id)
    if run.is_terminal:
        raise RunNotExecutable(f"Run {run.pk!r} is {run.state}; it has finished.")
    if run.state in EXECUTING_STATES:
        raise RunNotExecutable(f"Run {run.pk!r} is already executing ({run.state}).")
    run.state, run.started_at = Run.State.PHASE_EXECUTION, run.started_at or timezone.now()
    run.save(update_fields=["state", "started_at", "updated_at"])
    return run


def execution_timeout_seconds() -> int:
    return settings.AUTOPACK_EXECUTE_TIMEOUT_SECONDS


def run_execution_finish(*, run_id: str, outcome: ExecutorOutcome) -> Run:
    """After the executor: a run it left unfinished is DONE_FAILED_ENVIRONMENT with why."""
    with transaction.atomic():
        run = Run.objects.select_for_update().get(pk=run_id)
        if not run.is_terminal:
            if outcome.timed_out:
                reason = "the executor ran past the timeout and was killed"
            elif outcome.error:
                reason = outcome.error
            elif outcome.exit_code not in (0, None):
                reason = f"the executor exited with code {outcome.exit_code}"
            else:
                reason = f"{UNFINISHED_REASON} (state {run.state})"
            run.state, run.failure_reason, run.completed_at = (
                Run.State.DONE_FAILED_ENVIRONMENT,
                reason,
                timezone.now(),
            )
            run.save(update_fields=["state", "failure_reason", "completed_at", "updated_at"])
    return run
