"""Reads for pattern mining: the failure messages to mine, one per failure; the
patterns a message matches; merge suggestions among the stored patterns."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date, datetime
from typing import TypedDict

from django.db import connection
from django.db.models import BooleanField, F, QuerySet
from django.db.models.expressions import RawSQL
from django.db.models.functions import Coalesce
from django.shortcuts import get_object_or_404

from autopack_site.dates import utc_day_start
from metrics.models import DashboardEvent, Phase, Run
from patterns import registry
from patterns.mining import FailureMessage, KnownPattern, combine_regexes
from patterns.models import Pattern
from patterns.similarity import DEFAULT_MIN_SCORE, MergeSuggestion, pattern_text, suggest_merges


def pattern_get(pattern_id: str) -> Pattern:
    """The pattern (with what it is merged into), or Http404."""
    return get_object_or_404(Pattern.objects.select_related("merged_into"), pattern_id=pattern_id)


def patterns_standalone() -> QuerySet[Pattern]:
    """The patterns that stand on their own (not merged into another), most
    frequent first."""
    return Pattern.objects.filter(merged_into__isnull=True).order_by("-occurrences", "id")


def patterns_top(limit: int) -> list[Pattern]:
    return list(patterns_standalone()[:limit])


def _runs_per_day_sql() -> str:
    """Per (pattern, UTC day): how many of the pattern's runs were created that day.
    The JSON list of run ids is unnested by the database (json_each / jsonb)."""
    quote = connection.ops.quote_name
    patterns, runs = quote(Pattern._meta.db_table), quote(Run._meta.db_table)
    if connection.vendor == "postgresql":
        element = "CROSS JOIN LATERAL jsonb_array_elements_text(p.run_ids) AS j(value)"
        day = "(r.created_at AT TIME ZONE 'UTC')::date"
    else:
        element = "CROSS JOIN json_each(p.run_ids) AS j"
        day = "date(r.created_at)"
    return (
        f"SELECT p.id, {day}, COUNT(*) FROM {patterns} p {element} "
        f"JOIN {runs} r ON r.id = j.value "
        f"WHERE p.id IN ({{ids}}) AND r.created_at >= %s GROUP BY p.id, {day}"
    )


def pattern_runs_per_day(
    patterns: Sequence[Pattern], date_from: date
) -> dict[int, dict[date, int]]:
    """For each pattern (by primary key): its runs created per UTC day since
    `date_from`, counted in one query. Days without runs are absent."""
    if not patterns:
        return {}
    sql = _runs_per_day_sql().format(ids=", ".join(["%s"] * len(patterns)))
    with connection.cursor() as cursor:
        since = connection.ops.adapt_datetimefield_value(utc_day_start(date_from))
        cursor.execute(sql, [*(pattern.pk for pattern in patterns), since])
        rows = cursor.fetchall()
    per_day: dict[int, dict[date, int]] = {pattern.pk: {} for pattern in patterns}
    for pattern_pk, day, runs in rows:
        # SQLite's date() is text; PostgreSQL's a date.
        day = date.fromisoformat(day) if isinstance(day, str) else day
        per_day[pattern_pk][day] = runs
    return per_day


def patterns_of_run(run_id: str) -> QuerySet[Pattern]:
    """The patterns whose runs include this one (their run ids, unnested by the
    database), most frequent first."""
    if connection.vendor == "postgresql":
        names = "SELECT 1 FROM jsonb_array_elements_text(run_ids) AS j(value) WHERE j.value = %s"
    else:
        names = "SELECT 1 FROM json_each(run_ids) WHERE json_each.value = %s"
    named = RawSQL(f"EXISTS ({names})", [run_id], output_field=BooleanField())
    return (
        Pattern.objects.alias(names_run=named).filter(names_run=True).order_by("-occurrences", "id")
    )


def failure_messages(
    *, run_ids: Sequence[str] = (), since: datetime | None = None, until: datetime | None = None
) -> list[FailureMessage]:
    """Failure events and phases' last failure reasons in [since, until), oldest first.

    A failure recorded both as an event and as its phase's last failure reason (or
    as several events of one phase) counts once: one message per run, phase and text.
    """
    events = DashboardEvent.objects.filter(event_type__in=DashboardEvent.EventType.failures())
    phases = Phase.objects.exclude(last_failure_reason="").annotate(
        moment=Coalesce("completed_at", "started_at", "created_at")
    )
    if run_ids:
        events = events.filter(run_id__in=run_ids)
        phases = phases.filter(run_id__in=run_ids)
    if since is not None:
        events = events.filter(created_at__gte=since)
        phases = phases.filter(moment__gte=since)
    if until is not None:
        events = events.filter(created_at__lt=until)
        phases = phases.filter(moment__lt=until)
    # The whole store streams through a server-side cursor on PostgreSQL; a few runs'
    # failures are read at once (a cursor would cost three round trips a query).
    read = list if run_ids else QuerySet.iterator
    rows = [
        *read(
            events.values_list("run_id", "phase__phase_id", "message", "created_at").order_by(
                "created_at", "id"
            )
        ),
        *read(
            phases.values_list("run_id", "phase_id", "last_failure_reason", F("moment")).order_by(
                "moment", "id"
            )
        ),
    ]
    rows.sort(key=lambda row: row[3])
    seen: set[tuple[str, str, str]] = set()
    messages = []
    for run_id, phase_id, text, moment in rows:
        key = (run_id, phase_id or "", text.strip())
        if not key[2] or key in seen:
            continue
        seen.add(key)
        messages.append(
            FailureMessage(text=text, run_id=run_id, phase_id=phase_id or "", created_at=moment)
        )
    return messages


def known_patterns() -> list[KnownPattern]:
    """Stored patterns, oldest first: the first whose regex finds a message keeps it.

    A pattern that others are merged into finds their messages too (its regex and
    theirs, combined); merged patterns are not offered on their own.
    """
    merged: dict[int, list[str]] = {}
    for target_pk, regex in (
        Pattern.objects.filter(merged_into__isnull=False)
        .order_by("created_at", "id")
        .values_list("merged_into", "regex")
    ):
        merged.setdefault(target_pk, []).append(regex)
    return [
        KnownPattern(
            pattern_id=pid,
            regex=combine_regexes([regex, *merged.get(pk, [])]),
            samples=tuple(sample for sample in samples or () if isinstance(sample, str)),
        )
        for pk, pid, regex, samples in Pattern.objects.filter(merged_into__isnull=True)
        .order_by("created_at", "id")
        .values_list("pk", "pattern_id", "regex", "samples")
    ]


def merge_suggestions(
    *,
    min_score: float = DEFAULT_MIN_SCORE,
    limit: int | None = None,
    involving: str | None = None,
) -> list[MergeSuggestion]:
    """Pairs of stored patterns that may be one cause, most similar first.

    Patterns already merged take part through their target: its text includes their
    templates, so a pattern similar to a merged one is suggested for the target.
    Pairs people marked as different causes are not suggested again.
    """
    merged_templates: dict[int, list[str]] = {}
    for target_pk, template in Pattern.objects.filter(merged_into__isnull=False).values_list(
        "merged_into", "template"
    ):
        merged_templates.setdefault(target_pk, []).append(template)
    texts = [
        pattern_text(pattern_id, template, samples, occurrences, merged_templates.get(pk, []))
        for pk, pattern_id, template, samples, occurrences in (
            Pattern.objects.filter(merged_into__isnull=True).values_list(
                "pk", "pattern_id", "template", "samples", "occurrences"
            )
        )
    ]
    declined = {
        frozenset(pair)
        for pair in Pattern.distinct_from.through.objects.values_list(
            "from_pattern__pattern_id", "to_pattern__pattern_id"
        )
    }
    return suggest_merges(
        texts, min_score=min_score, limit=limit, declined=declined, involving=involving
    )


class PatternMatch(TypedDict):
    pattern_id: str
    kind: str | None  # None: a detector whose pattern is not stored (any more)
    status: str | None
    matched_by: list[str]  # "detector", "regex", in the order found


def pattern_matches(message: str, context: dict | None = None) -> list[PatternMatch]:
    """The patterns a failure message matches, by generated detector and by stored
    regex, sorted by id. A merged pattern's match (by its regex or its old detector)
    counts for the pattern it was merged into."""
    rows = list(
        Pattern.objects.select_related("merged_into").only(
            "pattern_id",
            "regex",
            "kind",
            "status",
            "merged_into__pattern_id",
            "merged_into__kind",
            "merged_into__status",
        )
    )
    owner_of = {pattern.pattern_id: (pattern.merged_into or pattern).pattern_id for pattern in rows}
    stored = {pattern.pattern_id: pattern for pattern in rows if pattern.merged_into is None}
    matched: dict[str, list[str]] = {}

    def found(pattern_id: str, source: str) -> None:
        sources = matched.setdefault(owner_of.get(pattern_id, pattern_id), [])
        if source not in sources:
            sources.append(source)

    for pattern_id in registry.detect_all(message, context):
        found(pattern_id, "detector")
    for pattern in rows:
        if re.search(pattern.regex, message):
            found(pattern.pattern_id, "regex")
    return [
        PatternMatch(
            pattern_id=pattern_id,
            kind=stored[pattern_id].kind if pattern_id in stored else None,
            status=stored[pattern_id].status if pattern_id in stored else None,
            matched_by=sources,
        )
        for pattern_id, sources in sorted(matched.items())
    ]
