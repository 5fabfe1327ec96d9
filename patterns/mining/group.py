"""Grouping: token sequences become templates by similarity, not equality.

Within messages of one length, each message's most common shared tokens form an
initial group; a column then splits the group when it holds a few distinct words,
and becomes a wildcard when it holds many, or when a masked value in it covers the
others (`rhost=<*>` covers `rhost=host.example.org`). Templates that keep the same
constant words are one pattern (`group_key`) even when their token counts differ
(optional clauses, padded separators).
"""

from __future__ import annotations

import functools
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence

from patterns.mining.mask import WILDCARD
from patterns.mining.records import Template, Tokens

# A column holding more distinct words than this, within one initial group, is a variable.
DISTINCT_WORDS_FOR_VARIABLE = 4


@functools.lru_cache(maxsize=4096)
def _wildcard_pattern(value: str) -> re.Pattern:
    """What a masked column value covers; each masked part stops at the literal after
    it, so a long hostile token cannot make the match backtrack polynomially."""
    literals = value.split(WILDCARD)
    body = re.escape(literals[0]) + "".join(
        (f"[^{re.escape(literal[0])}]*" if literal else ".*") + re.escape(literal)
        for literal in literals[1:]
    )
    return re.compile(body + r"\Z", re.S)


def _masked_values_cover(values: set[str]) -> bool:
    """True when the column holds masked values matching every unmasked one."""
    masked = [value for value in values if WILDCARD in value]
    if not masked:
        return False
    return all(
        any(_wildcard_pattern(m).match(value) for m in masked)
        for value in values
        if WILDCARD not in value
    )


_KEY_PREFIX = re.compile(r"^.*[=:]")


def _common_prefix(values: Iterable[str]) -> str:
    """The characters every value starts with (the lowest and highest sort share them)."""
    values = list(values)
    first, last = min(values), max(values)
    shared = zip(first, last, strict=False)  # up to the shorter one's end
    length = next((i for i, (a, b) in enumerate(shared) if a != b), min(len(first), len(last)))
    return first[:length]


def _variable_token(values: Iterable[str]) -> str:
    """The wildcard, keeping a shared `key=`/`key:` prefix (`user=<*>`)."""
    prefix = _KEY_PREFIX.match(_common_prefix(values))
    return (prefix.group(0) if prefix else "") + WILDCARD


def templates_for(token_lists: Sequence[Tokens]) -> list[Template]:
    """A template (tokens with wildcards) for each token list, in input order."""
    # Identical token lists (frequent after masking) are grouped once, by weight.
    position: dict[Tokens, int] = {}
    distinct: list[Tokens] = []
    weights: list[int] = []
    for tokens in token_lists:
        index = position.get(tokens)
        if index is None:
            position[tokens] = len(distinct)
            distinct.append(tokens)
            weights.append(1)
        else:
            weights[index] += 1
    by_length: dict[int, list[int]] = defaultdict(list)
    for index, tokens in enumerate(distinct):
        by_length[len(tokens)].append(index)
    distinct_templates: list[Template] = [()] * len(distinct)
    for length, indexes in by_length.items():
        for group in _split_length_group(distinct, weights, length, indexes):
            columns = list(zip(*(distinct[m] for m in group), strict=True))
            template = tuple(
                column[0] if len(set(column)) == 1 else _variable_token(set(column))
                for column in columns
            )
            for member in group:
                distinct_templates[member] = template
    return [distinct_templates[position[tokens]] for tokens in token_lists]


def _split_length_group(
    token_lists: Sequence[Tokens], weights: list[int], length: int, indexes: list[int]
) -> list[list[int]]:
    # How often each word occurs at each position, over all messages of this length.
    frequency: list[Counter] = [Counter() for _ in range(length)]
    for index in indexes:
        weight = weights[index]
        for p, token in enumerate(token_lists[index]):
            frequency[p][token] += weight
    # Initial groups: a message's tokens sharing its most common frequency (ties:
    # the higher frequency) are its longest common pattern with its peers.
    initial: dict[tuple, list[int]] = defaultdict(list)
    root_frequency: dict[tuple, int] = {}
    for index in indexes:
        tokens = token_lists[index]
        frequencies = [frequency[p][token] for p, token in enumerate(tokens)]
        counts = Counter(frequencies)
        root = max(counts, key=lambda value: (counts[value], value))
        key = tuple(p for p in range(length) if frequencies[p] == root)
        key = (key, tuple(tokens[p] for p in key))
        initial[key].append(index)
        root_frequency[key] = root

    groups_out: list[list[int]] = []
    for key, members in initial.items():
        root = root_frequency[key]
        groups = [members]
        columns = list(zip(*(token_lists[m] for m in members), strict=True))
        for p, column in enumerate(columns):
            values = set(column)
            if len(values) == 1 or _masked_values_cover(values):
                continue
            # Words more frequent than the pattern's own, and the first word of a
            # message, are constants; a few rarer words split the group too.
            constant = p == 0 or all(frequency[p][value] > root for value in values)
            if constant or len(values) <= DISTINCT_WORDS_FOR_VARIABLE:
                groups = [
                    part
                    for group in groups
                    for part in _partition(group, lambda m, p=p: token_lists[m][p])
                ]
        groups_out.extend(groups)
    return groups_out


def _partition(members: list[int], key: Callable[[int], str]) -> list[list[int]]:
    parts: dict[str, list[int]] = defaultdict(list)
    for member in members:
        parts[key(member)].append(member)
    return list(parts.values())


def group_key(template: Sequence[str]) -> str:
    """Templates with the same words are one pattern, whatever their wildcards.

    Tokens without a letter (`<*>`, `(<*>)`, `#<*>`, `=====`) do not count, so
    optional values and padded separators do not split a pattern.
    """
    words = [token for token in template if has_letter(token)]
    if not words:
        return WILDCARD
    if template[-1][-1] == ":" and len(template[-1]) > 1 and has_letter(template[-1]):
        # A message ending in `Missing 2 required deliverables:` introduces a list the
        # log did not keep (a colon before a value, `failed: <*>`, labels the value).
        words[-1] = words[-1][:-1]
    return " ".join(words)


_LETTER = re.compile(r"[^\W\d_]")


@functools.lru_cache(maxsize=1 << 16)
def has_letter(token: str) -> bool:
    """A letter outside masked parts (cached: the corpus stage asks for every clause)."""
    return bool(_LETTER.search(token.replace(WILDCARD, "")))
