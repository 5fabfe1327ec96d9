"""Suggest which patterns may be one cause worded differently. Pure Python: no Django.

Mining groups messages by their words, so one cause reported in other words
(`Read timed out` and `Connection aborted` from the same API client, or
`Missing 2 required deliverables` and `DELIVERABLES_VALIDATION_FAILED`) stays
several patterns. Merging those automatically would also merge causes that only
share vocabulary, so this module only ranks candidate pairs; an operator confirms
each with the admin's merge action.

Similarity is the cosine of TF-IDF vectors of character n-grams of each pattern's
words (its template, samples and the templates merged into it): n-grams tolerate
inflection and spelling (`corrupt`/`corrupted`, `deliverables`/`DELIVERABLES_…`),
and IDF lets the words shared by every failure (`failed`, `error`) count little.
"""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from collections.abc import Collection, Sequence
from dataclasses import dataclass

NGRAM_SIZES = (3, 4, 5)
DEFAULT_MIN_SCORE = 0.25
# Pairwise comparison grows with the square of the pattern count: only the most
# frequent patterns are compared (the ones worth an operator's time).
MAX_PATTERNS_COMPARED = 2000
# A pattern's wording is in its first characters; a huge sample (a whole log pasted
# as a message) must not make the comparison slow.
TEXT_MAX_CHARS = 20_000

_MASKED = re.compile(r"<[^<>\s]*>|\d+")
_WORD = re.compile(r"[a-z_]{2,}")


@dataclass(frozen=True)
class PatternText:
    pattern_id: str
    text: str
    occurrences: int


def pattern_text(
    pattern_id: str, template: str, samples: Sequence[str], occurrences: int,
    merged_templates: Sequence[str] = (),
) -> PatternText:
    """A pattern's wording: its template, the templates merged into it, its samples."""
    return PatternText(pattern_id=pattern_id, occurrences=occurrences,
                       text="\n".join([template, *merged_templates, *samples]))


@dataclass(frozen=True)
class MergeSuggestion:
    """Merge `source` into `target` (the more frequent of the two)?"""

    source: str
    target: str
    score: float


def ngrams(text: str) -> Counter:
    """Character n-grams of the words of `text`, lowercased, without masked values."""
    grams: Counter = Counter()
    for word in _WORD.findall(_MASKED.sub(" ", text[:TEXT_MAX_CHARS].lower())):
        padded = f" {word} "
        for size in NGRAM_SIZES:
            for start in range(len(padded) - size + 1):
                grams[padded[start:start + size]] += 1
    return grams


def _vectors(documents: Sequence[Counter]) -> list[dict[str, float]]:
    """Unit-length TF-IDF vectors (sublinear term frequency)."""
    frequency = Counter(gram for document in documents for gram in document)
    count = len(documents)
    vectors = []
    for document in documents:
        vector = {gram: (1 + math.log(n)) * (1 + math.log((1 + count) / (1 + frequency[gram])))
                  for gram, n in document.items()}
        norm = math.sqrt(sum(weight * weight for weight in vector.values())) or 1.0
        vectors.append({gram: weight / norm for gram, weight in vector.items() if weight})
    return vectors


def suggest_merges(
    patterns: Sequence[PatternText], *, min_score: float = DEFAULT_MIN_SCORE,
    limit: int | None = None, declined: Collection[frozenset[str]] = (),
    involving: str | None = None,
) -> list[MergeSuggestion]:
    """Pairs of patterns at least `min_score` similar, most similar first.

    Each pair appears once, the less frequent pattern as the source (ties: the
    later id), so accepting a suggestion keeps the established pattern's id. Pairs
    in `declined` (operators said: different causes) are left out. With
    `involving`, only the pairs of that pattern are scored (one page of the admin).
    """
    if not 0 < min_score <= 1:
        raise ValueError("min_score must be in (0, 1]")
    chosen = sorted(patterns, key=lambda p: (-p.occurrences, p.pattern_id))[:MAX_PATTERNS_COMPARED]
    vectors = _vectors([ngrams(pattern.text) for pattern in chosen])
    postings: dict[str, list[tuple[int, float]]] = defaultdict(list)
    for index, vector in enumerate(vectors):
        for gram, weight in vector.items():
            postings[gram].append((index, weight))
    if involving is None:
        # Each pattern against the ones after it: every pair once.
        rows = [(index, index + 1) for index in range(len(chosen))]
    else:
        rows = [(index, 0) for index, p in enumerate(chosen) if p.pattern_id == involving]
    suggestions = []
    for index, first_other in rows:
        # Dot products through shared n-grams only.
        dots: dict[int, float] = defaultdict(float)
        for gram, weight in vectors[index].items():
            for other, other_weight in postings[gram]:
                if other >= first_other and other != index:
                    dots[other] += weight * other_weight
        for other, score in dots.items():
            if score >= min_score and frozenset(
                    (chosen[index].pattern_id, chosen[other].pattern_id)) not in declined:
                # `chosen` is most frequent first: the earlier pattern is the target.
                target, source = sorted((index, other))
                suggestions.append(MergeSuggestion(
                    source=chosen[source].pattern_id, target=chosen[target].pattern_id,
                    score=round(min(score, 1.0), 4)))
    suggestions.sort(key=lambda s: (-s.score, s.target, s.source))
    return suggestions if limit is None else suggestions[:limit]
