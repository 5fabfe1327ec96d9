"""Mine failure messages into patterns. Pure Python: no Django, no database.

The pipeline, per message:
1. `failure_text`: reduce a multi-line message (traceback, pytest output) to what
   identifies the failure: the final exception line plus the innermost frames'
   file and function, never line numbers (as Sentry groups errors).
2. `tokenize`: mask variable parts as whole tokens: anything holding a digit
   (numbers, hex, UUIDs, hashes, IPs, ids such as `build130-phase0-…`), paths,
   URLs, quoted values, dates and durations with their units.
3. `templates_for`: group token sequences by similarity, not equality. Within
   messages of one length, each message's most common shared tokens form an
   initial group; a column then splits the group when it holds a few distinct
   words, and becomes a wildcard when it holds many, or when a masked value in it
   covers the others (`rhost=<*>` covers `rhost=host.example.org`). Templates that
   keep the same constant words are one pattern even when their token counts
   differ (optional clauses, padded separators).
4. `cluster`: one pattern key per message. (Patterns with ids, regexes, kinds
   and samples build on these keys; see issue #6.)
"""

from __future__ import annotations

import os
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence

WILDCARD = "<*>"
# A column holding more distinct words than this, within one initial group, is a variable.
DISTINCT_WORDS_FOR_VARIABLE = 4

# Characters that end a maskable chunk inside a whitespace token: `key=<*>`,
# `(<*>)`, `host:<*>` keep their structure and their constant part.
_BREAKS = r"\s:=,;()\[\]{}\"'<>"
# A chunk holding a digit is a value (numbers, hex, UUIDs, hashes, IPs, Autopack
# ids), except a name with one trailing digit, which is a word (SOCKS5, IPv4, sha1).
_CHUNK_WITH_DIGIT = re.compile(
    rf"(?<![^{_BREAKS}])(?![A-Za-z][A-Za-z_]*\d(?![^{_BREAKS}]))(?=[^{_BREAKS}]*\d)[^{_BREAKS}]+"
)
# Values without digits, each masked whole (spaces included) before the digit rule.
# The cheap substring tests in `tokenize` skip these scans for most messages.
_URL = re.compile(r"[a-z][a-z0-9+.-]*://[^\s'\"<>]+")
# Paths: Windows drive paths, and POSIX or relative paths with two separators
# or one separator and a file extension (`src/a.py`, not `and/or`).
_PATH = re.compile(
    r"(?<![\w.$~\\/-])(?:"
    r"[A-Za-z]:[\\/][^\s'\"]*"
    r"|[\w.$~-]*(?:[\\/][\w.$~-]+){2,}[\\/]?"
    r"|[\w.$~-]+[\\/][\w$~-]+\.[A-Za-z]\w{0,5}\b)"
)
_QUOTED = re.compile(r"'[^'\s]{1,200}'|\"[^\"\s]{1,200}\"")
# After the digit rule: a unit belongs to its value (`<*> KB`, `<*> ms`), and a
# weekday or month name before a masked day is part of a date. Both patterns
# start with literals, which the regex engine scans for quickly.
_UNIT_AFTER_VALUE = re.compile(
    r"<\*> ?(?:[KMGT]i?B|B|ms|us|ns|s|sec|secs|seconds|mins?|minutes|h|hours)(?![\w.])"
)
_DATE_NAME = re.compile(
    r"(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun|Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)"
    r"(?<![A-Za-z]...)(?= +<\*>)"
)


def tokenize(text: str) -> tuple[str, ...]:
    """Whitespace tokens with every variable part replaced by the wildcard."""
    if "://" in text:
        text = _URL.sub(WILDCARD, text)
    if "/" in text or "\\" in text:
        text = _PATH.sub(WILDCARD, text)
    if "'" in text or '"' in text:
        text = _QUOTED.sub(WILDCARD, text)
    text = _CHUNK_WITH_DIGIT.sub(WILDCARD, text)
    text = _UNIT_AFTER_VALUE.sub(WILDCARD, text)
    text = _DATE_NAME.sub(WILDCARD, text)
    return tuple(text.split())


# --- multi-line reduction ---------------------------------------------------

_FRAME = re.compile(r'^\s*File "(?P<file>[^"]+)", line \d+, in (?P<function>\S+)')
_EXCEPTION_LINE = re.compile(r"^(?:E\s+)?(?P<exc>[A-Za-z_][\w.]*(?:Error|Exception|Exit|Interrupt|Warning)\b.*)$")
_PYTEST_E_LINE = re.compile(r"^E\s{2,}(?P<line>\S.*)$")
_ERRORISH = re.compile(r"error|fail|exception|denied|refused|timed? ?out|violation", re.I)
FRAMES_KEPT = 2


def failure_text(message: str) -> str:
    """One line that identifies the failure; single-line messages pass through."""
    if "\n" not in message:
        return message.strip()
    lines = [line.rstrip() for line in message.replace("\r\n", "\n").split("\n")]
    lines = [line for line in lines if line.strip()]
    if len(lines) <= 1:
        return lines[0].strip() if lines else ""
    frames = [match for match in map(_FRAME.match, lines) if match]
    exception = next((m.group("exc") for m in map(_EXCEPTION_LINE.match, reversed(lines)) if m), None)
    if exception is None:
        exception = next((m.group("line") for m in map(_PYTEST_E_LINE.match, reversed(lines)) if m),
                         None)
    if exception is not None:
        innermost = [
            f"{_basename(frame.group('file'))}:{frame.group('function')}"
            for frame in frames[-FRAMES_KEPT:]
        ]
        return " ".join([exception.strip(), *(f"at {where}" for where in innermost)])
    return next((line.strip() for line in lines if _ERRORISH.search(line)), lines[0].strip())


def _basename(path: str) -> str:
    return re.split(r"[\\/]", path)[-1]


# --- grouping -----------------------------------------------------------------

_wildcard_patterns: dict[str, re.Pattern] = {}


def _wildcard_pattern(value: str) -> re.Pattern:
    pattern = _wildcard_patterns.get(value)
    if pattern is None:
        parts = map(re.escape, value.split(WILDCARD))
        pattern = _wildcard_patterns[value] = re.compile(".*".join(parts) + r"\Z", re.S)
    return pattern


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


def _variable_token(values: Iterable[str]) -> str:
    """The wildcard, keeping a shared `key=`/`key:` prefix (`user=<*>`)."""
    prefix = _KEY_PREFIX.match(os.path.commonprefix(list(values)))
    return (prefix.group(0) if prefix else "") + WILDCARD


def templates_for(token_lists: Sequence[tuple[str, ...]]) -> list[tuple[str, ...]]:
    """A template (tokens with wildcards) for each token list, in input order."""
    # Identical token lists (frequent after masking) are grouped once, by weight.
    position: dict[tuple[str, ...], int] = {}
    distinct: list[tuple[str, ...]] = []
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
    distinct_templates: list[tuple[str, ...]] = [()] * len(distinct)
    for length, indexes in by_length.items():
        for group in _split_length_group(distinct, weights, length, indexes):
            columns = list(zip(*(distinct[m] for m in group)))
            template = tuple(
                column[0] if len(set(column)) == 1 else _variable_token(set(column))
                for column in columns
            )
            for member in group:
                distinct_templates[member] = template
    return [distinct_templates[position[tokens]] for tokens in token_lists]


def _split_length_group(
    token_lists: Sequence[tuple[str, ...]], weights: list[int], length: int, indexes: list[int]
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
        columns = list(zip(*(token_lists[m] for m in members)))
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


def _partition(members: list[int], key) -> list[list[int]]:
    parts: dict[str, list[int]] = defaultdict(list)
    for member in members:
        parts[key(member)].append(member)
    return list(parts.values())


def group_key(template: tuple[str, ...]) -> str:
    """Templates with the same words are one pattern, whatever their wildcards.

    Tokens without a letter (`<*>`, `(<*>)`, `#<*>`, `=====`) do not count, so
    optional values and padded separators do not split a pattern.
    """
    words = [token for token in template if _LETTER.search(token.replace(WILDCARD, ""))]
    return " ".join(words) if words else WILDCARD


_LETTER = re.compile(r"[^\W\d_]")


def cluster(texts: Sequence[str]) -> list[str]:
    """A pattern key per message (single-line texts as given): the benchmarked core."""
    templates = templates_for([tokenize(failure_text(text)) for text in texts])
    keys: dict[tuple[str, ...], str] = {}
    for template in templates:
        if template not in keys:
            keys[template] = group_key(template)
    return [keys[template] for template in templates]
