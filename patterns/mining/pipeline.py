"""The pipeline's entry points: grouping tokens per message, a pattern key per
message (`cluster`, the benchmarked core), and patterns (`mine`)."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence

from patterns.mining.describe import build_pattern, pattern_id_for, sharpen
from patterns.mining.group import group_key, templates_for
from patterns.mining.reasons import failure_reason, reasons_for, unwrapped_reasons
from patterns.mining.records import (
    FailureMessage,
    KnownPattern,
    MessageTokens,
    MiningResult,
    Template,
)
from patterns.mining.reduce import failure_parts


def message_tokens(texts: Sequence[str]) -> list[MessageTokens]:
    """Per message: grouping tokens (reason, then frames), the reason's token count,
    and the headline the reason comes from."""
    # Logs repeat messages verbatim (half of loghub's): each distinct text is reduced,
    # masked and described once. The corpus stage still sees every message, for its
    # counts, and gives equal token lists equal reasons.
    parts = {text: failure_parts(text) for text in dict.fromkeys(texts)}
    masked = unwrapped_reasons([failure_reason(headline) for headline, _ in parts.values()])
    by_masked = dict(zip(parts, masked, strict=True))
    reasons = reasons_for([by_masked[text] for text in texts])
    described: dict[str, MessageTokens] = {}
    for text, reason in zip(texts, reasons, strict=True):
        if text not in described:
            headline, frames = parts[text]
            described[text] = MessageTokens(
                tokens=(
                    reason + tuple(token for where in frames for token in ("at", where))
                    if frames
                    else reason
                ),
                reason_length=len(reason),
                headline=headline,
            )
    return [described[text] for text in texts]


def cluster(texts: Sequence[str]) -> list[str]:
    """A pattern key per message: the benchmarked core."""
    templates = templates_for([message.tokens for message in message_tokens(texts)])
    keys: dict[Template, str] = {}
    for template in templates:
        if template not in keys:
            keys[template] = group_key(template)
    return [keys[template] for template in templates]


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

    present = [index for index, message in enumerate(messages) if message.text.strip()]
    # Known patterns' samples are mined with the messages (never assigned): the
    # pattern they mine to now is the known pattern's.
    samples = [(pattern.pattern_id, text) for pattern in known for text in pattern.samples]
    mined = message_tokens([messages[index].text for index in present] + [t for _, t in samples])
    tokens_of: dict[int, MessageTokens] = dict(zip(present, mined, strict=False))
    sample_tokens = [message.tokens for message in mined[len(present) :]]
    all_templates = templates_for([tokens_of[index].tokens for index in fresh] + sample_tokens)
    fresh_templates = all_templates[: len(fresh)]
    known_by_key: dict[str, str] = {}
    for (pattern_id, _), template in zip(samples, all_templates[len(fresh) :], strict=True):
        known_by_key.setdefault(group_key(template), pattern_id)  # oldest pattern first
    templates: dict[int, Template] = dict(zip(fresh, fresh_templates, strict=True))
    known_ids = {pattern.pattern_id for pattern in known}
    fresh_ids: dict[Template, str] = {}
    for index, template in zip(fresh, fresh_templates, strict=True):
        pattern_id = fresh_ids.get(template)
        if pattern_id is None:
            key = group_key(template)
            pattern_id = fresh_ids[template] = known_by_key.get(key) or pattern_id_for(key)
        assignments[index] = pattern_id
    # Templates of known patterns are recomputed from their members: they may widen.
    members: dict[str, list[int]] = defaultdict(list)
    for index, pattern_id in enumerate(assignments):
        if pattern_id is not None:
            members[pattern_id].append(index)
    for pattern_id in known_ids & members.keys():
        indexes = members[pattern_id]
        for index, template in zip(
            indexes, templates_for([tokens_of[i].tokens for i in indexes]), strict=True
        ):
            templates[index] = template

    stored_regex = {pattern.pattern_id: pattern.regex for pattern in known}
    patterns = [
        build_pattern(
            pattern_id=pattern_id,
            members=indexes,
            messages=messages,
            templates=templates,
            tokens_of=tokens_of,
            stored_regex=stored_regex.get(pattern_id),
        )
        for pattern_id, indexes in members.items()
    ]
    sharpen(patterns, members, messages)
    patterns.sort(key=lambda pattern: (-pattern.count, pattern.pattern_id))
    return MiningResult(patterns=patterns, assignments=assignments)
