"""Properties of mining and code generation on arbitrary messages (hypothesis).

Whatever the input — fragments of real failure shapes mixed with arbitrary text,
quotes, backslashes, newlines and non-ASCII — every non-blank message gets a
pattern whose regex finds it and whose generated detector detects it, and pattern
ids stay `[a-z0-9_]`.
"""

import ast
import re
import types

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from patterns.codegen import render_detector
from patterns.mining import PATTERN_ID, FailureMessage, mine

FRAGMENTS = [
    "error:",
    "patch",
    "failed:",
    "src/a.py:12",
    "[Builder]",
    "Builder failed:",
    "name",
    "'files'",
    "is not defined",
    "timeout",
    "30s",
    "http://localhost:8000/runs/r-1/phases/p/builder_result",
    "=",
    "(",
    ")",
    "Rationale:",
    "E  ",
    "\n",
    "Traceback (most recent call last):",
    "@@ -1,5 +1,6 @@",
    "<Category at 0x1f>",
    "\\",
    '"',
    "'''",
    ":",
    " - ",
    "12",
    "0xdead",
    "C:\\dev\\x.py",
    "é",
    "\t",
    "x=1",
    "FAILED tests/t.py::test_a - ",
    "__import__('os')",
]
MESSAGE = st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=6)), max_size=12).map(
    " ".join
)
PROPERTIES = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _members(texts, assignments, pattern_id):
    return [
        text for text, assigned in zip(texts, assignments, strict=True) if assigned == pattern_id
    ]


@PROPERTIES
@given(st.lists(MESSAGE, min_size=1, max_size=12))
def test_every_message_is_found_by_its_patterns_regex(texts):
    result = mine([FailureMessage(text=text) for text in texts])
    regexes = {pattern.pattern_id: pattern.regex for pattern in result.patterns}
    for text, pattern_id in zip(texts, result.assignments, strict=True):
        if pattern_id is None:
            assert not text.strip()
            continue
        assert PATTERN_ID.fullmatch(pattern_id)
        assert re.search(regexes[pattern_id], text), (regexes[pattern_id], text)


@PROPERTIES
@given(st.lists(MESSAGE, min_size=1, max_size=8))
def test_generated_detectors_parse_and_detect_their_members(texts):
    result = mine([FailureMessage(text=text) for text in texts])
    for pattern in result.patterns:
        source = render_detector(pattern)
        ast.parse(source)
        detector = types.ModuleType("detector")
        exec(compile(source, "detector.py", "exec"), detector.__dict__)
        for text in _members(texts, result.assignments, pattern.pattern_id):
            assert detector.detect(text, {}) is True, (pattern.regex, text)
        advice = detector.mitigate("phase-1", {})
        assert advice["success"] is False and advice["actions_taken"] == []
