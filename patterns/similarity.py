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

import functools
import re
from collections import Counter
from collections.abc import Collection, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import sparse

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
    pattern_id: str,
    template: str,
    samples: Sequence[str],
    occurrences: int,
    merged_templates: Sequence[str] = (),
) -> PatternText:
    """A pattern's wording: its template, the templates merged into it, its samples."""
    return PatternText(
        pattern_id=pattern_id,
        occurrences=occurrences,
        text="\n".join([template, *merged_templates, *samples]),
    )


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
        grams.update(_word_ngrams(word))
    return grams


@functools.lru_cache(maxsize=1 << 16)
def _word_ngrams(word: str) -> tuple[str, ...]:
    # Words repeat across samples and patterns: each is cut into n-grams once.
    padded = f" {word} "
    return tuple(
        padded[start : start + size]
        for size in NGRAM_SIZES
        for start in range(len(padded) - size + 1)
    )


def _unit_tfidf(documents: Sequence[Counter]) -> sparse.csr_matrix:
    """A row per document: its unit-length TF-IDF vector (sublinear term frequency,
    smoothed inverse document frequency)."""
    frequency = Counter(gram for document in documents for gram in document)
    column = {gram: index for index, gram in enumerate(frequency)}
    columns, counts = [], []
    for document in documents:
        columns.extend(map(column.__getitem__, document))
        counts.extend(document.values())
    columns = np.array(columns, dtype=np.int64)
    rows = np.repeat(np.arange(len(documents)), [len(document) for document in documents])
    inverse = 1 + np.log(
        (1 + len(documents)) / (1 + np.array(list(frequency.values()), dtype=np.float64))
    )
    weights = (1 + np.log(np.array(counts, dtype=np.float64))) * inverse[columns]
    matrix = sparse.csr_matrix((weights, (rows, columns)), shape=(len(documents), len(column)))
    norms = np.sqrt(np.asarray(matrix.multiply(matrix).sum(axis=1)).ravel())
    norms[norms == 0] = 1.0
    return sparse.diags(1 / norms) @ matrix


def suggest_merges(
    patterns: Sequence[PatternText],
    *,
    min_score: float = DEFAULT_MIN_SCORE,
    limit: int | None = None,
    declined: Collection[frozenset[str]] = (),
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
    if len(chosen) < 2:
        return []
    vectors = _unit_tfidf([ngrams(pattern.text) for pattern in chosen])
    # Cosines as sparse matrix products (scipy): the work is the square of each
    # n-gram's document count, which a Python loop takes minutes for at 2,000
    # patterns with long samples; only pairs sharing an n-gram are ever stored.
    if involving is None:
        cosines = sparse.triu(vectors @ vectors.T, k=1, format="coo")
        # Most pairs share some n-gram: keep the similar ones before making objects.
        similar = cosines.data >= min_score
        pairs = zip(
            cosines.row[similar].tolist(),
            cosines.col[similar].tolist(),
            cosines.data[similar].tolist(),
            strict=True,
        )
    else:
        row = next((index for index, p in enumerate(chosen) if p.pattern_id == involving), None)
        if row is None:
            return []
        cosines = (vectors[row] @ vectors.T).tocoo()
        pairs = (
            (min(row, other), max(row, other), score)
            for other, score in zip(cosines.col.tolist(), cosines.data.tolist(), strict=True)
            if other != row
        )
    suggestions = [
        # `chosen` is most frequent first: the earlier pattern is the target.
        MergeSuggestion(
            source=chosen[later].pattern_id,
            target=chosen[earlier].pattern_id,
            score=round(min(score, 1.0), 4),
        )
        for earlier, later, score in pairs
        if score >= min_score
        and frozenset((chosen[earlier].pattern_id, chosen[later].pattern_id)) not in declined
    ]
    suggestions.sort(key=lambda s: (-s.score, s.target, s.source))
    return suggestions if limit is None else suggestions[:limit]
