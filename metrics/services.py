"""Writes to the run store. Views, commands and the executor routes call these."""

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

import msgspec
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Count, Q
from django.utils import timezone

from autopack_site import kill_switches
from autopack_site.errors import ConflictError, NotFoundError
from metrics import selectors
from metrics.models import (
    MAX_RUN_TOKENS,
    TOKEN_CATEGORIES,
    ApprovalRequest,
    DashboardEvent,
    Phase,
    PhaseMetrics,
    Run,
    Tier,
)

LEDGER_VALUE_FIELDS = (*TOKEN_CATEGORIES, "model", "duration_seconds")
# Run states the phase roll-up may set or undo; other DONE_* states are explicit
# verdicts (budget, policy, environment) that the roll-up leaves alone.
ROLL_UP_RUN_STATES = (Run.State.DONE_SUCCESS, Run.State.DONE_FAILED_REQUIRES_HUMAN_REVIEW)


class RunAlreadyExists(ConflictError):
    pass


class RunTokenCapReached(ConflictError):
    """A write would take a run past MAX_RUN_TOKENS in a category: the run is full,
    whatever the request's own values (each within bounds)."""


class UnknownPhase(NotFoundError):
    """A ledger row or event names a phase its run does not have."""


@dataclass(frozen=True)
class LedgerIngestResult:
    created: int
    updated: int
    unchanged: int


class LedgerRow(msgspec.Struct, gc=False):
    """One ledger row as a client reports it: what `phase_metrics_ingest` takes.

    A struct, not a dict: a 10,000-row batch decodes straight into these (the
    API's fast decoder), at a quarter of a dict's memory. (gc=False: it holds
    only scalars, so it can never be part of a reference cycle.)
    """

    phase_id: str
    attempt: int
    retrieval_tokens: int
    second_opinion_tokens: int
    evidence_request_tokens: int
    base_tokens: int
    model: str = ""
    duration_seconds: float | None = None

    def values(self) -> tuple:
        """The stored values, in LEDGER_VALUE_FIELDS order."""
        return (
            self.retrieval_tokens,
            self.second_opinion_tokens,
            self.evidence_request_tokens,
            self.base_tokens,
            self.model,
            self.duration_seconds,
        )


def _validate_unique(values: Iterable[str], *, field: str, label: str) -> None:
    seen: set[str] = set()
    for index, value in enumerate(values):
        if value in seen:
            raise ValidationError({field: f"Item {index}: duplicate {label} {value!r}."})
        seen.add(value)


@transaction.atomic
def run_create(
    *,
    run_fields: Mapping[str, Any],
    tiers: Sequence[Mapping[str, Any]],
    phases: Sequence[Mapping[str, Any]],
) -> Run:
    """Create a run with its tiers and phases in one transaction.

    Phases name their tier by its string `tier_id`. The run records the kill
    switch states it was created under.
    """
    run_id = run_fields["id"]
    if Run.objects.filter(pk=run_id).exists():
        raise RunAlreadyExists(f"Run {run_id!r} already exists.")
    _validate_unique((tier["tier_id"] for tier in tiers), field="tiers", label="tier_id")
    _validate_unique((phase["phase_id"] for phase in phases), field="phases", label="phase_id")

    run = Run(**run_fields, feature_flags=kill_switches.snapshot())
    run.full_clean(validate_unique=False)
    try:
        with transaction.atomic():
            run.save(force_insert=True)
    except IntegrityError:
        # Another request created the same id between our check and insert.
        raise RunAlreadyExists(f"Run {run_id!r} already exists.") from None

    tiers_by_id = {}
    for tier_fields in tiers:
        tier = Tier(run=run, **tier_fields)
        tier.full_clean(exclude=["run"], validate_unique=False)
        tiers_by_id[tier.tier_id] = tier
    Tier.objects.bulk_create(tiers_by_id.values())

    new_phases = []
    for index, phase_fields in enumerate(phases):
        phase_fields = dict(phase_fields)
        tier_key = phase_fields.pop("tier_id")
        tier = tiers_by_id.get(tier_key)
        if tier is None:
            raise ValidationError(
                {"phases": f"Item {index}: tier_id {tier_key!r} is not one of this run's tiers."}
            )
        phase = Phase(run=run, tier=tier, **phase_fields)
        phase.full_clean(exclude=["run", "tier"], validate_unique=False)
        new_phases.append(phase)
    Phase.objects.bulk_create(new_phases)
    return run


EXPERIMENT_METADATA = ("git_commit_sha", "git_branch", "model_mapping_hash")


class RunFinished(ConflictError):
    pass


@transaction.atomic
def run_experiment_metadata_set(*, run: Run, changes: Mapping[str, Any]) -> Run:
    """What an executor really ran with (commit SHA, branch, model-mapping hash),
    reported while the run is going on; a finished run's record is closed (A/B
    validity is judged on it)."""
    run = Run.objects.select_for_update().get(pk=run.pk)
    if run.is_terminal:
        raise RunFinished(f"Run {run.pk!r} is {run.state}; its experiment metadata is final.")
    unknown = set(changes) - set(EXPERIMENT_METADATA)
    if unknown:
        raise ValidationError(dict.fromkeys(sorted(unknown), "Not experiment metadata."))
    for field, value in changes.items():
        setattr(run, field, value)
    run.full_clean(validate_unique=False)
    run.save(update_fields=[*changes, "updated_at"])
    return run


def _roll_up_run_state(*, run: Run, now: datetime) -> None:
    """Set the run's terminal state from its phases, or reopen it on a retry."""
    counts = run.phases.aggregate(
        total=Count("id"),
        open=Count("id", filter=~Q(state__in=Phase.State.terminal())),
        failed=Count("id", filter=Q(state=Phase.State.FAILED)),
    )
    if counts["total"] and not counts["open"]:
        if run.is_terminal and run.state not in ROLL_UP_RUN_STATES:
            return
        run.state = (
            Run.State.DONE_FAILED_REQUIRES_HUMAN_REVIEW
            if counts["failed"]
            else Run.State.DONE_SUCCESS
        )
        run.completed_at = run.completed_at or now
        run.save(update_fields=["state", "completed_at", "updated_at"])
    elif counts["open"] and run.state in ROLL_UP_RUN_STATES:
        run.state = Run.State.PHASE_EXECUTION
        run.completed_at = None
        run.save(update_fields=["state", "completed_at", "updated_at"])


@transaction.atomic
def phase_update(
    *,
    phase: Phase,
    changes: Mapping[str, Any],
    tokens_used: int | None = None,
    now: datetime | None = None,
) -> Phase:
    """Apply changes to a phase and roll its run's state forward.

    The first phase update that leaves QUEUED starts the run (PHASE_EXECUTION,
    started_at): Autopack's executors never send EXECUTING over HTTP. Once every
    phase is terminal the run is done. `tokens_used` (as the executor reports it)
    sets the base tokens of the phase's current attempt in the ledger.
    """
    now = now or timezone.now()
    # Lock the run so concurrent phase updates roll up one at a time (no-op on SQLite,
    # which serialises writers anyway).
    run = Run.objects.select_for_update().get(pk=phase.run_id)
    previous_state = phase.state
    for field, value in changes.items():
        setattr(phase, field, value)
    if phase.state != previous_state:
        if phase.state not in (Phase.State.QUEUED, Phase.State.SKIPPED):
            phase.started_at = phase.started_at or now
        if phase.state in Phase.State.terminal():
            phase.completed_at = phase.completed_at or now
        else:
            phase.completed_at = None
    phase.full_clean(exclude=["run", "tier"], validate_unique=False)
    phase.save()

    if phase.state == Phase.State.FAILED and previous_state != Phase.State.FAILED:
        DashboardEvent.objects.create(
            run=run,
            phase=phase,
            event_type=DashboardEvent.EventType.PHASE_FAILED,
            message=phase.last_failure_reason,
            created_at=now,
        )
    if tokens_used is not None:
        phase_tokens_set(phase=phase, category="base_tokens", tokens=tokens_used)
    if phase.state != Phase.State.QUEUED and run.state in Run.State.not_started():
        run.state = Run.State.PHASE_EXECUTION
        run.started_at = run.started_at or now
        run.save(update_fields=["started_at", "state", "updated_at"])
    _roll_up_run_state(run=run, now=now)
    phase.run = run
    return phase


def run_lock(run_id: str) -> None:
    """Lock the run's row until the transaction ends: writes to one run's phases and
    ledger take it first, so they apply one at a time and in one lock order (no
    deadlock). SQLite serialises writers anyway (its writers begin IMMEDIATE)."""
    Run.objects.select_for_update().filter(pk=run_id).values_list("pk").first()


def run_token_budget_check(run_id: str, *, field: str | None = None) -> None:
    """Refuse (roll back) a write that took a run past MAX_RUN_TOKENS in a category.

    Called under the run lock, after the write, so the figures are the run's own.
    A 409 (the run's state refuses it), keyed by category, or by `field` when the
    caller's input was one.
    """
    totals = selectors.run_token_totals(run_id)
    over = {
        (field or name): (
            f"Run {run_id!r} would hold {total} {name}; a run holds at most "
            f"{MAX_RUN_TOKENS} of a category."
        )
        for name, total in totals.items()
        if total > MAX_RUN_TOKENS
    }
    if over:
        raise RunTokenCapReached(" ".join(over.values()), fields={k: [v] for k, v in over.items()})


@transaction.atomic
def phase_tokens_set(*, phase: Phase, category: str, tokens: int) -> PhaseMetrics:
    """Set (never add) one category on the phase's current ledger attempt.

    A retried executor POST therefore changes nothing.
    """
    run_lock(phase.run_id)
    if category not in TOKEN_CATEGORIES:
        raise ValueError(f"unknown token category {category!r}")
    if tokens < 0:
        raise ValidationError({"tokens_used": "Must be greater than or equal to 0."})
    row, _ = PhaseMetrics.objects.update_or_create(
        phase=phase,
        attempt=phase.current_attempt,
        defaults={"run_id": phase.run_id, category: tokens},
    )
    run_token_budget_check(phase.run_id, field="tokens_used")
    return row


@transaction.atomic
def phase_metrics_ingest(*, run: Run, rows: Sequence[LedgerRow]) -> LedgerIngestResult:
    """Upsert ledger rows: a resent row is replaced, never added to.

    Costs a constant number of statements per batch (phases, existing rows, one
    COPY or executemany, an UPDATE only for rows that changed, the cap check) and
    builds no model instance and no list of new rows (they stream to the
    database): this is the hot path of Phase 6 telemetry.

    Batches for one run are applied one at a time (the run row is locked first):
    a retry racing its original, or two senders of one batch in any row order,
    each succeed, the later seeing the earlier's rows as unchanged or updated.
    """
    run_lock(run.pk)
    phases = dict(
        Phase.objects.filter(run=run, phase_id__in={row.phase_id for row in rows}).values_list(
            "phase_id", "pk"
        )
    )
    if len(phases) < len({row.phase_id for row in rows}) or len(
        {(row.phase_id, row.attempt) for row in rows}
    ) < len(rows):
        _ledger_batch_refuse(run, rows, phases)

    # A superset of the batch's keys (phases x attempts), read as plain tuples.
    existing = {
        (phase_pk, attempt): (pk, values)
        for pk, phase_pk, attempt, *values in PhaseMetrics.objects.filter(
            phase_id__in=phases.values(), attempt__in={row.attempt for row in rows}
        ).values_list("pk", "phase_id", "attempt", *LEDGER_VALUE_FIELDS)
    }
    now = timezone.now()
    if not existing:  # the common case: a new batch, every row an INSERT
        run_pk = run.pk
        ledger_rows_insert(
            (run_pk, phases[row.phase_id], row.attempt, *row.values(), now, now) for row in rows
        )
        run_token_budget_check(run.pk)
        return LedgerIngestResult(created=len(rows), updated=0, unchanged=0)

    to_insert, to_update, unchanged = [], [], 0
    for row in rows:
        phase_pk = phases[row.phase_id]
        values = row.values()
        current = existing.get((phase_pk, row.attempt))
        if current is None:
            to_insert.append((run.pk, phase_pk, row.attempt, *values, now, now))
        elif tuple(current[1]) == values:
            unchanged += 1
        else:
            to_update.append(
                PhaseMetrics(
                    pk=current[0],
                    updated_at=now,
                    **dict(zip(LEDGER_VALUE_FIELDS, values, strict=True)),
                )
            )
    ledger_rows_insert(to_insert)
    if to_update:
        PhaseMetrics.objects.bulk_update(
            to_update, [*LEDGER_VALUE_FIELDS, "updated_at"], batch_size=1000
        )
    if to_insert or to_update:
        run_token_budget_check(run.pk)
    return LedgerIngestResult(created=len(to_insert), updated=len(to_update), unchanged=unchanged)


LEDGER_INSERT_COLUMNS = (
    "run_id",
    "phase_id",
    "attempt",
    *LEDGER_VALUE_FIELDS,
    "created_at",
    "updated_at",
)
_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _ledger_batch_refuse(run: Run, rows: Sequence[LedgerRow], phases: dict) -> None:
    """Raise for the first row naming an unknown phase, else the first repeated key."""
    for index, row in enumerate(rows):
        if row.phase_id not in phases:
            raise UnknownPhase.on_field(
                "phase_id", f"Row {index}: run {run.pk!r} has no phase {row.phase_id!r}."
            )
    seen: set[tuple[str, int]] = set()
    for index, key in enumerate((row.phase_id, row.attempt) for row in rows):
        if key in seen:
            raise ValidationError(
                {"attempt": f"Row {index}: phase {key[0]!r} attempt {key[1]} appears twice."}
            )
        seen.add(key)


def ledger_rows_insert(rows: Iterable[tuple]) -> None:
    """Insert raw ledger rows (tuples in LEDGER_INSERT_COLUMNS order) in bulk.

    PostgreSQL with psycopg2 streams them with COPY FROM STDIN; otherwise one
    prepared INSERT is run for every row (executemany). Either way the rows are
    consumed as they are written (a generator is never held as a list), and no
    model instances are built: this is the ingestion hot path.
    """
    if isinstance(rows, list) and not rows:
        return
    quote = connection.ops.quote_name
    table = quote(PhaseMetrics._meta.db_table)
    column_list = ", ".join(quote(column) for column in LEDGER_INSERT_COLUMNS)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql" and hasattr(cursor.cursor, "copy_expert"):
            # The raw cursor skips Django's error translation; restore it.
            with connection.wrap_database_errors:
                cursor.cursor.copy_expert(
                    f"COPY {table} ({column_list}) FROM STDIN",
                    _LineReader(map(_copy_line, rows)),
                    size=_LineReader.CHUNK,
                )
            return
        # The two timestamps are the last columns; a batch shares one or a few.
        stamps: dict[datetime, Any] = {}

        def adapt(stamp: datetime):
            if stamp not in stamps:
                stamps[stamp] = connection.ops.adapt_datetimefield_value(stamp)
            return stamps[stamp]

        placeholders = ", ".join(["%s"] * len(LEDGER_INSERT_COLUMNS))
        cursor.executemany(
            f"INSERT INTO {table} ({column_list}) VALUES ({placeholders})",
            ((*row[:-2], adapt(row[-2]), adapt(row[-1])) for row in rows),
        )


class _LineReader:
    """A read-only text file over an iterator of lines, produced as COPY reads."""

    CHUNK = 1 << 16

    def __init__(self, lines: Iterator[str]):
        self._lines = lines

    def read(self, size: int = -1) -> str:
        chunk, length = [], 0
        for line in self._lines:
            chunk.append(line)
            length += len(line)
            if 0 <= size <= length:
                break
        return "".join(chunk)


def _copy_line(row: tuple) -> str:
    """One ledger row in COPY text format; specialised because it runs per row.
    `:d` formats an integer (a bool as 1 or 0) and refuses anything else."""
    run_id, phase_pk, attempt, retrieval, second, evidence, base, model, duration, *stamps = row
    duration_text = "\\N" if duration is None else repr(float(duration))
    created, updated = (_copy_timestamp(stamp) for stamp in stamps)
    return (
        f"{_copy_escaped(run_id)}\t{phase_pk:d}\t{attempt:d}\t{retrieval:d}\t"
        f"{second:d}\t{evidence:d}\t{base:d}\t{_copy_escaped(model)}\t"
        f"{duration_text}\t{created}\t{updated}\n"
    )


@lru_cache(maxsize=1024)
def _copy_escaped(text: str) -> str:
    # Run ids and model names repeat across a batch; escape each once.
    return text.translate(_COPY_ESCAPES)


@lru_cache(maxsize=64)
def _copy_timestamp(stamp: datetime) -> str:
    # A batch shares one or a few timestamps; format each once.
    return stamp.isoformat()


@transaction.atomic
def events_record(*, run: Run, events: Sequence[Mapping[str, Any]]) -> list[DashboardEvent]:
    """Store a batch of events; an event naming an unknown phase rejects the batch."""
    phase_ids = {event["phase_id"] for event in events if event.get("phase_id")}
    phases = dict(
        Phase.objects.filter(run=run, phase_id__in=phase_ids).values_list("phase_id", "pk")
    )
    now = timezone.now()
    new_events = []
    for index, event in enumerate(events):
        phase_id = event.get("phase_id")
        if phase_id and phase_id not in phases:
            raise UnknownPhase.on_field(
                "phase_id", f"Item {index}: run {run.pk!r} has no phase {phase_id!r}."
            )
        new_events.append(
            DashboardEvent(
                run=run,
                phase_id=phases.get(phase_id) if phase_id else None,
                event_type=event["event_type"],
                message=event.get("message", ""),
                payload=event.get("payload") or {},
                created_at=event.get("created_at") or now,
            )
        )
    return DashboardEvent.objects.bulk_create(new_events)


@transaction.atomic
def builder_result_record(*, phase: Phase, result: Mapping[str, Any]) -> DashboardEvent:
    """Store a Builder result as an event and its tokens as the attempt's base tokens."""
    run_lock(phase.run_id)
    phase.builder_attempts = result["builder_attempts"]
    phase.save(update_fields=["builder_attempts", "updated_at"])
    phase_tokens_set(phase=phase, category="base_tokens", tokens=result["tokens_used"])
    failed = result["status"] == "failed"
    return DashboardEvent.objects.create(
        run_id=phase.run_id,
        phase=phase,
        event_type=(
            DashboardEvent.EventType.BUILDER_ERROR
            if failed
            else DashboardEvent.EventType.BUILDER_RESULT
        ),
        message=result.get("notes", ""),
        payload=_result_payload(result),
    )


@transaction.atomic
def auditor_result_record(*, phase: Phase, result: Mapping[str, Any]) -> DashboardEvent:
    """Store an Auditor result as an event and its tokens as second-opinion tokens."""
    run_lock(phase.run_id)
    phase.auditor_attempts = result["auditor_attempts"]
    phase.save(update_fields=["auditor_attempts", "updated_at"])
    phase_tokens_set(phase=phase, category="second_opinion_tokens", tokens=result["tokens_used"])
    return DashboardEvent.objects.create(
        run_id=phase.run_id,
        phase=phase,
        event_type=DashboardEvent.EventType.AUDITOR_RESULT,
        message=result.get("review_notes", ""),
        payload=_result_payload(result),
    )


def _result_payload(result: Mapping[str, Any]) -> dict[str, Any]:
    """Keep a result's metadata but not a patch body, which can be megabytes."""
    payload = {key: value for key, value in result.items() if key != "patch_content"}
    if result.get("patch_content"):
        payload["patch_size"] = len(result["patch_content"])
    return payload


# --- Human approvals and clarifications -------------------------------------------


class ApprovalAlreadyDecided(ConflictError):
    pass


class ApprovalWrongKind(ConflictError):
    """Approving a clarification, or answering an approval."""


def approval_timeout() -> timedelta:
    return timedelta(minutes=settings.AUTOPACK_APPROVAL_TIMEOUT_MINUTES)


@transaction.atomic
def approval_request_create(
    *,
    phase: Phase,
    kind: str = ApprovalRequest.Kind.APPROVAL,
    context: str = "",
    decision_info: Mapping[str, Any] | None = None,
    deletion_info: Mapping[str, Any] | None = None,
    patch_preview: str = "",
    now: datetime | None = None,
) -> ApprovalRequest:
    """Store what the executor asks a human, with its deadline. An approval is
    granted at once only where AUTOPACK_AUTO_APPROVE=1."""
    now = now or timezone.now()
    request = ApprovalRequest(
        kind=kind,
        run_id=phase.run_id,
        phase=phase,
        context=context,
        decision_info=dict(decision_info or {}),
        deletion_info=dict(deletion_info or {}),
        patch_preview=patch_preview,
        requested_at=now,
        timeout_at=now + approval_timeout(),
    )
    if kind == ApprovalRequest.Kind.APPROVAL and settings.AUTOPACK_AUTO_APPROVE:
        request.status = ApprovalRequest.Status.APPROVED
        request.response_method = ApprovalRequest.Method.AUTO
        request.responded_at = now
        request.approval_reason = "approved automatically (AUTOPACK_AUTO_APPROVE=1)"
    request.full_clean(exclude=["run", "phase"])
    request.save(force_insert=True)
    return request


# What each decision may answer, and the status it gives.
_DECISIONS = {
    "approve": (ApprovalRequest.Kind.APPROVAL, ApprovalRequest.Status.APPROVED),
    "reject": (None, ApprovalRequest.Status.REJECTED),  # either kind
    "answer": (ApprovalRequest.Kind.CLARIFICATION, ApprovalRequest.Status.ANSWERED),
}


@transaction.atomic
def approval_decide(
    *,
    approval_id: int,
    decision: str,
    reason: str = "",
    by: str = "",
    method: str = ApprovalRequest.Method.API,
    now: datetime | None = None,
) -> ApprovalRequest:
    """Decide a pending request once: approve (an approval), answer (a clarification;
    `reason` is the answer) or reject (either; a reason is required). A request
    decided already, or past its deadline, raises ApprovalAlreadyDecided."""
    now = now or timezone.now()
    if decision not in _DECISIONS:
        raise ValidationError({"decision": f"Must be one of {', '.join(_DECISIONS)}."})
    approvals_expire(now=now, ids=[approval_id])
    request = ApprovalRequest.objects.select_for_update().get(pk=approval_id)
    if not request.is_pending:
        raise ApprovalAlreadyDecided(
            f"{request.kind.capitalize()} {request.pk} was already decided: {request.status} "
            f"({request.response_method}) at {request.responded_at.isoformat()}."
        )
    kind, status = _DECISIONS[decision]
    if kind is not None and request.kind != kind:
        allowed = "approve" if request.kind == ApprovalRequest.Kind.APPROVAL else "answer"
        raise ApprovalWrongKind(
            f"{request.kind.capitalize()} {request.pk} cannot be decided by {decision}: "
            f"{allowed} or reject it."
        )
    reason = reason.strip()
    if decision in ("reject", "answer") and not reason:
        field = "response" if decision == "answer" else "reason"
        raise ValidationError({field: f"Required to {decision}."})
    request.status, request.responded_at = status, now
    request.response_method, request.decided_by = method, by
    if decision == "approve":
        request.approval_reason = reason
    elif decision == "reject":
        request.rejected_reason = reason
    else:
        request.response = reason
    request.full_clean(exclude=["run", "phase"])
    request.save()
    return request


def approvals_expire(*, now: datetime | None = None, ids: Sequence[int] | None = None) -> int:
    """Resolve pending requests past their deadline, in SQL: approvals to
    AUTOPACK_APPROVAL_DEFAULT_ON_TIMEOUT, clarifications to rejected, so the
    executor's poll ends. Runs on every read of a request and from
    `manage.py expire_approvals`. Returns how many it resolved."""
    now = now or timezone.now()
    overdue = ApprovalRequest.objects.filter(
        status=ApprovalRequest.Status.PENDING, timeout_at__lte=now
    )
    if ids is not None:
        overdue = overdue.filter(pk__in=ids)
    approve = settings.AUTOPACK_APPROVAL_DEFAULT_ON_TIMEOUT == "approve"
    note = "no decision by the deadline"
    decided = {"responded_at": now, "response_method": ApprovalRequest.Method.TIMEOUT}
    resolved = overdue.filter(kind=ApprovalRequest.Kind.APPROVAL).update(
        **decided,
        **(
            {"status": ApprovalRequest.Status.APPROVED, "approval_reason": f"{note}: approved"}
            if approve
            else {"status": ApprovalRequest.Status.REJECTED, "rejected_reason": f"{note}: rejected"}
        ),
    )
    return resolved + overdue.filter(kind=ApprovalRequest.Kind.CLARIFICATION).update(
        **decided, status=ApprovalRequest.Status.REJECTED, rejected_reason=note
    )
