"""Mine failure messages into patterns. Pure Python: no Django, no database.

The stages, one module each, per message:
1. `reduce`: a multi-line message (traceback, pytest output) comes down to its
   headline and innermost frames (`failure_parts`).
2. `reasons`: the headline loses its reporter's decorations (`failure_reason`);
   `mask`: variable parts become wildcard tokens (`tokenize`); then, across the
   corpus, each message is keyed on its reason, whatever wrapper reported it, and
   free-text tails are cut (`reasons_for`).
3. `group`: token sequences become templates by similarity (`templates_for`), and
   templates with the same words are one pattern (`group_key`).
4. `describe`: each group becomes a pattern with a stable id, a regex, a kind,
   keywords, counts and samples.
`pipeline` joins them: `cluster` (one pattern key per message, the benchmarked
core) and `mine` (patterns; messages a known, stored pattern's regex finds keep its
id, so a pattern keeps its id when later data widens its template).
"""

from patterns.mining.describe import (
    KIND_RULES,
    OTHER_KIND,
    PATTERN_ID,
    SAMPLE_MAX_CHARS,
    SAMPLES_KEPT,
    combine_regexes,
    failure_kind,
    keywords_for,
    pattern_id_for,
    template_regex,
)
from patterns.mining.group import group_key, templates_for
from patterns.mining.mask import WILDCARD, tokenize
from patterns.mining.pipeline import cluster, message_tokens, mine
from patterns.mining.reasons import failure_reason, reasons_for
from patterns.mining.records import (
    FailureMessage,
    KnownPattern,
    MessageTokens,
    MinedPattern,
    MiningResult,
    Template,
)
from patterns.mining.reduce import HEADLINE_MAX_CHARS, failure_parts

__all__ = [
    "HEADLINE_MAX_CHARS",
    "KIND_RULES",
    "OTHER_KIND",
    "PATTERN_ID",
    "SAMPLES_KEPT",
    "SAMPLE_MAX_CHARS",
    "WILDCARD",
    "FailureMessage",
    "KnownPattern",
    "MessageTokens",
    "MinedPattern",
    "MiningResult",
    "Template",
    "cluster",
    "combine_regexes",
    "failure_kind",
    "failure_parts",
    "failure_reason",
    "group_key",
    "keywords_for",
    "message_tokens",
    "mine",
    "pattern_id_for",
    "reasons_for",
    "template_regex",
    "templates_for",
    "tokenize",
]
