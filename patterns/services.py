"""Writes for pattern mining: keep the Pattern table in step with what was mined."""

from __future__ import annotations

from collections.abc import Sequence

from django.db import transaction

from patterns.mining import MinedPattern
from patterns.models import Pattern


@transaction.atomic
def patterns_sync(*, mined: Sequence[MinedPattern]) -> dict[str, int]:
    """Create or update a row per mined pattern; people's status is never touched."""
    existing = {pattern.pattern_id: pattern
                for pattern in Pattern.objects.select_for_update()
                .filter(pattern_id__in=[m.pattern_id for m in mined])}
    created = updated = 0
    for found in mined:
        pattern = existing.get(found.pattern_id) or Pattern(pattern_id=found.pattern_id)
        pattern.kind = found.kind
        pattern.template = found.template
        pattern.regex = found.regex
        pattern.keywords = found.keywords
        pattern.occurrences = found.count
        pattern.run_count = len(found.run_ids)
        pattern.run_ids = found.run_ids
        pattern.samples = found.samples
        # A narrower mining window must not forget when a pattern was first or last seen.
        pattern.first_seen = min(filter(None, [pattern.first_seen, found.first_seen]), default=None)
        pattern.last_seen = max(filter(None, [pattern.last_seen, found.last_seen]), default=None)
        pattern.full_clean()
        if pattern.pk is None:
            created += 1
        else:
            updated += 1
        pattern.save()
    return {"created": created, "updated": updated}
