"""Ledger retention: roll old rows into daily summaries, then delete them.

Each batch is one transaction that adds the batch's per-run, per-day sums to
the summaries (an upsert computed in SQL) and deletes exactly those rows. A
batch is therefore either fully rolled up or untouched: an interruption loses
nothing, and a rerun finds only rows not yet rolled up, so nothing is doubled.

A batch the database refuses (a run-day whose sum no BIGINT column can hold) is
rolled up run-day by run-day instead: the run-days that fail keep their raw rows
(every total stays exact), are reported, and never stall the rest.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db import DatabaseError, connection, transaction
from django.db.models import Count, Sum
from django.utils import timezone

from metrics.models import TOKEN_CATEGORIES, DailyTokenSummary, PhaseMetrics, UTCDate


@dataclass(frozen=True)
class RetentionResult:
    cutoff: datetime
    rows: int  # ledger rows rolled up (or that would be, on a dry run)
    run_days: int  # distinct (run, day) pairs they fall into
    batches: int
    dry_run: bool
    # (run id, day, reason) of run-days left raw because the database refused them.
    skipped: tuple[tuple[str, str, str], ...] = ()


def _rollup_insert_sql(batch) -> tuple[str, list]:
    """Build INSERT … SELECT … GROUP BY … ON CONFLICT DO UPDATE (adds, never replaces)."""
    grouped = (
        batch.annotate(day=UTCDate("created_at"))
        .order_by()
        .values("run_id", "day")
        .annotate(**{f"sum_{name}": Sum(name) for name in TOKEN_CATEGORIES}, rows=Count("id"))
    )
    select_sql, params = grouped.query.sql_with_params()
    table = connection.ops.quote_name(DailyTokenSummary._meta.db_table)
    quote = connection.ops.quote_name
    columns = ["run_id", "date", *TOKEN_CATEGORIES, "row_count"]
    updates = ", ".join(
        f"{quote(column)} = {table}.{quote(column)} + excluded.{quote(column)}"
        for column in [*TOKEN_CATEGORIES, "row_count"]
    )
    sql = (
        f"INSERT INTO {table} ({', '.join(quote(c) for c in columns)}) {select_sql} "
        f"ON CONFLICT ({quote('run_id')}, {quote('date')}) DO UPDATE SET {updates}"
    )
    return sql, list(params)


def metrics_retention_run(
    *,
    days: int,
    batch_size: int = 50_000,
    dry_run: bool = False,
    now: datetime | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> RetentionResult:
    """Roll ledger rows older than `days` days into daily summaries, batch by batch.

    `progress(done, total)` is called after each committed batch.
    """
    cutoff = (now or timezone.now()) - timedelta(days=days)
    old_rows = PhaseMetrics.objects.filter(created_at__lt=cutoff)
    total = old_rows.count()
    run_days = (
        old_rows.annotate(day=UTCDate("created_at"))
        .order_by()
        .values("run_id", "day")
        .distinct()
        .count()
    )
    if dry_run or total == 0:
        return RetentionResult(cutoff, total, run_days, 0, dry_run)

    done = batches = 0
    last_pk = 0
    skipped: list[tuple[str, str, str]] = []
    while True:
        with transaction.atomic():
            # Batches follow the primary key; the next starts after the last one.
            pks = list(
                old_rows.filter(pk__gt=last_pk)
                .order_by("pk")
                .values_list("pk", flat=True)[:batch_size]
            )
            if not pks:
                break
            try:
                with transaction.atomic():
                    rolled = _roll_up(pks)
            except DatabaseError:
                rolled = _roll_up_run_days(pks, skipped)
        last_pk = pks[-1]
        done += rolled
        batches += 1
        if progress:
            progress(done, total)
    return RetentionResult(cutoff, done, run_days, batches, dry_run, tuple(skipped))


def _roll_up(pks: list[int]) -> int:
    """Add these rows' sums to the summaries and delete exactly these rows."""
    # By explicit primary keys: a pk range plus the cutoff would let the planner
    # pick the created_at index and rescan every old row per batch.
    batch = PhaseMetrics.objects.filter(pk__in=pks)
    sql, params = _rollup_insert_sql(batch)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
    deleted = batch._raw_delete(batch.db)  # nothing references ledger rows
    if deleted != len(pks):
        # Rows changed under us; the transaction rolls back, nothing is lost.
        raise RuntimeError(f"expected to delete {len(pks)} rows, deleted {deleted}")
    return deleted


def _roll_up_run_days(pks: list[int], skipped: list) -> int:
    """The batch one run-day at a time, each in a savepoint; a refused one keeps its
    raw rows and is reported in `skipped`."""
    groups: dict[tuple[str, date], list[int]] = {}
    rows = (
        PhaseMetrics.objects.filter(pk__in=pks)
        .annotate(day=UTCDate("created_at"))
        .values_list("run_id", "day", "pk")
    )
    for run_id, day, pk in rows:
        groups.setdefault((run_id, day), []).append(pk)
    rolled = 0
    for (run_id, day), group in sorted(groups.items()):
        try:
            with transaction.atomic():
                rolled += _roll_up(group)
        except DatabaseError as error:
            skipped.append((run_id, day.isoformat(), str(error).splitlines()[0]))
    return rolled
