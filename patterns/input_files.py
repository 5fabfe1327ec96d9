"""Failure messages from a file: JSON Lines objects or plain lines. No Django."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from patterns.mining import FailureMessage


class InputFileError(ValueError):
    """A line of the input file that cannot be read; the message names the line."""


def read_failure_messages(path: Path) -> list[FailureMessage]:
    """A line starting with `{` is a JSON object with `message` (and optional
    `run_id`, `phase_id`, `created_at`); any other non-blank line is one message.
    CRLF line ends are accepted."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputFileError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as error:
        raise InputFileError(f"{path}: cannot be read as UTF-8 text ({error})") from None
    messages = []
    for number, line in enumerate(text.split("\n"), start=1):
        line = line.rstrip("\r")
        if not line.strip():
            continue
        if line.lstrip().startswith("{"):
            messages.append(_from_json(line, number))
        else:
            messages.append(FailureMessage(text=line))
    return messages


def _require_text(value: str, name: str, number: int) -> None:
    """JSON can escape a lone surrogate (`"\\ud800"`), which is no character: it cannot
    be printed, written to a file or stored, so it is refused here, as the API does."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as error:
        surrogate = f"U+{ord(value[error.start]):04X}"
        raise InputFileError(
            f"line {number}: '{name}' holds a lone surrogate {surrogate}, which is not text"
        ) from None


def _from_json(line: str, number: int) -> FailureMessage:
    try:
        record = json.loads(line)
    except json.JSONDecodeError as error:
        raise InputFileError(f"line {number}: invalid JSON ({error.msg})") from None
    except RecursionError:
        raise InputFileError(f"line {number}: JSON nested too deeply") from None
    if not isinstance(record, dict) or not isinstance(record.get("message"), str):
        raise InputFileError(f"line {number}: a JSON line needs a string 'message'")
    fields = {}
    for name in ("run_id", "phase_id"):
        value = record.get(name) or ""
        if not isinstance(value, str):
            raise InputFileError(f"line {number}: '{name}' must be a string")
        fields[name] = value
    for name, value in (("message", record["message"]), *fields.items()):
        _require_text(value, name, number)
    created_at = record.get("created_at")
    if created_at is not None:
        try:
            created_at = datetime.fromisoformat(str(created_at).replace("Z", "+00:00"))
        except ValueError:
            raise InputFileError(f"line {number}: 'created_at' is not an ISO 8601 time") from None
        if created_at.tzinfo is None:  # times without an offset are UTC, as stored
            created_at = created_at.replace(tzinfo=UTC)
    return FailureMessage(text=record["message"], created_at=created_at, **fields)
