"""The records the mining stages pass along: input messages, stored patterns,
per-message grouping tokens, and what mining returns."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import NamedTuple

# Whitespace tokens of a message, masked; a template is tokens with wildcards.
Tokens = tuple[str, ...]
Template = Tokens


@dataclass(frozen=True)
class FailureMessage:
    text: str
    run_id: str = ""
    phase_id: str = ""
    created_at: datetime | None = None


@dataclass(frozen=True)
class KnownPattern:
    """A pattern stored earlier: messages its regex finds keep its id, and so do
    messages that mine to the pattern its samples mine to now (when mining learns
    to reduce a template further, the stored pattern gathers what it now covers)."""

    pattern_id: str
    regex: str
    samples: tuple[str, ...] = ()


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


class MessageTokens(NamedTuple):
    """One message as grouping sees it."""

    tokens: Template  # the reason's tokens, then the innermost frames (`at file.py:fn`)
    reason_length: int  # how many of `tokens` are the reason's
    headline: str  # the line the reason comes from, text of the message itself
