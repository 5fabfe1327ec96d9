"""Reads from the run store that take more than one line."""

import json
from collections.abc import Callable, Sequence
from datetime import date
from functools import partial
from typing import TypedDict, TypeVar

import msgspec
from django.db import OperationalError, connection
from django.db.models import (
    Count,
    Exists,
    F,
    JSONField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Sum,
)
from django.db.models.functions import Coalesce
from django.http import Http404
from django.shortcuts import get_object_or_404

from autopack_site.dates import utc_day_start
from autopack_site.db.json_text import JSONObjectText
from autopack_site.db.prepared import JSONArrayPage, PreparedQuery, PreparedSideBySide
from autopack_site.errors import NotFoundError
from metrics.models import (
    TOKEN_CATEGORIES,
    ApprovalRequest,
    DailyTokenSummary,
    DashboardEvent,
    Phase,
    PhaseMetrics,
    Run,
    UTCDate,
    UTCTimestampText,
    total_tokens_expression,
)


def run_get(run_id: str) -> Run:
    """Return the run or raise Http404."""
    return get_object_or_404(Run, pk=run_id)


def run_named(run_id: str, field: str) -> Run:
    """The run a request body names in `field`, or a 404 naming the field."""
    run = Run.objects.filter(pk=run_id).first()
    if run is None:
        raise NotFoundError.on_field(field, f"Run {run_id!r} not found.")
    return run


def unknown_run_ids(run_ids: Sequence[str]) -> list[str]:
    """The ids among `run_ids` that name no stored run, in the order given."""
    stored = set(Run.objects.filter(pk__in=run_ids).values_list("pk", flat=True))
    return [run_id for run_id in dict.fromkeys(run_ids) if run_id not in stored]


def phases_with_review() -> QuerySet[Phase]:
    """Phases with their latest auditor result's payload (`review_payload`, or None),
    one subquery through the events' phase index."""
    latest = (
        DashboardEvent.objects.filter(
            phase=OuterRef("pk"), event_type=DashboardEvent.EventType.AUDITOR_RESULT
        )
        .order_by("-created_at", "-id")
        .values("payload")[:1]
    )
    return Phase.objects.select_related("tier").annotate(
        review_payload=Subquery(latest, output_field=JSONField())
    )


REVIEW_FIELDS = ("recommendation", "confidence", "issues_found", "suggested_patches")


def phase_review(phase: Phase) -> dict | None:
    """What the phase's latest auditor result found: its recommendation, confidence,
    issues and suggested patches; None before any review. `phase` comes from
    phases_with_review()."""
    payload = phase.review_payload
    if payload is None:
        return None
    return {
        "recommendation": payload.get("recommendation", ""),
        "confidence": payload.get("confidence", ""),
        "issues_found": payload.get("issues_found", []),
        "suggested_patches": payload.get("suggested_patches", []),
    }


def runs_newest_first() -> QuerySet[Run]:
    """The run list's order (the API's and the dashboard's): newest first, ties by id."""
    return Run.objects.order_by("-created_at", "-id")


def with_phase_counts(runs: QuerySet[Run]) -> QuerySet[Run]:
    """`runs`, each with its phase count and FAILED phase count (two subqueries,
    evaluated for the rows read: a page costs what the page holds)."""
    phases = Phase.objects.filter(run=OuterRef("pk")).order_by().values("run")
    count = phases.annotate(n=Count("id")).values("n")
    failed = phases.filter(state=Phase.State.FAILED).annotate(n=Count("id")).values("n")
    return runs.annotate(
        phase_count=Coalesce(Subquery(count), 0), failed_phase_count=Coalesce(Subquery(failed), 0)
    )


def runs_with_tiers_and_phases() -> QuerySet[Run]:
    """Runs with tiers and phases (with their reviews) prefetched: three queries
    whatever the size."""
    return Run.objects.prefetch_related("tiers", Prefetch("phases", queryset=phases_with_review()))


def run_detail_get(run_id: str) -> Run:
    return get_object_or_404(runs_with_tiers_and_phases(), pk=run_id)


def phase_get(run_id: str, phase_id: str) -> Phase:
    return get_object_or_404(phases_with_review(), run_id=run_id, phase_id=phase_id)


def ledger_rows_for_run(run: Run) -> QuerySet[PhaseMetrics]:
    """Return the run's ledger rows newest first, each with its SQL total."""
    return (
        PhaseMetrics.objects.filter(run=run)
        .select_related("phase")
        .annotate(total_tokens=total_tokens_expression())
        .order_by("-created_at", "-id")
    )


def events_for_run(run: Run) -> QuerySet[DashboardEvent]:
    return (
        DashboardEvent.objects.filter(run=run)
        .select_related("phase")
        .order_by("-created_at", "-id")
    )


def phase_token_totals(run_id: str) -> dict[int, dict[str, int]]:
    """Each phase's raw ledger tokens per category (by the phase's primary key),
    one GROUP BY. Rolled-up rows are per run-day, not per phase, so not here."""
    rows = (
        PhaseMetrics.objects.filter(run_id=run_id).order_by().values("phase_id").annotate(**_sums())
    )
    return {row["phase_id"]: _sum_values(row) for row in rows}


def run_for_executor_get(run_id: str) -> Run:
    """Return the run with tiers, phases (with reviews) and its ledger total
    (`tokens_used`: raw rows and rolled-up days, as every total)."""
    run = get_object_or_404(runs_with_tiers_and_phases(), pk=run_id)
    run.tokens_used = consolidated_totals(run.pk)["total_tokens"]
    return run


EXECUTOR_STATUS_BY_RUN_STATE = {
    **dict.fromkeys([Run.State.DONE_SUCCESS], "COMPLETE"),
    **dict.fromkeys(Run.State.failed(), "FAILED"),
    **dict.fromkeys(
        [
            Run.State.PHASE_EXECUTION,
            Run.State.GATE,
            Run.State.CI_RUNNING,
            Run.State.SNAPSHOT_CREATED,
        ],
        "RUNNING",
    ),
    **dict.fromkeys(Run.State.not_started(), "QUEUED"),
}


def run_executor_status(run: Run) -> dict:
    """The executor's coarse status of a run beside its precise state, and its
    progress: phase counts and tokens (from the ledger, as every total is)."""
    totals = consolidated_totals(run.pk)
    total = totals["total_phases"]
    finished = totals["completed_phases"] + totals["failed_phases"] + totals["skipped_phases"]
    return {
        "run_id": run.pk,
        "state": EXECUTOR_STATUS_BY_RUN_STATE[run.state],
        "run_state": run.state,
        "created_at": run.created_at,
        "updated_at": run.updated_at,
        "started_at": run.started_at,
        "completed_at": run.completed_at,
        "tokens_used": totals["total_tokens"],
        "token_cap": run.token_cap,
        "total_phases": total,
        "completed_phases": totals["completed_phases"],
        "failed_phases": totals["failed_phases"],
        "executing_phases": totals["executing_phases"],
        # Phases that will not run again (complete, failed or skipped), of all.
        "percent_complete": round(100 * finished / total, 1) if total else 0.0,
        "failure_reason": run.failure_reason,
    }


class ConsolidatedTotals(TypedDict):
    retrieval_tokens: int
    second_opinion_tokens: int
    evidence_request_tokens: int
    base_tokens: int
    total_tokens: int
    total_phases: int
    completed_phases: int
    failed_phases: int
    skipped_phases: int
    executing_phases: int
    phases_with_metrics: int
    raw_rows: int
    rolled_up_rows: int


# SQLite's SUM() of 64-bit integers raises "integer overflow" past 2**63 (legal
# rows of 10**15 tokens reach it after 9,223), while PostgreSQL sums BIGINT as
# NUMERIC. On SQLite a token sum is therefore read as two exact partial sums,
# of the high and the low 32 bits of each value, joined back in Python:
# neither half can overflow before 2**31 rows.
_LOW_BITS = 32
_LOW_MASK = (1 << _LOW_BITS) - 1


def exact_sum_parts(field: str, alias: str, *, split: bool | None = None) -> dict[str, Sum]:
    """Aggregates that sum `field` exactly however large the total (NULL over no
    rows); read the result with `exact_sum_value(row, alias)`. `split=False` asks
    SQLite for one plain SUM, which raises past 2**63 (see `_overflow_retried`)."""
    if split is None:
        split = connection.vendor == "sqlite"
    if not split:
        return {alias: Sum(field)}
    return {
        f"{alias}_high": Sum(F(field).bitrightshift(_LOW_BITS)),
        f"{alias}_low": Sum(F(field).bitand(_LOW_MASK)),
    }


def exact_sum(field: str, alias: str) -> dict[str, Coalesce]:
    """`exact_sum_parts`, each 0 over no rows."""
    return {name: Coalesce(part, 0) for name, part in exact_sum_parts(field, alias).items()}


def exact_sum_value(row: dict, alias: str) -> int:
    """The sum `exact_sum(…, alias)` annotated on `row` (its parts are removed)."""
    if alias in row:
        return int(row.pop(alias))
    return (int(row.pop(f"{alias}_high")) << _LOW_BITS) + int(row.pop(f"{alias}_low"))


def _sums(prefix: str = "") -> dict:
    sums: dict = {}
    for name in TOKEN_CATEGORIES:
        sums.update(exact_sum(f"{prefix}{name}", name))
    return sums


def _sum_values(row: dict) -> dict:
    """`row` with its `_sums()` parts joined into one exact total per category."""
    return {**row, **{name: exact_sum_value(row, name) for name in TOKEN_CATEGORIES}}


PHASE_COUNTS = (
    "total_phases",
    "completed_phases",
    "failed_phases",
    "skipped_phases",
    "executing_phases",
    "phases_with_metrics",
)


def run_phase_counts_query(run_id: str) -> QuerySet:
    """The run's phase counts by state, one GROUP BY over its slice of
    metrics_phase_run_state: one row, or none without phases."""
    # Probes metrics_ledger_one_row_per_attempt once per phase instead of
    # counting distinct phases over every ledger row.
    has_rows = Exists(PhaseMetrics.objects.filter(phase=OuterRef("pk")))
    return (
        Phase.objects.filter(run_id=run_id)
        .order_by()
        .values(phases_run=F("run_id"))
        .annotate(
            total_phases=Count("id"),
            completed_phases=Count("id", filter=Q(state=Phase.State.COMPLETE)),
            failed_phases=Count("id", filter=Q(state=Phase.State.FAILED)),
            skipped_phases=Count("id", filter=Q(state=Phase.State.SKIPPED)),
            executing_phases=Count("id", filter=Q(state__in=Phase.State.executing())),
            phases_with_metrics=Count("id", filter=has_rows),
        )
    )


def _run_exists_query(run_id: str) -> QuerySet:
    return Run.objects.filter(pk=run_id).order_by().values("id")


def _category_sums(queryset: QuerySet, prefix: str, *, split: bool | None = None) -> QuerySet:
    """One row of the queryset's exact sum of each token category, named
    `{prefix}{category}` (see `exact_sum_parts`); no row over no rows."""
    return (
        queryset.order_by()
        .values(**{f"{prefix}run": F("run_id")})  # named apart from other parts' run ids
        .annotate(
            **{
                alias: part
                for name in TOKEN_CATEGORIES
                for alias, part in exact_sum_parts(name, f"{prefix}{name}", split=split).items()
            }
        )
    )


def ledger_totals_query(run_id: str, *, split: bool | None = None) -> QuerySet:
    """The run's raw ledger figures in one pass over metrics_ledger_run_created
    (an index-only scan: it holds the token columns)."""
    ledger = PhaseMetrics.objects.filter(run_id=run_id)
    return _category_sums(ledger, "raw_", split=split).annotate(raw_rows=Count("id"))


def _summary_totals_query(run_id: str) -> QuerySet:
    """The run's rolled-up days: sums and the rows they hold, one pass over its
    slice of metrics_daily_one_per_run_day (one row, none without days)."""
    summaries = DailyTokenSummary.objects.filter(run_id=run_id)
    return _category_sums(summaries, "rolled_").annotate(rolled_up_rows=Sum("row_count"))


_LEDGER_TOTALS = PreparedQuery(ledger_totals_query, "run_id")
_LEDGER_TOTALS_PLAIN = PreparedQuery(partial(ledger_totals_query, split=False), "run_id")
_SUMMARY_TOTALS = PreparedQuery(_summary_totals_query, "run_id")
# The consolidated figures in one statement: the run (no row: no run), its phase
# counts, rolled-up days and ledger totals side by side, each a GROUP BY over the
# run's slice of one index (a scalar subquery per figure costs a probe each).
_RUN_FIGURES = [_run_exists_query, run_phase_counts_query, _summary_totals_query]
_CONSOLIDATED_TOTALS = PreparedSideBySide([*_RUN_FIGURES, ledger_totals_query], "run_id")
_CONSOLIDATED_TOTALS_PLAIN = PreparedSideBySide(
    [*_RUN_FIGURES, partial(ledger_totals_query, split=False)], "run_id"
)


def _overflow_retried(
    plain: PreparedQuery, exact: PreparedQuery, run_id: str, **page
) -> dict | None:
    """`plain`'s row, or on SQLite past 2**63 `exact`'s: the plain query sums
    each category with one SUM, half the work of the exact split."""
    return _sqlite_overflow_retried(
        lambda: plain.first_row(run_id=run_id, **page),
        lambda: exact.first_row(run_id=run_id, **page),
    )


T = TypeVar("T")


def _sqlite_overflow_retried(plain: Callable[[], T], exact: Callable[[], T]) -> T:
    """`plain()`, or on SQLite, when one of its SUMs passes 2**63, `exact()` (the
    same figures from split 32-bit sums). PostgreSQL runs `exact()` only, whose
    sums are NUMERIC and never raise. An error in one SQLite statement leaves the
    transaction as it was."""
    if connection.vendor != "sqlite":
        return exact()
    try:
        return plain()
    except OperationalError as error:
        if "integer overflow" not in str(error):
            raise
        return exact()


def _ledger_totals(run_id: str) -> dict | None:
    """The run's raw ledger sums and row count (None without rows)."""
    return _overflow_retried(_LEDGER_TOTALS_PLAIN, _LEDGER_TOTALS, run_id)


def run_token_totals(run_id: str) -> dict[str, int]:
    """A run's exact tokens per category, raw and rolled up (two prepared queries)."""
    raw = _ledger_totals(run_id)
    rolled = _SUMMARY_TOTALS.first_row(run_id=run_id)
    return {
        name: (exact_sum_value(raw, f"raw_{name}") if raw else 0)
        + (exact_sum_value(rolled, f"rolled_{name}") if rolled else 0)
        for name in TOKEN_CATEGORIES
    }


def consolidated_totals(run_id: str) -> ConsolidatedTotals | None:
    """Return a run's token totals and phase counts, or None if there is no such run.

    One prepared statement whatever the run's size (the roll-up beside the
    ledger's aggregate). Totals cover the whole run: raw ledger rows plus the
    daily summaries retention rolled them into.
    """
    run = _overflow_retried(_CONSOLIDATED_TOTALS_PLAIN, _CONSOLIDATED_TOTALS, run_id)
    return None if run is None else _consolidated_totals_of(run)


def _consolidated_totals_of(run: dict) -> ConsolidatedTotals:
    """The totals of a row of `_CONSOLIDATED_TOTALS` (or a statement holding its
    columns). A part without rows (no phases, no ledger rows, no rolled-up days)
    is NULL beside the run: zero."""
    has_ledger = run["raw_rows"] is not None
    has_rolled = run["rolled_up_rows"] is not None
    categories = {
        name: (exact_sum_value(run, f"raw_{name}") if has_ledger else 0)
        + (exact_sum_value(run, f"rolled_{name}") if has_rolled else 0)
        for name in TOKEN_CATEGORIES
    }
    return ConsolidatedTotals(
        **categories,
        total_tokens=sum(categories.values()),
        **{name: run[name] or 0 for name in PHASE_COUNTS},
        raw_rows=run["raw_rows"] or 0,
        rolled_up_rows=run["rolled_up_rows"] or 0,
    )


def consolidated_page_query(run_id: str) -> QuerySet:
    """A run's raw ledger rows newest first (ties by id), each as the JSON object
    `ConsolidatedRowSerializer` documents, built by the database (`body`)."""
    # Each page row's phase id by its primary key (a scalar subquery): a join
    # let PostgreSQL's generic plan (the query is prepared) hash every phase of
    # every run, or probe the ledger once per phase, instead.
    phase_key = Phase.objects.filter(pk=OuterRef("phase_id")).order_by().values("phase_id")
    body = JSONObjectText(  # in the serializer's order (a test compares them)
        **{name: name for name in TOKEN_CATEGORIES},
        total_tokens=total_tokens_expression(),
        phase_id=Subquery(phase_key),
        attempt="attempt",
        model="model",
        created_at=UTCTimestampText("created_at"),
    )
    return (
        PhaseMetrics.objects.filter(run_id=run_id)
        .order_by("-created_at", "-id")
        .annotate(body=body)
        .values("body")
    )


# The whole consolidated document in one statement (one snapshot, so the count
# and the page always agree): totals beside the page, which the database renders
# as JSON (~0.1 us a row; a DRF serializer costs ~30 us, a dict per row ~0.5 us).
_PAGE = JSONArrayPage(consolidated_page_query, "results_json")
_CONSOLIDATED = PreparedSideBySide([*_RUN_FIGURES, ledger_totals_query, _PAGE], "run_id")
_CONSOLIDATED_PLAIN = PreparedSideBySide(
    [*_RUN_FIGURES, partial(ledger_totals_query, split=False), _PAGE], "run_id"
)


_SQL_BIGINT_MAX = 2**63 - 1


class ConsolidatedMetrics(TypedDict):
    """A run's consolidated metrics document, without its page links."""

    run_id: str
    totals: dict[str, int]
    total_phases: int
    completed_phases: int
    failed_phases: int
    phases_with_metrics: int
    rolled_up_rows: int
    count: int  # raw ledger rows: what the page is a page of
    results: msgspec.Raw  # the page: a JSON array, encoded as it is


def consolidated_metrics(run_id: str, *, limit: int, offset: int) -> ConsolidatedMetrics | None:
    """A run's token spend without double counting: whole-run totals and phase
    counts, plus one page of its raw ledger rows (newest first, ties by id).
    None if there is no such run."""
    # Past the run's rows any offset is the empty page; past 2**63 - 1 no database
    # takes it as a parameter.
    offset = min(offset, _SQL_BIGINT_MAX)
    run = _overflow_retried(_CONSOLIDATED_PLAIN, _CONSOLIDATED, run_id, limit=limit, offset=offset)
    if run is None:
        return None
    totals = _consolidated_totals_of(run)
    return ConsolidatedMetrics(
        run_id=run_id,
        totals={name: totals[name] for name in (*TOKEN_CATEGORIES, "total_tokens")},
        total_phases=totals["total_phases"],
        completed_phases=totals["completed_phases"],
        failed_phases=totals["failed_phases"],
        phases_with_metrics=totals["phases_with_metrics"],
        rolled_up_rows=totals["rolled_up_rows"],
        count=totals["raw_rows"],
        results=msgspec.Raw(run["results_json"].encode()),
    )


class DailyTotals(TypedDict):
    date: date
    retrieval_tokens: int
    second_opinion_tokens: int
    evidence_request_tokens: int
    base_tokens: int
    total_tokens: int
    rows: int


def _ledger_window_sql(*, with_run: bool) -> str:
    """`WITH … days(d)`: the UTC days of a window, clipped to the ledger's own oldest
    and newest day (two index lookups), so that the days never outnumber those the
    ledger spans, whatever window a client asks for (`from=0001-01-01` would
    otherwise be 3.6 million days). No rows: no day. Parameters: _ledger_window_params.
    """
    quote = connection.ops.quote_name
    ledger, created = quote(PhaseMetrics._meta.db_table), quote("created_at")
    where_run = f"WHERE {quote('run_id')} = %s" if with_run else ""
    oldest = f"(SELECT MIN({created}) FROM {ledger} {where_run})"
    newest = f"(SELECT MAX({created}) FROM {ledger} {where_run})"
    if connection.vendor == "postgresql":
        # GREATEST and LEAST skip NULLs, hence the CASE: generate_series of NULL
        # yields no day.
        return (
            f"WITH edges AS (SELECT {oldest} AS oldest, {newest} AS newest), "
            "days(d) AS (SELECT g::date FROM edges CROSS JOIN LATERAL generate_series("
            "CASE WHEN oldest IS NOT NULL THEN "
            "GREATEST(%s::date, (oldest AT TIME ZONE 'UTC')::date) END, "
            "LEAST(%s::date, (newest AT TIME ZONE 'UTC')::date), interval '1 day') AS g) "
        )
    # SQLite's max() and min() of several values are NULL when one is: no first day.
    return (
        f"WITH RECURSIVE edges(first, last) AS (SELECT max(%s, date({oldest})), "
        f"min(%s, date({newest}))), "
        "days(d) AS (SELECT first FROM edges WHERE first IS NOT NULL AND first <= last "
        "UNION ALL SELECT date(d, '+1 day') FROM days, edges WHERE d < last) "
    )


def _ledger_window_params(first: date, last: date, run_id: str | None) -> list:
    """_ledger_window_sql's parameters, in the order its text names them."""
    run = [run_id] if run_id else []
    if connection.vendor == "postgresql":
        return [*run, *run, first.isoformat(), last.isoformat()]
    return [first.isoformat(), *run, last.isoformat(), *run]


def _ledger_days_sql(*, split: bool, with_run: bool) -> str:
    """One aggregate of the raw ledger per day of the window (_ledger_window_sql),
    each summed over its own range of the created_at index. A GROUP BY over the
    window's rows computes every row's day and sorts or hashes them all: on a
    million-row ledger, 3-4x slower. Parameters: the window's, then the run id."""
    quote = connection.ops.quote_name
    ledger, created = quote(PhaseMetrics._meta.db_table), quote("created_at")
    run = f"{quote('run_id')} = %s AND " if with_run else ""
    window = _ledger_window_sql(with_run=with_run)
    if connection.vendor == "postgresql":  # SUM of BIGINT is NUMERIC: no overflow
        sums = ", ".join(f"SUM({quote(name)})" for name in TOKEN_CATEGORIES)
        return (
            f"{window}SELECT days.d, s.* FROM days CROSS JOIN LATERAL (SELECT {sums}, "
            f"COUNT(*) FROM {ledger} WHERE {run}{created} >= days.d::timestamp AT TIME ZONE "
            f"'UTC' AND {created} < (days.d + 1)::timestamp AT TIME ZONE 'UTC') AS s"
        )
    # SQLite: no LATERAL, so each day's aggregates come back as one JSON array;
    # `split` sums the high and low 32 bits apart (see exact_sum_parts).
    columns = [quote(name) for name in TOKEN_CATEGORIES]
    if split:
        sums = ", ".join(f"SUM({c} >> {_LOW_BITS}), SUM({c} & {_LOW_MASK})" for c in columns)
    else:
        sums = ", ".join(f"SUM({column})" for column in columns)
    return (
        f"{window}SELECT d, (SELECT json_array({sums}, COUNT(*)) FROM {ledger} WHERE {run}"
        f"{created} >= d AND {created} < date(d, '+1 day')) FROM days"
    )


def _ledger_day_rows(first: date, last: date, run_id: str | None, *, split: bool) -> list[tuple]:
    """(day, [category sums…], rows) per day with ledger rows, first to last."""
    with connection.cursor() as cursor:
        cursor.execute(
            _ledger_days_sql(split=split, with_run=bool(run_id)),
            [*_ledger_window_params(first, last, run_id), *([run_id] if run_id else [])],
        )
        fetched = cursor.fetchall()
    days = []
    for day, *values in fetched:
        if connection.vendor != "postgresql":
            values = json.loads(values[0])
            if split:
                halves, values = values[:-1], values[-1:]
                values = [
                    (high << _LOW_BITS) + low
                    for high, low in zip(halves[::2], halves[1::2], strict=True)
                ] + values
        *sums, rows = (int(value or 0) for value in values)
        if rows:
            days.append((date.fromisoformat(day) if isinstance(day, str) else day, sums, rows))
    return days


def _ledger_days(
    date_from: date | None, date_to: date | None, run_id: str | None
) -> list[tuple[date, list[int], int]]:
    """The raw ledger's per-day sums in the window (a missing bound: the ledger's
    own oldest or newest day)."""
    first, last = date_from or date.min, date_to or date.max
    if first > last:
        return []
    return _sqlite_overflow_retried(
        lambda: _ledger_day_rows(first, last, run_id, split=False),
        lambda: _ledger_day_rows(first, last, run_id, split=True),
    )


def daily_totals(
    *, date_from: date | None = None, date_to: date | None = None, run_id: str | None = None
) -> list[DailyTotals]:
    """Return token totals per UTC day, raw rows and rolled-up summaries together.

    The raw ledger summed day by day in the database, the summaries in one GROUP
    BY; the merge touches one entry per day, never a ledger row.
    """
    summaries = DailyTokenSummary.objects.all()
    if run_id:
        summaries = summaries.filter(run_id=run_id)
    if date_from:
        summaries = summaries.filter(date__gte=date_from)
    if date_to:
        summaries = summaries.filter(date__lte=date_to)
    rolled = (
        summaries.order_by().values("date").annotate(**_sums(), rows=Coalesce(Sum("row_count"), 0))
    )
    by_day: dict[date, dict] = {}

    def add(day: date, values: dict) -> None:
        merged = by_day.setdefault(day, dict.fromkeys((*TOKEN_CATEGORIES, "rows"), 0))
        for name in (*TOKEN_CATEGORIES, "rows"):
            merged[name] += values[name]

    for day, sums, rows in _ledger_days(date_from, date_to, run_id):
        add(day, {**dict(zip(TOKEN_CATEGORIES, sums, strict=True)), "rows": rows})
    for entry in map(_sum_values, rolled):
        add(entry["date"], entry)
    return [
        DailyTotals(
            date=day,
            **{name: totals[name] for name in TOKEN_CATEGORIES},
            total_tokens=sum(totals[name] for name in TOKEN_CATEGORIES),
            rows=totals["rows"],
        )
        for day, totals in sorted(by_day.items())
    ]


# --- Human approvals and clarifications -------------------------------------------


class RunsOnDay(TypedDict):
    date: date
    state: str
    runs: int


def runs_by_state_per_day(date_from: date) -> list[RunsOnDay]:
    """Runs created on each UTC day from `date_from` on, counted per state (one
    GROUP BY; days without runs are absent)."""
    rows = (
        Run.objects.filter(created_at__gte=utc_day_start(date_from))
        .annotate(day=UTCDate("created_at"))
        .order_by()
        .values("day", "state")
        .annotate(runs=Count("id"))
    )
    return [RunsOnDay(date=row["day"], state=row["state"], runs=row["runs"]) for row in rows]


def approval_request_get(approval_id: int) -> ApprovalRequest:
    """Return the request (either kind) or raise Http404."""
    return get_object_or_404(ApprovalRequest.objects.select_related("phase"), pk=approval_id)


def approval_get(approval_id: int) -> ApprovalRequest:
    """Return the approval (not a clarification) or raise Http404."""
    return get_object_or_404(
        ApprovalRequest.objects.select_related("phase"),
        pk=approval_id,
        kind=ApprovalRequest.Kind.APPROVAL,
    )


def approvals_pending() -> QuerySet[ApprovalRequest]:
    """Requests awaiting a human, oldest deadline first (both kinds)."""
    return (
        ApprovalRequest.objects.filter(status=ApprovalRequest.Status.PENDING)
        .select_related("phase")
        .order_by("timeout_at", "id")
    )


def approvals_pending_count() -> int:
    return ApprovalRequest.objects.filter(status=ApprovalRequest.Status.PENDING).count()


def clarification_latest(phase_id: str) -> ApprovalRequest:
    """The newest clarification asked for a phase (the executor names the phase by
    its id alone), or Http404."""
    found = (
        ApprovalRequest.objects.filter(
            kind=ApprovalRequest.Kind.CLARIFICATION, phase__phase_id=phase_id
        )
        .select_related("phase")
        .order_by("-requested_at", "-id")
        .first()
    )
    if found is None:
        raise Http404(f"No clarification was requested for phase {phase_id!r}.")
    return found
