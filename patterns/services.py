"""Writes for pattern mining: keep the Pattern table in step with what was mined,
merge and mark patterns as people decide, and generate detectors for the top ones."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from patterns import codegen, registry
from patterns.mining import MinedPattern
from patterns.models import Pattern


def _widen_seen(pattern: Pattern, first_seen, last_seen) -> None:
    """Keep the earliest first and the latest last sighting of both."""
    pattern.first_seen = min(filter(None, [pattern.first_seen, first_seen]), default=None)
    pattern.last_seen = max(filter(None, [pattern.last_seen, last_seen]), default=None)


@transaction.atomic
def patterns_sync(*, mined: Sequence[MinedPattern]) -> dict[str, int]:
    """Create or update a row per mined pattern; people's status and merges are never
    touched. A pattern others are merged into keeps its own regex: the mined one also
    holds theirs (`selectors.known_patterns` combines them afresh on every run)."""
    existing = {
        pattern.pattern_id: pattern
        for pattern in Pattern.objects.select_for_update().filter(
            pattern_id__in=[m.pattern_id for m in mined]
        )
    }
    with_merges = set(
        Pattern.objects.filter(pattern_id__in=existing, merged_patterns__isnull=False).values_list(
            "pattern_id", flat=True
        )
    )
    created = updated = 0
    for found in mined:
        pattern = existing.get(found.pattern_id) or Pattern(pattern_id=found.pattern_id)
        pattern.kind = found.kind
        pattern.template = found.template
        if found.pattern_id not in with_merges:
            pattern.regex = found.regex
        pattern.keywords = found.keywords
        pattern.occurrences = found.count
        pattern.run_count = len(found.run_ids)
        pattern.run_ids = found.run_ids
        pattern.samples = found.samples
        # A narrower mining window must not forget when a pattern was first or last seen.
        _widen_seen(pattern, found.first_seen, found.last_seen)
        pattern.full_clean()
        if pattern.pk is None:
            created += 1
        else:
            updated += 1
        pattern.save()
    return {"created": created, "updated": updated}


@transaction.atomic
def patterns_merge(*, target: Pattern, sources: Sequence[Pattern]) -> int:
    """File `sources` under `target`: one cause worded differently.

    Patterns already merged into a source move to the target, so merges stay one
    level deep. The target's counts grow at once; the next mining run recounts. An
    earlier "different causes" mark between the target and a moving pattern no
    longer holds and is forgotten. Returns how many patterns were merged.
    """
    target = Pattern.objects.select_for_update().get(pk=target.pk)
    if target.merged_into_id is not None:
        raise ValidationError(f"{target} is itself merged into {target.merged_into}.")
    source_pks = {source.pk for source in sources} - {target.pk}
    moving = list(
        Pattern.objects.select_for_update().filter(
            Q(pk__in=source_pks) | Q(merged_into__in=source_pks)
        )
    )
    now = timezone.now()
    for pattern in moving:
        if pattern.pk in source_pks and pattern.merged_into_id != target.pk:
            target.occurrences += pattern.occurrences
            target.run_ids = sorted(set(target.run_ids) | set(pattern.run_ids))
            _widen_seen(target, pattern.first_seen, pattern.last_seen)
        pattern.merged_into, pattern.updated_at = target, now
    target.run_count = len(target.run_ids)
    target.save()
    Pattern.objects.bulk_update(moving, ["merged_into", "updated_at"])
    moved = [pattern.pk for pattern in moving]
    Pattern.distinct_from.through.objects.filter(
        Q(from_pattern=target.pk, to_pattern__in=moved)
        | Q(to_pattern=target.pk, from_pattern__in=moved)
    ).delete()
    return len(source_pks)


def patterns_merge_into_most_frequent(*, patterns: Sequence[Pattern]) -> tuple[Pattern, int]:
    """Merge `patterns` into the most frequent of them not merged elsewhere (ties: the
    oldest). Returns the target and how many patterns were merged."""
    chosen = sorted(
        patterns, key=lambda pattern: (-pattern.occurrences, pattern.created_at, pattern.pk)
    )
    if len(chosen) < 2:
        raise ValidationError("Select at least two patterns to merge.")
    target = next((pattern for pattern in chosen if pattern.merged_into_id is None), None)
    if target is None:
        raise ValidationError("Every selected pattern is already merged elsewhere.")
    return target, patterns_merge(target=target, sources=chosen)


@transaction.atomic
def patterns_unmerge(*, patterns: Sequence[Pattern]) -> int:
    """Undo merges: these patterns are their own again from the next mining run."""
    return Pattern.objects.filter(
        pk__in=[pattern.pk for pattern in patterns], merged_into__isnull=False
    ).update(merged_into=None)


@transaction.atomic
def patterns_mark_distinct(*, patterns: Sequence[Pattern]) -> int:
    """Record that these patterns are different causes (every pair of them), so they
    are not suggested for merging again. Returns how many pairs are newly marked.
    A pattern merged into another of them must be split out first: a merge and a
    "different causes" mark must not contradict each other."""
    chosen = sorted({pattern.pk for pattern in patterns})
    contradicted = (
        Pattern.objects.select_related("merged_into")
        .filter(pk__in=chosen, merged_into__in=chosen)
        .first()
    )
    if contradicted is not None:
        raise ValidationError(
            f"{contradicted} is merged into {contradicted.merged_into}; split it out first."
        )
    through = Pattern.distinct_from.through
    already = set(
        through.objects.filter(from_pattern__in=chosen, to_pattern__in=chosen).values_list(
            "from_pattern", "to_pattern"
        )
    )
    pairs = [(a, b) for i, a in enumerate(chosen) for b in chosen[i + 1 :] if (a, b) not in already]
    # Symmetrical: one row per direction, as Django's own add() would write. Two
    # operators marking the same pair at once must not fail on the unique pair.
    through.objects.bulk_create(
        [
            through(from_pattern_id=a, to_pattern_id=b)
            for pair in pairs
            for a, b in (pair, pair[::-1])
        ],
        ignore_conflicts=True,
    )
    return len(pairs)


@transaction.atomic
def patterns_unmark_distinct(*, patterns: Sequence[Pattern]) -> int:
    """Forget the "different causes" marks among these patterns; returns the pairs."""
    chosen = [pattern.pk for pattern in patterns]
    deleted, _ = Pattern.distinct_from.through.objects.filter(
        from_pattern__in=chosen, to_pattern__in=chosen
    ).delete()
    return deleted // 2


@transaction.atomic
def patterns_answer_suggestion(*, source: Pattern, target: Pattern, same_cause: bool) -> None:
    """An operator's answer to a merge suggestion: one cause (file `source` under
    `target`; an earlier decline of the pair is forgotten) or different causes (the
    pair is never suggested again; refused while the pair is merged).

    Refusals are keyed by field, so the API and the admin can say which side is wrong.
    """
    if source.pk == target.pk:
        raise ValidationError({"target": "A pattern cannot be compared with itself."})
    if not same_cause:
        try:
            patterns_mark_distinct(patterns=[source, target])
        except ValidationError as error:
            raise ValidationError({"same_cause": error.messages}) from error
        return
    # Answering must not silently undo an earlier merge elsewhere.
    for field, pattern in (("source", source), ("target", target)):
        if pattern.merged_into_id is not None:
            raise ValidationError(
                {
                    field: f"{pattern} is already merged into "
                    f"{pattern.merged_into}; split it out first."
                }
            )
    patterns_merge(target=target, sources=[source])


# A generated test checks that the detector ignores other patterns' samples: a few of
# each, up to a bound that keeps the test file readable.
MUST_NOT_MATCH_PER_PATTERN = 3
MUST_NOT_MATCH_MAX = 60


def pattern_code_generate(
    *,
    mined: Sequence[MinedPattern],
    top: Sequence[MinedPattern],
    total: int,
    output_dir: Path,
    tests_dir: Path,
    backlog_dir: Path,
    dry_run: bool = False,
) -> list[tuple[Path, str]]:
    """Write a detector, its tests and a backlog entry for each of `top`; return each
    file with its status (created, updated, unchanged, taken over; with dry_run what
    would happen). Every file is checked before any is written, so a bad one
    (codegen.GenerationError) leaves all of them unwritten."""
    files: list[codegen.GeneratedFile] = []
    for pattern in top:
        excluded = {pattern.pattern_id, *pattern.overlaps}
        must_not_match = [
            sample
            for other in mined
            if other.pattern_id not in excluded
            for sample in other.samples[:MUST_NOT_MATCH_PER_PATTERN]
        ]
        files += codegen.detector_files(
            pattern,
            output_dir=output_dir,
            tests_dir=tests_dir,
            backlog_dir=backlog_dir,
            total=total,
            must_not_match=must_not_match[:MUST_NOT_MATCH_MAX],
        )
    for file in files:
        codegen.check_generated(file)
    statuses = [(file.path, codegen.write_generated(file, dry_run=dry_run)) for file in files]
    if not dry_run:
        registry.reload()  # this process matches with the detectors just written
    return statuses
