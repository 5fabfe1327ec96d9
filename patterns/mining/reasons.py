"""Reasons: what went wrong, without who reported it.

Per message (`failure_reason`): tags, pytest node ids, `file.py:N:` prefixes,
exception class names and assertion details go. Across the corpus
(`reasons_for`): a reason reported under several wrapper heads (`Failed to fetch
run status: <reason>`) is keyed on the reason, and free-text tails
(`Rationale: …`) are cut.
"""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from collections.abc import Sequence
from typing import NamedTuple

from patterns.mining.group import group_key, has_letter
from patterns.mining.logline import strip_log_record
from patterns.mining.mask import WILDCARD, tokenize
from patterns.mining.records import Tokens

# --- reasons ------------------------------------------------------------------
# One cause reaches the logs through many reporters: `[Recovery] Fetch run status
# failed (attempt 1/4): HTTPError: 500 …`, `Failed to fetch run status: 500 …`. The
# reason stage keeps what went wrong and drops who reported it, first per message
# (tags, pytest node ids, file:line prefixes, exception class names, assertion
# details), then across the corpus (wrapper heads, free-text tails).

_LEADING_TAGS = re.compile(r"^(?:\[[^\]\s][^\]]{0,60}\]:?\s+|[^\w\s\[('\"{<.\\/-]+\s+)+")
_PYTEST_NODE = re.compile(r"^FAILED \S+::\S+ - ")
_FILE_LINE = re.compile(r"^(?:[A-Za-z]:)?[^\s:]+\.\w{1,5}:\d+: ")
_EXCEPTION_CLASS = re.compile(
    r"^(?:[A-Za-z_][\w.]*(?:Error|Exception|Timeout|Exit)\w*: "
    r"|\([A-Za-z_][\w.]*(?:Error|Exception)\) )"
)
# A pytest session summary says how many tests failed; the other counts (passed,
# skipped, warnings, which vary by run) are not the failure.
# (Counts and the duration may be masked already: `<*> failed, … in <*>`.)
_COUNT = r"(?:\d+|<\*>)"
_PYTEST_SUMMARY = re.compile(
    rf"(?P<failed>{_COUNT} (?:failed|errors?),?)(?: {_COUNT} \w+,?)* in "
    r"(?:\d+(?:\.\d+)?s\b|<\*>)"
)
# A reason needs this many words, not all of them labels of values.
REASON_MIN_WORDS = 2
# A free-text tail (`Rationale: …`) is cut after a prefix that at least this many
# messages share with many different tails (at least the square root of their
# count: free text repeats a little at scale, a few sub-causes do not grow) of at
# least TAIL_MIN_WORDS words.
TAIL_MIN_MESSAGES = 3
TAIL_MIN_WORDS = 3
PROSE_MIN_WORDS = 10
MAX_CLAUSES = 8


def failure_reason(headline: str) -> str:
    """The headline without its reporter's decorations (per message, no corpus):
    the log record's prefix, tags and markers, a pytest node id, a `file:line:`
    and exception classes, in any order and however many."""
    text = headline
    for _ in range(MAX_DECORATION_ROUNDS if _may_be_decorated(text) else 0):
        stripped = _without_decorations(text)
        if stripped == text:
            break
        text = stripped
    if (text[:1].isdigit() or text.startswith(WILDCARD)) and (
        summary := _PYTEST_SUMMARY.match(text)
    ):
        text = summary.group("failed")
    if text.startswith("assert "):
        # What a failing assert compared is test data, not the failure.
        text = f"assert {WILDCARD}"
    return _without_cut_off_aside(text)


# Decorations nest (`❌ ERROR [CI] ERROR: X`); each round takes one layer of each.
MAX_DECORATION_ROUNDS = 4


def _without_decorations(text: str) -> str:
    # Cheap first-character and substring tests skip the scans for most messages.
    text = strip_log_record(text)
    if text[:1] and not text[0].isalnum() and (tags := _LEADING_TAGS.match(text)):
        text = text[tags.end() :] or text
    if text.startswith("FAILED ") and (node := _PYTEST_NODE.match(text)):
        text = text[node.end() :] or text
    if ": " in text or text[:1] == "(":
        if (where := _FILE_LINE.match(text)) and text[where.end() :]:
            text = text[where.end() :]
        while (exception := _EXCEPTION_CLASS.match(text)) and text[exception.end() :].strip():
            text = text[exception.end() :]
    return text


def _without_cut_off_aside(text: str) -> str:
    """A message the log cut off inside a bracketed aside (`error: a.py (('C:\\…', 5,
    'Skipped: Research hooks tests temporarily`) keeps what comes before the aside:
    logs cut at different lengths, and the cut tail would split one failure."""
    openers = text.count("(") + text.count("[") + text.count("{")
    if not openers or openers <= text.count(")") + text.count("]") + text.count("}"):
        return text
    unclosed: list[int] = []
    for index, character in enumerate(text):
        if character in "([{":
            unclosed.append(index)
        elif character in ")]}" and unclosed:
            unclosed.pop()
    aside = next((index for index in unclosed if index and text[index - 1] == " "), None)
    if aside is None or len(text[:aside].split()) < REASON_MIN_WORDS:
        return text
    return text[:aside].rstrip()


def unwrapped_reasons(reasons: Sequence[str]) -> list[Tokens]:
    """Per reason (a `failure_reason`), its tokens without the heads it was reported
    under, where what follows them is another reason of the corpus in full (`Builder
    failed: <reason>`, `Retry 2/5 also failed: Execution failed: <reason>`): a reason
    seen bare and under any wrapper is one reason, even when each wrapper occurs
    once. What follows a head loses its own decorations first (`Builder failed:
    [ModelRouter] …`, `Execution failed: sqlite3.OperationalError: …`)."""
    masked = {reason: tokenize(reason) for reason in dict.fromkeys(reasons)}
    whole = set(masked.values())  # token lists compared as they are: cheap, and exact
    unwrapped = dict(masked)
    for reason, tokens in masked.items():
        if ": " not in reason:
            continue
        starts = _raw_clause_starts(reason)
        # Masking keeps whitespace tokens as they are (nearly always): an undecorated
        # clause's tokens are then the last of the reason's own, no need to mask again.
        aligned = bool(starts) and len(tokens) == len(reason.split())
        for start in starts:
            raw = reason[start:]
            if aligned and not _may_be_decorated(raw):
                suffix = tokens[len(tokens) - len(raw.split()) :]
            else:
                suffix = tokenize(failure_reason(raw))
            if suffix in whole and any(map(has_letter, suffix)):
                unwrapped[reason] = suffix
                break
    return [unwrapped[reason] for reason in reasons]


# What may begin a decoration `failure_reason` takes off: a cheap test before the
# rounds (a property test holds it to `_without_decorations`).
_MAY_BE_DECORATED = re.compile(
    r"[^\w\s]|\d{4}[-/]\d{2}[-/]\d{2}|\d{1,2}:\d{2}|\d+ (?:failed|errors?)\b"
    r"|(?:Trace|Debug|Info|Notice|Warn|Warning|Err|Critical|Crit|Fatal|Severe|Alert|Emerg):"
    r"|(?:TRACE|DEBUG|INFO|NOTICE|WARN|WARNING|ERROR|ERR|CRITICAL|CRIT|FATAL|SEVERE)\b"
    r"|(?:FAILED|E|assert) |(?:level|lvl|severity)="
    r"|(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) "
    r"|[\w.]*(?:Error|Exception|Timeout|Exit)\w*: |\S+\.\w{1,5}:\d+: |[a-z_][\w]*\.[\w.]+: "
    r"|[\w.]+ - (?:TRACE|DEBUG|INFO|NOTICE|WARN|WARNING|ERROR|CRITICAL|FATAL) - "
)


def _may_be_decorated(text: str) -> bool:
    """A cheap test: `text` could begin with a decoration (`[tag]`, `❌`, a time,
    `HTTPError:`, `ERROR`, syslog's month), so it is worth a `failure_reason` pass."""
    return bool(_MAY_BE_DECORATED.match(text))


_CLAUSE_END = re.compile(r": (?=\S)")


def _raw_clause_starts(text: str) -> list[int]:
    """Where clauses after the first begin in raw text: after `: ` outside brackets
    (the first MAX_CLAUSES)."""
    starts: list[int] = []
    if ": " not in text:
        return starts
    if "(" not in text and "[" not in text and "{" not in text:
        return [match.end() for match in _CLAUSE_END.finditer(text)][:MAX_CLAUSES]
    depth, position = 0, 0
    for match in _CLAUSE_END.finditer(text):
        segment = text[position : match.start()]
        depth = max(0, depth + sum(map(segment.count, "([{")) - sum(map(segment.count, ")]}")))
        position = match.start()
        if depth == 0:
            starts.append(match.end())
            if len(starts) == MAX_CLAUSES:
                break
    return starts


def _clause_starts(tokens: tuple[str, ...]) -> list[int]:
    """Where clauses after the first begin: after a `word:` outside brackets (the
    first MAX_CLAUSES of them: heads come first, and it keeps the corpus stage linear)."""
    if not any(token[-1] == ":" for token in tokens[:-1]):
        return []
    starts, depth = [], 0
    for index, token in enumerate(tokens[:-1]):
        if _BRACKETS.search(token):
            depth = max(0, depth + sum(map(token.count, "([{")) - sum(map(token.count, ")]}")))
        if depth == 0 and token[-1] == ":":
            starts.append(index + 1)
            if len(starts) == MAX_CLAUSES:
                break
    return starts


_BRACKETS = re.compile(r"[][(){}]")


def _plain_words(tokens: Sequence[str]) -> int:
    """Words that say something: not `key=value`, not a label of a value (`key:`,
    `line <*>`, `(char <*>)`)."""
    count = 0
    for index, token in enumerate(tokens):
        if "=" in token or token[-1] == ":" or not has_letter(token):
            continue
        following = tokens[index + 1] if index + 1 < len(tokens) else ""
        if not (following.startswith(WILDCARD) and not has_letter(following)):
            count += 1
    return count


def _says_something(tokens: Sequence[str]) -> bool:
    """Enough words to be a reason, not only labels (`len: <*> time: <*>`)."""
    return _plain_words(tokens) >= 1 and len(group_key(tokens).split()) >= REASON_MIN_WORDS


# A clause that only says where or what type (`temp_patch.diff:6:`, `HTTPError:`)
# never starts a reason; `failure_reason` drops the same at a message's start.
_DECORATION = re.compile(
    r"(?:[^\s:]+\.\w{1,5}:(?:<\*>|\d+)|[A-Za-z_][\w.]*(?:Error|Exception|Timeout|Exit)\w*):\Z"
)


class _Kept(NamedTuple):
    """A message's tokens after any free-text tail is cut, with their clause starts."""

    tokens: Tokens
    clause_starts: list[int]


def reasons_for(token_lists: Sequence[Tokens]) -> list[Tokens]:
    """Per token list, the clauses that say what went wrong, judged across the corpus.

    First a message loses a tail after a prefix that many messages continue each in
    their own words (`Rationale: …`, code after a hunk header); then it keeps its
    longest suffix of clauses that other messages report under a different head
    (`Failed to fetch run status: <reason>`, `Error message: <reason>`).
    """
    weight = Counter(token_lists)
    starts = {tokens: _clause_starts(tokens) for tokens in weight}
    cut = _cut_free_text_tails(starts, weight, _wrappers(starts, _heads_by_reason(starts)))
    cut_starts = dict(cut.values())
    heads = _heads_by_reason(cut_starts)
    reason: dict[Tokens, Tokens] = {}
    for kept, clause_starts in cut_starts.items():
        reason[kept] = kept
        if len(heads[group_key(kept)]) >= 2 and _says_something(kept):
            continue
        for start in clause_starts:
            suffix = kept[start:]
            if (
                not _DECORATION.match(suffix[0])
                and len(heads[group_key(suffix)]) >= 2
                and _says_something(suffix)
            ):
                reason[kept] = suffix
                break
    return [reason[cut[tokens].tokens] for tokens in token_lists]


def _heads_by_reason(starts: dict[Tokens, list[int]]) -> dict[str, set[str]]:
    """Each clause suffix's key, with the keys of the heads it was reported under."""
    heads: dict[str, set[str]] = defaultdict(set)
    for tokens, clause_starts in starts.items():
        heads[group_key(tokens)].add("")
        for start in clause_starts:
            heads[group_key(tokens[start:])].add(group_key(tokens[:start]))
    return heads


def _wrappers(starts: dict[Tokens, list[int]], heads: dict[str, set[str]]) -> set[str]:
    """Heads reporting some reason also found under other heads (`Builder failed:
    <reason>`): what follows them is a reason, never a tail to cut."""
    return {
        group_key(tokens[:start])
        for tokens, clause_starts in starts.items()
        for start in clause_starts
        if len(heads[group_key(tokens[start:])]) >= 2 and _says_something(tokens[start:])
    }


def _cut_free_text_tails(
    starts: dict[Tokens, list[int]], weight: Counter, wrappers: set[str]
) -> dict[Tokens, _Kept]:
    """Per token list: itself, or its prefix before a free-text tail; with its clause starts.

    Free text differs in wording and in length; a tail that only varies in a value
    (`modify .git/config`, `modify .autonomous_runs/lock`) is not free text.
    """
    tails: dict[str, Counter] = defaultdict(Counter)
    tail_lengths: dict[str, set[int]] = defaultdict(set)
    shortest_tail: dict[str, int] = {}  # in plain words
    for tokens, clause_starts in starts.items():
        for start in clause_starts:
            prefix = group_key(tokens[:start])
            tails[prefix][group_key(tokens[start:])] += weight[tokens]
            tail_lengths[prefix].add(len(tokens) - start)
            words = _plain_words(tokens[start:])
            shortest_tail[prefix] = min(words, shortest_tail.get(prefix, words))
    totals = {prefix: sum(continuations.values()) for prefix, continuations in tails.items()}
    cut: dict[Tokens, _Kept] = {}
    for tokens, clause_starts in starts.items():
        cut[tokens] = _Kept(tokens, clause_starts)
        # The first cut wins: a colon inside free text is part of the free text.
        for index, start in enumerate(clause_starts):
            prefix = group_key(tokens[:start])
            continuations = tails[prefix]
            count = totals[prefix]
            # Tails that are all sentences are prose however often each repeats (one
            # failure logged several ways repeats its prose as often).
            needed = (
                TAIL_MIN_MESSAGES
                if shortest_tail[prefix] >= PROSE_MIN_WORDS
                else max(TAIL_MIN_MESSAGES, math.sqrt(count))
            )
            if (
                prefix not in wrappers
                and count >= TAIL_MIN_MESSAGES
                and len(continuations) >= needed
                and len(tail_lengths[prefix]) >= TAIL_MIN_MESSAGES
                and _says_something(tokens[:start])
                and _plain_words(tokens[start:]) >= TAIL_MIN_WORDS
            ):
                cut[tokens] = _Kept(tokens[:start], clause_starts[:index])
                break
    return cut
