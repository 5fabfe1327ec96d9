"""Masking: variable parts of a failure's text become whole wildcard tokens.

Anything holding a digit (numbers, hex, UUIDs, hashes, IPs, ids such as
`build130-phase0-…`), paths, quoted values other than identifiers, dates and
durations with their units are masked; URLs keep the shape of their path
(`<url>/runs/<seg>/builder_result`). `MARKER_REGEXES` and `MASKED_TOKEN_REGEX` say
what each mask stands for in raw text, for the regexes built from templates.
"""

from __future__ import annotations

import re

WILDCARD = "<*>"

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
# A value in a slot that names a thing — a module, table, column, attribute, keyword
# argument, file, model, host or provider — is variable however few messages carry
# it: `No module named 'yaml'` and `No module named 'tiktoken'` are one failure.
# Quoted, after any slot word; bare, after the words that always name (`table
# runs`, `column named x`, `provider anthropic`), unless an ordinary word follows.
_SLOT_WORDS = (
    r"module|attribute|argument|parameter|key|field|column|table|model|host|provider"
    r"|package|named|file|index|database"
)
_QUOTED_SLOT = re.compile(rf"\b((?:{_SLOT_WORDS})s?:? )(['\"])[^'\"\s]{{1,200}}\2")
_NOT_A_VALUE = (
    r"(?:has|have|is|was|are|does|did|not|no|already|exists?|with|for|of|the|a|an|and|or"
    r"|to|in|on|at|by|from|named|as|via|mode|changes?|write|read|gate|due|credits?)\b"
)
_BARE_SLOT = re.compile(
    rf"\b((?:table|column|named|provider|model):? )(?!{_NOT_A_VALUE})[A-Za-z_][\w.-]*"
)
_MENTIONS_SLOT = re.compile(_SLOT_WORDS)
# After the digit rule: a unit belongs to its value (`<*> KB`, `<*> ms`), and a
# weekday or month name before a masked day is part of a date. Both patterns
# start with literals, which the regex engine scans for quickly.
_UNIT = r"(?:[KMGT]i?B|B|ms|us|ns|s|sec|secs|seconds|mins?|minutes|h|hours)"
_UNIT_AFTER_VALUE = re.compile(r"<\*> ?" + _UNIT + r"(?![\w.])")
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
    # (Substring tests first: the slot regexes scan every position.)
    if ("'" in text or '"' in text) and _MENTIONS_SLOT.search(text):
        text = _QUOTED_SLOT.sub(rf"\g<1>{WILDCARD}", text)
    if (
        "table" in text
        or "column" in text
        or "named" in text
        or "provider" in text
        or "model" in text
    ):
        text = _BARE_SLOT.sub(rf"\g<1>{WILDCARD}", text)
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


# A masked token never spans whitespace, except a value with its unit (`5.2 KB`).
MASKED_TOKEN_REGEX = r"\S+?(?:[ \t]" + _UNIT + r")?"


# What each marker stands for in the raw text.
MARKER_REGEXES = {
    URL_MARKER: _URL_HEAD,
    SEGMENT_MARKER: r"[^/\s'\"<>]*",
    OBJECT_MARKER: _OBJECT_REPR,
    HUNK_MARKER: _HUNK_REGEX,
}
