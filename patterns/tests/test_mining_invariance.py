"""The way a failure is logged does not change its pattern (property-based).

Messages are generated from failure shapes written for these tests (not taken from
any benchmark set), rendered the ways production logs them — the renderings of
`patterns.benchmarks.robustness` — and mined together with other failures.
"""

import random
import string

from hypothesis import given, settings
from hypothesis import strategies as st

from patterns.benchmarks.robustness import RENDERINGS
from patterns.mining import cluster
from patterns.mining.logline import strip_log_record

IDENTIFIERS = st.text(alphabet=string.ascii_lowercase + "_", min_size=3, max_size=12).filter(
    lambda name: name.strip("_") and not name.startswith("_")
)

# Failure shapes with slots; `{}` slots take generated identifiers.
SHAPES = [
    "ModuleNotFoundError: No module named '{}'",
    "AttributeError: 'Executor' object has no attribute '{}'",
    "TypeError: run() got an unexpected keyword argument '{}'",
    "sqlite3.OperationalError: table {} has no column named {}",
    "no such table: {}",
    "Disabled provider {} due to low credits (manifest gate)",
    "src/autopack/{}.py no longer compiles after apply (SyntaxError: invalid syntax at line 88);"
    " rolled back",
    "Error code: 529 - overloaded_error: claude-haiku-4-5 is temporarily overloaded",
    "Patch touches protected path .autonomous_runs/{}/state.json; refusing to apply",
    "Deliverables missing after apply: docs/{}.md",
]
# Other failures around them, so a corpus is never just one shape.
BACKGROUND = [
    "Failed to apply patch to filesystem: patch does not apply",
    "Failed to apply patch to filesystem: corrupt patch at line 12",
    "500 Server Error: Internal Server Error for url: http://localhost:8000/runs/x1/status",
    "Builder produced an empty patch for phase p3",
    "CI checks FAILED: 3/40 passed, 37 failed",
    "Token budget exceeded: 120000 > 100000",
]


@st.composite
def failures(draw):
    shape = draw(st.sampled_from(SHAPES))
    values = [draw(IDENTIFIERS) for _ in range(shape.count("{}"))]
    return shape.format(*values)


def _same_pattern(bare: str, rendered: str) -> bool:
    keys = cluster([*BACKGROUND, bare, rendered])
    return keys[-1] == keys[-2]


@settings(max_examples=150, deadline=None)
@given(
    message=failures(),
    rendering=st.sampled_from(sorted(set(RENDERINGS) - {"value_swaps"})),
    seed=st.integers(0, 10**6),
)
def test_a_rendering_leaves_the_pattern_unchanged(message, rendering, seed):
    rendered = RENDERINGS[rendering](message, random.Random(seed))
    assert _same_pattern(message, rendered), (rendering, rendered)


@settings(max_examples=100, deadline=None)
@given(data=st.data())
def test_values_in_a_slot_are_variable_however_few_messages_carry_them(data):
    shape = data.draw(st.sampled_from([shape for shape in SHAPES if "{}" in shape]))
    first = shape.format(*[data.draw(IDENTIFIERS) for _ in range(shape.count("{}"))])
    second = shape.format(*[data.draw(IDENTIFIERS) for _ in range(shape.count("{}"))])
    keys = cluster([*BACKGROUND, first, second])
    assert keys[-1] == keys[-2], (first, second)


@settings(max_examples=60, deadline=None)
@given(
    message=failures(),
    heads=st.lists(
        st.sampled_from(
            ["Builder failed", "Execution failed", "Attempt 3 raised exception", "Error message"]
        ),
        min_size=1,
        max_size=3,
    ),
)
def test_a_reason_under_any_number_of_wrappers_is_the_bare_reason(message, heads):
    wrapped = "".join(f"{head}: " for head in heads) + message
    assert _same_pattern(message, wrapped), wrapped


@settings(max_examples=60, deadline=None)
@given(message=failures(), qualified=st.integers(0, 3))
def test_exception_qualification_does_not_matter(message, qualified):
    reason = message.split(": ", 1)[1] if message.startswith("sqlite3.") else message
    forms = [
        f"sqlalchemy.exc.OperationalError: (sqlite3.OperationalError) {reason}",
        f"sqlite3.OperationalError: {reason}",
        f"(sqlite3.OperationalError) {reason}",
        reason,
    ]
    assert _same_pattern(reason, forms[qualified]), forms[qualified]


def test_what_differs_after_a_shared_head_stays_apart():
    keys = cluster(
        [
            *BACKGROUND,
            "Failed to apply patch to filesystem: patch does not apply",
            "Failed to apply patch to filesystem: corrupt patch at line 40",
            "500 Server Error: Internal Server Error for url: http://localhost:8000/runs/x2/status",
            "500 Server Error: Internal Server Error for url: "
            "http://localhost:8000/runs/x2/phases/p/builder_result",
            "503 Server Error: Service Unavailable for url: http://localhost:8000/runs/x2/status",
        ]
    )
    tail = keys[len(BACKGROUND) :]
    assert tail[0] != tail[1]  # one head, two reasons
    assert len({tail[2], tail[3], tail[4]}) == 3  # endpoints and status codes


def test_log_record_prefixes_come_off():
    message = "ModuleNotFoundError: No module named 'yaml'"
    for line in (
        f"2026-02-03 10:41:07,118 ERROR autopack.autonomous_executor: {message}",
        f"2026-02-03T10:41:07.118Z - autopack.llm - ERROR - {message}",
        f"2026-02-03T10:41:07+01:00 [ERROR] [autopack.llm] {message}",
        f"ERROR:autopack.autonomous_executor:{message}",
        f"ERROR:root:{message}",
        f"Feb  3 10:41:07 buildhost autopack[123]: {message}",
        f"level=error {message}",
        f"[CRITICAL] {message}",
        f"E   {message}",
    ):
        assert strip_log_record(line) == message, line
    # Words of the message itself stay.
    for line in (
        "Error message: 500 Server Error",
        "Warning signs in the diff",
        "config.yaml: bad",
    ):
        assert strip_log_record(line) == line


DECORATIONS = [
    "2026-02-03 10:41:07,118 ",
    "2026/02/03 10:41:07 ",
    "10:41:07 ",
    "[2026-02-03T10:41:07Z] ",
    "Feb  3 10:41:07 host prog[12]: ",
    "ERROR ",
    "Warning: ",
    "level=error ",
    "- ERROR - ",
    "ERROR:root:",
    "autopack.llm: ",
    "[autopack.llm] ",
    "E   ",
    "FAILED tests/a.py::t - ",
    "src/a.py:12: ",
    "HTTPError: ",
    "(sqlite3.OperationalError) ",
    "[CI] ",
    "❌ ",
    "!! ",
    "3 failed, 2 passed in 1.5s ",
]


@settings(max_examples=300, deadline=None)
@given(
    decorations=st.lists(st.sampled_from(DECORATIONS), min_size=1, max_size=3),
    message=failures(),
)
def test_the_cheap_decoration_test_never_misses_a_decoration(decorations, message):
    from patterns.mining.reasons import _may_be_decorated, _without_decorations

    text = "".join(decorations) + message
    if _without_decorations(text) != text:
        assert _may_be_decorated(text), text
