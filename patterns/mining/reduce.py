"""Reduction: a multi-line message (traceback, pytest output) comes down to what
identifies the failure: the final exception line plus the innermost frames' file
and function, never line numbers (as Sentry groups errors)."""

from __future__ import annotations

import re

from patterns.mining.logline import strip_log_record

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
    # Each line may carry its log record's prefix (a logged traceback's lines).
    lines = [strip_log_record(line.rstrip()) for line in message.replace("\r\n", "\n").split("\n")]
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
