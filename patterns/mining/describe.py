"""Description: a group of messages becomes a pattern with a stable id, a
template, a regex that finds its messages again (and not the other patterns'
messages), and what a human needs to triage it: kind, keywords, counts, runs,
first/last seen and samples."""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Mapping, Sequence

from patterns.mining.mask import MARKER_REGEXES, MASKED_TOKEN_REGEX, WILDCARD
from patterns.mining.records import FailureMessage, MessageTokens, MinedPattern, Template

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
        return MASKED_TOKEN_REGEX
    literals = token.split(WILDCARD)
    regex = re.escape(literals[0]) + "".join(
        _masked_part(literal) + re.escape(literal) for literal in literals[1:]
    )
    if "<" in token:
        for marker, marker_regex in MARKER_REGEXES.items():
            regex = regex.replace(re.escape(marker), marker_regex)
    return regex


def _members_regex(
    members: Sequence[int],
    messages: Sequence[FailureMessage],
    head_templates: Counter,
    tokens_of: Mapping[int, MessageTokens],
) -> str:
    """A regex from the members' templates that finds every member."""
    alternatives = sorted({template_regex(t) for t in head_templates})
    # A member the template regexes miss (masking that merged raw tokens oddly)
    # is found by its own escaped headline.
    compiled = [re.compile(a) for a in alternatives]
    for i in members:
        if not any(c.search(messages[i].text) for c in compiled):
            literal = re.escape(tokens_of[i].headline)
            alternatives.append(literal)
            compiled.append(re.compile(literal))
    return alternatives[0] if len(alternatives) == 1 else f"(?:{'|'.join(alternatives)})"


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
        for marker in MARKER_REGEXES:
            plain = plain.replace(marker, " ")
        for word in re.findall(r"[A-Za-z][A-Za-z_]{2,}", plain):
            if word.lower() not in _STOPWORDS and word not in found:
                found.append(word)
    return found[:KEYWORDS_KEPT]


def build_pattern(
    *,
    pattern_id: str,
    members: Sequence[int],
    messages: Sequence[FailureMessage],
    templates: Mapping[int, Template],
    tokens_of: Mapping[int, MessageTokens],
    stored_regex: str | None,
) -> MinedPattern:
    """The pattern of `members` (indexes into `messages`). A new pattern gets a regex
    from the templates of its members' reasons; a stored one keeps its stored regex,
    widened by those templates only where it misses a member it gathered."""
    head_templates = Counter(templates[i][: tokens_of[i].reason_length] for i in members)
    template = head_templates.most_common(1)[0][0]
    if stored_regex is None:
        regex = _members_regex(members, messages, head_templates, tokens_of)
    else:
        stored = re.compile(stored_regex)
        missed = [i for i in members if not stored.search(messages[i].text)]
        regex = stored_regex
        if missed:
            missed_templates = Counter(templates[i][: tokens_of[i].reason_length] for i in missed)
            widening = _members_regex(missed, messages, missed_templates, tokens_of)
            regex = combine_regexes([stored_regex, widening])
    samples: list[str] = []
    for i in members:
        whole = messages[i].text
        sample = whole if len(whole) <= SAMPLE_MAX_CHARS else tokens_of[i].headline
        if sample not in samples:
            samples.append(sample)
            if len(samples) == SAMPLES_KEPT:
                break
    moments = [messages[i].created_at for i in members if messages[i].created_at is not None]
    text = " ".join(template)
    return MinedPattern(
        pattern_id=pattern_id,
        kind=_pattern_kind(text, [tokens_of[i].headline for i in members]),
        template=text,
        regex=regex,
        keywords=keywords_for(template),
        count=len(members),
        run_ids=sorted({messages[i].run_id for i in members if messages[i].run_id}),
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


def sharpen(
    patterns: list[MinedPattern], members: dict[str, list[int]], messages: Sequence[FailureMessage]
) -> None:
    """Anchor each pattern's regex until it finds no other pattern's messages, where
    anchoring can; record the patterns it still finds in `overlaps`."""
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
