"""Mine failure messages into patterns. Pure Python: no Django, no database.

The pipeline, per message:
1. `failure_parts`: reduce a multi-line message (traceback, pytest output) to what
   identifies the failure: the final exception line plus the innermost frames'
   file and function, never line numbers (as Sentry groups errors).
2. `failure_reason`: drop the reporter's decorations (tags, pytest node ids,
   `file.py:N:` prefixes, exception class names, assertion details).
   `tokenize`: mask variable parts as whole tokens: anything holding a digit
   (numbers, hex, UUIDs, hashes, IPs, ids such as `build130-phase0-…`), paths,
   quoted values other than identifiers, dates and durations with their units;
   URLs keep the shape of their path (`<url>/runs/<seg>/builder_result`).
   `reasons_for`: across the corpus, key on the reason after a wrapper head
   (`Failed to fetch run status: <reason>`) and cut free-text tails (`Rationale: …`).
3. `templates_for`: group token sequences by similarity, not equality. Within
   messages of one length, each message's most common shared tokens form an
   initial group; a column then splits the group when it holds a few distinct
   words, and becomes a wildcard when it holds many, or when a masked value in it
   covers the others (`rhost=<*>` covers `rhost=host.example.org`). Templates that
   keep the same constant words are one pattern even when their token counts
   differ (optional clauses, padded separators).
4. `cluster`: one pattern key per message (the benchmarked core).
5. `mine`: patterns with stable ids, regexes, kinds, keywords, counts and samples.
   Messages a known (stored) pattern's regex finds keep its id, so a pattern keeps
   its id when later data widens its template.
"""

from __future__ import annotations

import functools
import hashlib
import math
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime

WILDCARD = "<*>"
# A column holding more distinct words than this, within one initial group, is a variable.
DISTINCT_WORDS_FOR_VARIABLE = 4

# Characters that end a maskable chunk inside a whitespace token: `key=<*>`,
# `(<*>)`, `host:<*>` keep their structure and their constant part.
_BREAKS = r"\s:=,;()\[\]{}\"'<>"
# A chunk holding a digit is a value (numbers, hex, UUIDs, hashes, IPs, Autopack
# ids), except a name with one trailing digit, which is a word (SOCKS5, IPv4, sha1).
# (The digit test comes first: it rejects most chunk starts soonest.)
_CHUNK_WITH_DIGIT = re.compile(
    rf"(?<![^{_BREAKS}])(?=[^{_BREAKS}]*\d)(?![A-Za-z][A-Za-z_]*\d(?![^{_BREAKS}]))[^{_BREAKS}]+"
)
# Values without digits, each masked whole (spaces included) before the digit rule.
# The cheap substring tests in `tokenize` skip these scans for most messages.
# A URL keeps the shape of its path: its letters-only segments (`/runs/…/builder_result`)
# tell endpoints apart, the rest (scheme, host, ids) is masked.
# Trailing punctuation (`…/p11:`, `…/runs/x).`) is the sentence's, not the URL's.
_URL_HEAD = r"[a-z][a-z0-9+.-]*://[^/\s'\"<>]+"  # scheme and host
# (`+?`: the host ends where the path, or the sentence, begins.)
_URL = re.compile(_URL_HEAD + r"?(/[^\s'\"<>?#]*?)?([?#][^\s'\"<>]*?)?(?=[:,.;)]*(?:[\s'\"<>]|$))")
_URL_SEGMENT = re.compile(r"[a-z_]+")
URL_MARKER = "<url>"
SEGMENT_MARKER = "<seg>"
# A Python object repr (`<Category at 0x171f8473890>`) is one value, spaces and all.
_OBJECT_REPR = r"<[A-Za-z_][\w.]*(?: [\w.]+)*? at 0x[0-9A-Fa-f]+>"
_OBJECT = re.compile(_OBJECT_REPR)
OBJECT_MARKER = "<obj>"
# A diff hunk header and the code context git prints after it (`@@ -1,5 +1,6 @@ class
# Doctor:`) are one value: the code is the patch's, not the failure's.
_HUNK_REGEX = r"@@ -\d+(?:,\d+)? \+\d+(?:,\d+)? @@.*"
_HUNK = re.compile(_HUNK_REGEX)
HUNK_MARKER = "<hunk>"
# Paths: Windows drive paths, and POSIX or relative paths with two separators
# or one separator and a file extension (`src/a.py`, not `and/or`).
_PATH = re.compile(
    r"(?<![\w.$~\\/>-])(?:"
    r"[A-Za-z]:[\\/][^\s'\"]*"
    r"|[\w.$~-]*(?:[\\/][\w.$~-]+){2,}[\\/]?"
    r"|[\w.$~-]+[\\/][\w$~-]+\.[A-Za-z]\w{0,5}\b)"
)
# A bare file name is a path too (`Skipping package.json - …`); only common file
# types count, so dotted names (`os.path`, `self.config`) stay words.
_FILE_TYPE = (
    r"\.(?:py|pyi|json|ya?ml|toml|ini|cfg|conf|md|rst|txt|csv|css|s?html?|jsx?|tsx?"
    r"|lock|sh|ps1|bat|diff|patch|log|sql|xml)(?![\w.$~\\/-])"
)
_HAS_FILE_TYPE = re.compile(_FILE_TYPE)  # starts with a literal: a fast scan
_FILE_NAME = re.compile(r"(?<![\w.$~\\/<>-])[\w$~-]+" + _FILE_TYPE)
# Quoted values are masked, except identifiers: `name 'files' is not defined` and
# `name 'models' is not defined` are different bugs.
_QUOTED = re.compile(r"'(?![A-Za-z_][\w.]*')[^'\s]{1,200}'|\"(?![A-Za-z_][\w.]*\")[^\"\s]{1,200}\"")
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


_DIGIT = re.compile(r"\d")


def _url_shape(match: re.Match) -> str:
    segments = (match.group(1) or "").split("/")[1:]
    path = "".join(
        "/" + (segment if _URL_SEGMENT.fullmatch(segment) else SEGMENT_MARKER)
        for segment in segments
    )
    query = match.group(2)[0] + SEGMENT_MARKER if match.group(2) else ""
    return URL_MARKER + path + query


def tokenize(text: str) -> tuple[str, ...]:
    """Whitespace tokens with every variable part replaced by the wildcard."""
    if "://" in text:
        text = _URL.sub(_url_shape, text)
    if "/" in text or "\\" in text:
        text = _PATH.sub(WILDCARD, text)
    if _HAS_FILE_TYPE.search(text):
        text = _FILE_NAME.sub(WILDCARD, text)
    if "'" in text or '"' in text:
        text = _QUOTED.sub(WILDCARD, text)
    if "@@ -" in text:
        text = _HUNK.sub(HUNK_MARKER, text)
    if " at 0x" in text:
        text = _OBJECT.sub(OBJECT_MARKER, text)
    if _DIGIT.search(text):
        text = _CHUNK_WITH_DIGIT.sub(WILDCARD, text)
    if WILDCARD in text:
        text = _UNIT_AFTER_VALUE.sub(WILDCARD, text)
        text = _DATE_NAME.sub(WILDCARD, text)
    return tuple(text.split())


# --- multi-line reduction ---------------------------------------------------

_FRAME = re.compile(r'^\s*File "(?P<file>[^"]+)", line \d+, in (?P<function>\S+)')
_EXCEPTION_LINE = re.compile(
    r"^(?:E\s+)?(?P<exc>[A-Za-z_][\w.]*(?:Error|Exception|Exit|Interrupt|Warning)\b.*)$"
)
_PYTEST_E_LINE = re.compile(r"^E\s{2,}(?P<line>\S.*)$")
_ERRORISH = re.compile(r"error|fail|exception|denied|refused|timed? ?out|violation", re.I)
FRAMES_KEPT = 2
HEADLINE_MAX_CHARS = 2000


def failure_parts(message: str) -> tuple[str, list[str]]:
    """The line that identifies the failure, and its innermost frames (`file.py:function`).

    The headline is text of the message itself, so a regex built from it finds the
    message again; the frames only sharpen grouping. A very long headline keeps its
    first HEADLINE_MAX_CHARS characters (up to a space): what identifies a failure
    comes first, and it bounds the work any one message can cause.
    """
    headline, frames = _failure_parts(message)
    if len(headline) > HEADLINE_MAX_CHARS:
        cut = headline.rfind(" ", 0, HEADLINE_MAX_CHARS + 1)
        headline = headline[: cut if cut > 0 else HEADLINE_MAX_CHARS].rstrip()
    return headline, frames


def _failure_parts(message: str) -> tuple[str, list[str]]:
    if "\n" not in message:
        return message.strip(), []
    lines = [line.rstrip() for line in message.replace("\r\n", "\n").split("\n")]
    lines = [line for line in lines if line.strip()]
    if len(lines) <= 1:
        return (lines[0].strip() if lines else ""), []
    exception = next(
        (m.group("exc") for m in map(_EXCEPTION_LINE.match, reversed(lines)) if m), None
    )
    if exception is None:
        exception = next(
            (m.group("line") for m in map(_PYTEST_E_LINE.match, reversed(lines)) if m), None
        )
    if exception is not None:
        frames = [match for match in map(_FRAME.match, lines) if match]
        innermost = [
            f"{_basename(frame.group('file'))}:{frame.group('function')}"
            for frame in frames[-FRAMES_KEPT:]
        ]
        return exception.strip(), innermost
    return next((line.strip() for line in lines if _ERRORISH.search(line)), lines[0].strip()), []


def _basename(path: str) -> str:
    return re.split(r"[\\/]", path)[-1]


# --- grouping -----------------------------------------------------------------


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
            columns = list(zip(*(distinct[m] for m in group), strict=True))
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
    words = [token for token in template if _has_letter(token)]
    if not words:
        return WILDCARD
    if template[-1][-1] == ":" and len(template[-1]) > 1 and _has_letter(template[-1]):
        # A message ending in `Missing 2 required deliverables:` introduces a list the
        # log did not keep (a colon before a value, `failed: <*>`, labels the value).
        words[-1] = words[-1][:-1]
    return " ".join(words)


_LETTER = re.compile(r"[^\W\d_]")


@functools.lru_cache(maxsize=1 << 16)
def _has_letter(token: str) -> bool:
    """A letter outside masked parts (cached: the corpus stage asks for every clause)."""
    return bool(_LETTER.search(token.replace(WILDCARD, "")))


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
_PYTEST_SUMMARY = re.compile(
    r"(?P<failed>\d+ (?:failed|errors?),?)(?: \d+ \w+,?)* in \d+(?:\.\d+)?s\b"
)
# A reason needs this many words, not all of them labels of values.
REASON_MIN_WORDS = 2
# A free-text tail (`Rationale: …`) is cut after a prefix that at least this many
# messages share with many different tails (at least the square root of their
# count: free text repeats a little at scale, a few sub-causes do not grow) of at
# least TAIL_MIN_WORDS words.
TAIL_MIN_MESSAGES = 3
TAIL_MIN_WORDS = 3
MAX_CLAUSES = 8


def failure_reason(headline: str) -> str:
    """The headline without its reporter's decorations (per message, no corpus)."""
    # Cheap first-character and substring tests skip the scans for most messages.
    text = headline
    if text[:1] and not text[0].isalnum() and (tags := _LEADING_TAGS.match(text)):
        text = text[tags.end() :] or text
    if text.startswith("FAILED ") and (node := _PYTEST_NODE.match(text)):
        text = text[node.end() :] or text
    if ": " in text:
        if (where := _FILE_LINE.match(text)) and text[where.end() :]:
            text = text[where.end() :]
        while (exception := _EXCEPTION_CLASS.match(text)) and text[exception.end() :].strip():
            text = text[exception.end() :]
    if text[:1].isdigit() and (summary := _PYTEST_SUMMARY.match(text)):
        text = summary.group("failed")
    if text.startswith("assert "):
        # What a failing assert compared is test data, not the failure.
        text = f"assert {WILDCARD}"
    return _without_cut_off_aside(text)


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
        if "=" in token or token[-1] == ":" or not _has_letter(token):
            continue
        following = tokens[index + 1] if index + 1 < len(tokens) else ""
        if not (following.startswith(WILDCARD) and not _has_letter(following)):
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

TokenList = tuple[str, ...]


def reasons_for(token_lists: Sequence[TokenList]) -> list[TokenList]:
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
    reason: dict[TokenList, TokenList] = {}
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
    return [reason[cut[tokens][0]] for tokens in token_lists]


def _heads_by_reason(starts: dict[TokenList, list[int]]) -> dict[str, set[str]]:
    """Each clause suffix's key, with the keys of the heads it was reported under."""
    heads: dict[str, set[str]] = defaultdict(set)
    for tokens, clause_starts in starts.items():
        heads[group_key(tokens)].add("")
        for start in clause_starts:
            heads[group_key(tokens[start:])].add(group_key(tokens[:start]))
    return heads


def _wrappers(starts: dict[TokenList, list[int]], heads: dict[str, set[str]]) -> set[str]:
    """Heads reporting some reason also found under other heads (`Builder failed:
    <reason>`): what follows them is a reason, never a tail to cut."""
    return {
        group_key(tokens[:start])
        for tokens, clause_starts in starts.items()
        for start in clause_starts
        if len(heads[group_key(tokens[start:])]) >= 2 and _says_something(tokens[start:])
    }


def _cut_free_text_tails(
    starts: dict[TokenList, list[int]], weight: Counter, wrappers: set[str]
) -> dict[TokenList, tuple[TokenList, list[int]]]:
    """Per token list: itself, or its prefix before a free-text tail; with its clause starts.

    Free text differs in wording and in length; a tail that only varies in a value
    (`modify .git/config`, `modify .autonomous_runs/lock`) is not free text.
    """
    tails: dict[str, Counter] = defaultdict(Counter)
    tail_lengths: dict[str, set[int]] = defaultdict(set)
    for tokens, clause_starts in starts.items():
        for start in clause_starts:
            prefix = group_key(tokens[:start])
            tails[prefix][group_key(tokens[start:])] += weight[tokens]
            tail_lengths[prefix].add(len(tokens) - start)
    totals = {prefix: sum(continuations.values()) for prefix, continuations in tails.items()}
    cut: dict[TokenList, tuple[TokenList, list[int]]] = {}
    for tokens, clause_starts in starts.items():
        cut[tokens] = (tokens, clause_starts)
        # The first cut wins: a colon inside free text is part of the free text.
        for index, start in enumerate(clause_starts):
            prefix = group_key(tokens[:start])
            continuations = tails[prefix]
            count = totals[prefix]
            if (
                prefix not in wrappers
                and count >= TAIL_MIN_MESSAGES
                and len(continuations) >= max(TAIL_MIN_MESSAGES, math.sqrt(count))
                and len(tail_lengths[prefix]) >= TAIL_MIN_MESSAGES
                and _says_something(tokens[:start])
                and _plain_words(tokens[start:]) >= TAIL_MIN_WORDS
            ):
                cut[tokens] = (tokens[:start], clause_starts[:index])
                break
    return cut


def message_tokens(texts: Sequence[str]) -> list[tuple[tuple[str, ...], int, str]]:
    """Per message: grouping tokens (reason, then frames), the reason's token count,
    and the headline the reason comes from."""
    # Logs repeat messages verbatim (half of loghub's): each distinct text is reduced
    # and masked once. The corpus stage still sees every message, for its counts.
    distinct = {text: failure_parts(text) for text in texts}
    masked = {text: tokenize(failure_reason(headline)) for text, (headline, _) in distinct.items()}
    parts = [distinct[text] for text in texts]
    reasons = reasons_for([masked[text] for text in texts])
    return [
        (
            reason + tuple(token for where in frames for token in ("at", where))
            if frames
            else reason,
            len(reason),
            headline,
        )
        for reason, (headline, frames) in zip(reasons, parts, strict=True)
    ]


def cluster(texts: Sequence[str]) -> list[str]:
    """A pattern key per message: the benchmarked core."""
    templates = templates_for([tokens for tokens, _, _ in message_tokens(texts)])
    keys: dict[tuple[str, ...], str] = {}
    for template in templates:
        if template not in keys:
            keys[template] = group_key(template)
    return [keys[template] for template in templates]


# --- patterns ---------------------------------------------------------------
# A pattern is a group of messages with a stable id, a template, a regex that finds
# its messages again (and not the other patterns' messages), and what a human needs
# to triage it: kind, keywords, counts, runs, first/last seen and samples.

SAMPLES_KEPT = 5
# A longer message (a whole pytest log) is sampled by its headline: samples fill the
# admin, the API, backlog entries and generated tests, five per pattern, and the
# headline is what the pattern's regex finds.
SAMPLE_MAX_CHARS = 4000
KEYWORDS_KEPT = 6
PATTERN_ID = re.compile(r"[a-z][a-z0-9_]{0,63}")

# First match wins: the more specific kinds come before the broad ones.
KIND_RULES: list[tuple[str, re.Pattern]] = [
    (
        "token_limit",
        re.compile(
            r"max_tokens|token limit|too many tokens|prompt is too long|context length|truncat"
            r"|stop_reason|soft_cap|token budget",
            re.I,
        ),
    ),
    ("import", re.compile(r"ImportError|ModuleNotFoundError|No module named|cannot import", re.I)),
    ("patch", re.compile(r"\bpatch|\bhunk|git apply|\bdiff\b|does not apply|merge conflict", re.I)),
    (
        "policy_scope",
        re.compile(
            r"protected path|outside (?:the )?(?:allowed )?scope|scope violation|\bpolicy\b"
            r"|governance|not allowed|forbidden",
            re.I,
        ),
    ),
    (
        "database",
        re.compile(
            r"database|sqlite|psycopg|postgres|OperationalError|IntegrityError"
            r"|no such (?:table|column)|sqlalchemy|deadlock",
            re.I,
        ),
    ),
    (
        "api_network",
        re.compile(
            r"timed? ?out|timeout|connection|\bHTTPS?\b|\b5\d\d\b|\bAPI\b|socket|refused"
            r"|unreachable|\bDNS\b|\bSSL\b|network|rate limit|\b429\b",
            re.I,
        ),
    ),
    ("ci_test", re.compile(r"pytest|\btests?\b|\bCI\b|collect|assert|\d+ failed|passed", re.I)),
]
OTHER_KIND = "other"
_STOPWORDS = frozenset(
    [
        "a",
        "an",
        "the",
        "of",
        "to",
        "for",
        "in",
        "on",
        "at",
        "by",
        "with",
        "from",
        "and",
        "or",
        "is",
        "are",
        "was",
        "were",
        "be",
        "been",
        "not",
        "no",
        "this",
        "that",
        "it",
        "its",
        "as",
        "but",
        "if",
        "into",
        "than",
        "then",
        "can",
        "could",
        "will",
        "would",
        "should",
        "must",
        "has",
        "have",
        "had",
        "do",
        "does",
        "did",
        "while",
        "after",
        "before",
    ]
)


@dataclass(frozen=True)
class FailureMessage:
    text: str
    run_id: str = ""
    phase_id: str = ""
    created_at: datetime | None = None


@dataclass(frozen=True)
class KnownPattern:
    """A pattern stored earlier: messages its regex finds keep its id."""

    pattern_id: str
    regex: str


@dataclass
class MinedPattern:
    pattern_id: str
    kind: str
    template: str
    regex: str
    keywords: list[str]
    count: int
    run_ids: list[str]
    samples: list[str]
    first_seen: datetime | None
    last_seen: datetime | None
    # Other patterns whose messages this regex also finds (empty when it is exclusive).
    overlaps: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        data = asdict(self)
        for moment in ("first_seen", "last_seen"):
            data[moment] = data[moment].isoformat() if data[moment] else None
        return data


@dataclass
class MiningResult:
    patterns: list[MinedPattern]  # most frequent first
    assignments: list[str | None]  # a pattern id per input message; None for a blank one


def failure_kind(text: str) -> str:
    return next((kind for kind, rule in KIND_RULES if rule.search(text)), OTHER_KIND)


# Ties go to the kind KIND_RULES lists first (the more specific); `other` is last.
_KIND_ORDER = {kind: rank for rank, (kind, _) in enumerate([*KIND_RULES, (OTHER_KIND, None)])}
# The most common distinct headlines of a pattern that vote on its kind: plenty to
# outvote a stray reporter's head, and cheap at a million members.
KIND_VOTERS = 200


def _pattern_kind(template: str, headlines: Sequence[str]) -> str:
    """The kind most members show (template and headline), ties to the more specific.

    One cause reported under several heads must not take its kind from whichever
    member came first (`Failed to apply patch: name 'files' is not defined` is not a
    patch failure), nor change kind when the input order changes.
    """
    votes: Counter = Counter()
    for headline, count in Counter(headlines).most_common(KIND_VOTERS):
        votes[failure_kind(f"{template} {headline}")] += count
    return min(votes, key=lambda kind: (-votes[kind], _KIND_ORDER[kind]))


def pattern_id_for(key: str) -> str:
    """`[a-z0-9_]` only: a few words of the template, then a hash of its words."""
    words = [re.sub(r"[^a-z0-9]+", "_", word.lower()).strip("_") for word in key.split()]
    slug = "_".join(word for word in words if word and not word[0].isdigit())[:32].strip("_")
    digest = hashlib.sha1(key.encode("utf-8")).hexdigest()[:8]
    return f"{slug or 'pattern'}_{digest}"


# A masked token never spans whitespace, except a value with its unit (`5.2 KB`).
_MASKED_TOKEN = r"\S+?(?:[ \t](?:[KMGT]i?B|B|ms|us|ns|s|sec|secs|seconds|mins?|minutes|h|hours))?"


# What each marker stands for in the raw text.
_MARKER_REGEXES = {
    URL_MARKER: _URL_HEAD,
    SEGMENT_MARKER: r"[^/\s'\"<>]*",
    OBJECT_MARKER: _OBJECT_REPR,
    HUNK_MARKER: _HUNK_REGEX,
}


def _masked_part(following: str) -> str:
    """A masked part inside a token runs up to the literal after it, which it cannot
    contain: `<*>:<*>:x` as `\\S+?:\\S+?:x` would backtrack polynomially on a long
    run of colons (a detector must stay fast on any input). A member whose value
    does contain that character is found by its own literal alternative instead."""
    if not following:
        return r"\S+?"
    return f"[^\\s{re.escape(following[0])}]+"


def _token_regex(token: str) -> str:
    if token == WILDCARD:
        return _MASKED_TOKEN
    literals = token.split(WILDCARD)
    regex = re.escape(literals[0]) + "".join(
        _masked_part(literal) + re.escape(literal) for literal in literals[1:]
    )
    if "<" in token:
        for marker, marker_regex in _MARKER_REGEXES.items():
            regex = regex.replace(re.escape(marker), marker_regex)
    return regex


def combine_regexes(regexes: Sequence[str]) -> str:
    """One regex finding what any of `regexes` finds (a pattern and those merged into
    it). A leading `(?m)` becomes a scoped `(?m:…)`: global flags must come first."""
    if len(regexes) == 1:
        return regexes[0]
    scoped = [f"(?m:{regex[4:]})" if regex.startswith("(?m)") else regex for regex in regexes]
    return "|".join(f"(?:{regex})" for regex in scoped)


def template_regex(template: Sequence[str]) -> str:
    """A regex finding the raw text a template came from, on token boundaries."""
    body = r"\s+".join(map(_token_regex, template))
    return rf"(?<!\S){body}(?!\S)"


def keywords_for(template: Sequence[str]) -> list[str]:
    found: list[str] = []
    for token in template:
        plain = token.replace(WILDCARD, " ")
        for marker in _MARKER_REGEXES:
            plain = plain.replace(marker, " ")
        for word in re.findall(r"[A-Za-z][A-Za-z_]{2,}", plain):
            if word.lower() not in _STOPWORDS and word not in found:
                found.append(word)
    return found[:KEYWORDS_KEPT]


def mine(messages: Sequence[FailureMessage], known: Sequence[KnownPattern] = ()) -> MiningResult:
    """Group messages into patterns; messages a known pattern finds keep its id."""
    known_regexes = [(pattern.pattern_id, re.compile(pattern.regex)) for pattern in known]
    assignments: list[str | None] = [None] * len(messages)
    fresh: list[int] = []
    for index, message in enumerate(messages):
        if not message.text.strip():
            continue
        found = next((pid for pid, regex in known_regexes if regex.search(message.text)), None)
        if found is None:
            fresh.append(index)
        else:
            assignments[index] = found

    # Per message: tokens (headline, then frames), headline token count, headline text.
    present = [index for index, message in enumerate(messages) if message.text.strip()]
    headlines = dict(
        zip(present, message_tokens([messages[index].text for index in present]), strict=True)
    )
    fresh_templates = templates_for([headlines[index][0] for index in fresh])
    templates: dict[int, tuple[str, ...]] = dict(zip(fresh, fresh_templates, strict=True))
    known_ids = {pattern.pattern_id for pattern in known}
    fresh_ids: dict[tuple[str, ...], str] = {}
    for index, template in zip(fresh, fresh_templates, strict=True):
        pattern_id = fresh_ids.get(template)
        if pattern_id is None:
            pattern_id = fresh_ids[template] = pattern_id_for(group_key(template))
        assignments[index] = pattern_id
    # Templates of known patterns are recomputed from their members: they may widen.
    members: dict[str, list[int]] = defaultdict(list)
    for index, pattern_id in enumerate(assignments):
        if pattern_id is not None:
            members[pattern_id].append(index)
    for pattern_id in known_ids & members.keys():
        indexes = members[pattern_id]
        for index, template in zip(
            indexes, templates_for([headlines[i][0] for i in indexes]), strict=True
        ):
            templates[index] = template

    stored_regex = {pattern.pattern_id: pattern.regex for pattern in known}
    patterns = [
        _build_pattern(pattern_id, indexes, messages, templates, headlines, stored_regex)
        for pattern_id, indexes in members.items()
    ]
    _sharpen(patterns, members, messages)
    patterns.sort(key=lambda pattern: (-pattern.count, pattern.pattern_id))
    return MiningResult(patterns=patterns, assignments=assignments)


def _build_pattern(pattern_id, indexes, messages, templates, headlines, stored_regex):
    head_templates = Counter(templates[i][: headlines[i][1]] for i in indexes)
    template = head_templates.most_common(1)[0][0]
    regex = stored_regex.get(pattern_id)
    if regex is None:
        alternatives = sorted({template_regex(t) for t in head_templates})
        # A member the template regexes miss (masking that merged raw tokens oddly)
        # is found by its own escaped headline.
        compiled = [re.compile(a) for a in alternatives]
        for i in indexes:
            if not any(c.search(messages[i].text) for c in compiled):
                literal = re.escape(headlines[i][2])
                alternatives.append(literal)
                compiled.append(re.compile(literal))
        regex = alternatives[0] if len(alternatives) == 1 else f"(?:{'|'.join(alternatives)})"
    samples: list[str] = []
    for i in indexes:
        whole = messages[i].text
        sample = whole if len(whole) <= SAMPLE_MAX_CHARS else headlines[i][2]
        if sample not in samples:
            samples.append(sample)
            if len(samples) == SAMPLES_KEPT:
                break
    moments = [messages[i].created_at for i in indexes if messages[i].created_at is not None]
    text = " ".join(template)
    return MinedPattern(
        pattern_id=pattern_id,
        kind=_pattern_kind(text, [headlines[i][2] for i in indexes]),
        template=text,
        regex=regex,
        keywords=keywords_for(template),
        count=len(indexes),
        run_ids=sorted({messages[i].run_id for i in indexes if messages[i].run_id}),
        samples=samples,
        first_seen=min(moments, default=None),
        last_seen=max(moments, default=None),
    )


# Anchoring a headline to its line (after pytest's `E   ` or a run of symbols such
# as `===== `) keeps a short template from finding a longer message that merely
# contains it: the line start, the line end (a reason after a reporter's head),
# then both.
# (The prefix consumes no blanks itself, so one `[ \t]*` takes them all: no two
# quantifiers compete for a long run of spaces.)
_LINE_START = r"(?m)^(?:E(?= {2})|[^\w\s]+(?=[ \t]))?[ \t]*"
OVERLAP_CHECK_TEXTS = 200
_LINE_END = r"[ \t]*$"


def _sharpen(
    patterns: list[MinedPattern], members: dict[str, list[int]], messages: Sequence[FailureMessage]
) -> None:
    # Each distinct text once; other patterns are represented by their first
    # OVERLAP_CHECK_TEXTS distinct texts, so the check stays linear in the data.
    texts = {
        pid: list(dict.fromkeys(messages[i].text for i in indexes))
        for pid, indexes in members.items()
    }

    def found_elsewhere(regex: re.Pattern, own_id: str) -> list[str]:
        return sorted(
            pid
            for pid, found in texts.items()
            if pid != own_id and any(regex.search(text) for text in found[:OVERLAP_CHECK_TEXTS])
        )

    for pattern in patterns:
        overlaps = found_elsewhere(re.compile(pattern.regex), pattern.pattern_id)
        plain = pattern.regex
        for anchored in (_LINE_START + plain, plain + _LINE_END, _LINE_START + plain + _LINE_END):
            if not overlaps:
                break
            compiled = re.compile(anchored)
            if all(compiled.search(text) for text in texts[pattern.pattern_id]):
                fewer = found_elsewhere(compiled, pattern.pattern_id)
                if len(fewer) < len(overlaps):
                    pattern.regex, overlaps = anchored, fewer
        pattern.overlaps = overlaps
