"""Log records: what the logging around a failure put before it.

One failure reaches a log many ways: `2026-02-03 10:41:07,118 ERROR autopack.llm:
X`, `ERROR:autopack.llm:X`, `Feb  3 10:41:07 host autopack[123]: X`, `[ERROR] X`,
`level=error X`, pytest's `E   X`. `strip_log_record` takes the record's prefix
off — timestamps, levels, logger names, syslog's host and program — and leaves the
message: the way it was logged must not change its pattern. Per message, no corpus.
"""

from __future__ import annotations

import re

# Levels as Python's logging, syslog and common libraries spell them.
_LEVELS = "TRACE|DEBUG|INFO|NOTICE|WARN|WARNING|ERROR|ERR|CRITICAL|CRIT|FATAL|SEVERE|ALERT|EMERG"
# Capitalised (`Error`, `Warning`), a level only with its colon: `Error message: …`
# and `Warning signs …` are words of the message.
_TITLE_LEVEL = "|".join(level.title() for level in _LEVELS.split("|"))
_MONTH = r"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)"
_CLOCK = r"\d{1,2}:\d{2}(?::\d{2})?(?:[.,]\d{1,9})?"
_DATE = r"\d{4}[-/]\d{2}[-/]\d{2}"
_ZONE = r"(?:\s?(?:Z|UTC|GMT|[+-]\d{2}:?\d{2}))?"

# Each is one element of a record's prefix; a prefix is a run of them.
_ELEMENTS = [
    # 2026-02-03 10:41:07,118 | 2026-02-03T10:41:07.118Z | [2026-02-03 10:41:07] | 10:41:07
    re.compile(rf"\[?(?:{_DATE}[T ]{_CLOCK}{_ZONE}|{_DATE}|{_CLOCK}{_ZONE})\]?(?=[\s,|\]-]|\Z)"),
    # syslog: Feb  3 10:41:07 host prog[123]:
    re.compile(rf"{_MONTH} +\d{{1,2}} {_CLOCK} \S+ [\w./-]+(?:\[\d+\])?:(?=\s)"),
    # ERROR | [ERROR] | ERROR: | <ERROR> | level=error | lvl=ERROR
    re.compile(
        rf"(?:\[(?i:{_LEVELS})\]|<(?i:{_LEVELS})>|-\s+(?:{_LEVELS})\s+-(?=\s)|"
        rf"(?:{_LEVELS}):?(?=\s|:)|(?:{_TITLE_LEVEL}):(?=\s)|"
        rf"(?:level|lvl|severity)=\"?(?i:{_LEVELS})\"?(?=\s))"
    ),
    # pytest's error lines: `E   message`
    re.compile(r"E {2,}(?=\S)"),
    # A dotted logger name (`autopack.llm`), bracketed or followed by `:` or ` - `.
    re.compile(
        r"\[[a-z_][a-z0-9_]*(?:\.[a-z_][a-z0-9_]*)*\](?=\s)"
        r"|[a-z_][a-z0-9_]*(?:\.(?!(?:py|json|ya?ml|toml|md|txt|cfg|ini|log|lock|sh)\b)"
        r"[a-z_][a-z0-9_]*)+(?::|(?= - ))"
        # `%(name)s - %(levelname)s - `: any name before the level.
        rf"|[A-Za-z_][\w.]*(?= - (?:{_LEVELS}) - )"
    ),
]
# After a level, Python's default format puts the logger name and a colon with no
# space (`ERROR:root:message`): a single word counts as a logger name there.
_LOGGER_AFTER_LEVEL = re.compile(r"[A-Za-z_][\w.]*:(?=\S)")
# With a space (`ERROR root: message`) only the root logger's names count: any other
# word may be the message's own (`ERROR churn_limit_exceeded: …`).
_ROOT_LOGGER_AFTER_LEVEL = re.compile(r"\s+(?:root|__main__):(?=\s)")
_SEPARATORS = re.compile(r"[\s|,]*(?:-\s+)?")
MAX_ELEMENTS = 8


# What a record's prefix may begin with: one test that most messages fail at once.
_MAY_BE_RECORD = re.compile(
    rf"[\d\[<-]|E  |(?:{_LEVELS})\b|(?:{_TITLE_LEVEL}):|(?:level|lvl|severity)="
    rf"|{_MONTH} |[a-z_][a-z0-9_]*\.[a-z_]|[A-Za-z_][\w.]* - "
)


def strip_log_record(line: str) -> str:
    """The message of a log line, without the record's prefix (the line itself when
    it has none, or when nothing would be left)."""
    text = line.lstrip()
    if not text or not _MAY_BE_RECORD.match(text):
        return text or line
    for _ in range(MAX_ELEMENTS):
        for index, element in enumerate(_ELEMENTS):
            match = element.match(text)
            if match is None:
                continue
            rest = text[match.end() :]
            if index == 2:
                if rest.startswith(":") and (name := _LOGGER_AFTER_LEVEL.match(rest[1:])):
                    rest = rest[1 + name.end() :]
                elif root := _ROOT_LOGGER_AFTER_LEVEL.match(rest):
                    rest = rest[root.end() :]
            rest = rest.lstrip(":")
            rest = rest[_SEPARATORS.match(rest).end() :]
            if rest.strip():
                text = rest
                break
        else:
            return text
    return text
