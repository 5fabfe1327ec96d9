"""Patterns from mined messages: ids, regexes, kinds, samples, stable ids (no database)."""

import re
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from patterns.mining import (
    HEADLINE_MAX_CHARS,
    PATTERN_ID,
    FailureMessage,
    KnownPattern,
    failure_kind,
    mine,
)

START = datetime(2026, 11, 1, tzinfo=UTC)


def _messages(texts, run_prefix="run"):
    return [
        FailureMessage(
            text=text, run_id=f"{run_prefix}-{i % 3}", created_at=START + timedelta(hours=i)
        )
        for i, text in enumerate(texts)
    ]


HUNKS = [
    f"error: patch failed: src/autopack/{name}.py:{line}"
    for name, line in [("executor", 120), ("llm", 88), ("scope", 7), ("gates", 310)]
]
TRUNCATED = [
    f"LLM output truncated at max_tokens={n} while generating src/{m}.py"
    for n, m in [(4096, "a"), (8192, "b"), (16384, "c")]
]
IMPORTS = [
    f"E   ModuleNotFoundError: No module named '{m}'"
    for m in ["tiktoken", "qdrant", "httpx", "pydantic", "anthropic"]
]
TIMEOUTS = [
    "Anthropic API request timed out after 30s (attempt 1/3)",
    "Anthropic API request timed out after 60s (attempt 2/3)",
]
ALL = HUNKS + TRUNCATED + IMPORTS + TIMEOUTS


def test_patterns_carry_counts_runs_times_samples_and_kinds():
    result = mine(_messages(ALL))
    by_id = {p.pattern_id: p for p in result.patterns}
    assert [p.count for p in result.patterns] == [5, 4, 3, 2]
    hunk = by_id[result.assignments[0]]
    assert hunk.kind == "patch" and hunk.template == "error: patch failed: <*>:<*>"
    assert hunk.run_ids == ["run-0", "run-1", "run-2"]
    assert hunk.first_seen == START and hunk.last_seen == START + timedelta(hours=3)
    assert hunk.samples == HUNKS and "patch" in hunk.keywords
    kinds = {by_id[result.assignments[ALL.index(text)]].kind for text in TRUNCATED}
    assert kinds == {"token_limit"}
    assert by_id[result.assignments[ALL.index(IMPORTS[0])]].kind == "import"
    assert by_id[result.assignments[ALL.index(TIMEOUTS[0])]].kind == "api_network"


def test_samples_are_capped_at_five_distinct_messages():
    texts = [f"error: patch failed: src/m{i}.py:{i}" for i in range(9)] * 2
    (pattern,) = mine(_messages(texts)).patterns
    assert pattern.count == 18 and len(pattern.samples) == 5 == len(set(pattern.samples))


def test_every_regex_finds_all_its_members_and_no_other_patterns_members():
    messages = _messages([*ALL, "error: patch failed: src/x.py:1 while retrying in strict mode"])
    result = mine(messages)
    for pattern in result.patterns:
        regex = re.compile(pattern.regex)
        for message, assigned in zip(messages, result.assignments, strict=True):
            assert bool(regex.search(message.text)) == (assigned == pattern.pattern_id), (
                pattern.pattern_id,
                message.text,
            )
        assert pattern.overlaps == []


def test_pattern_ids_are_safe_and_stable_across_runs_and_input_order():
    first = mine(_messages(ALL)).assignments
    again = mine(_messages(list(reversed(ALL)))).assignments
    assert first == list(reversed(again))
    assert all(PATTERN_ID.fullmatch(pid) for pid in first)
    hostile = mine(_messages(["'; __import__('os').system('rm -rf /') #\"\"\" failed"] * 3))
    assert all(PATTERN_ID.fullmatch(p.pattern_id) for p in hostile.patterns)


def test_a_stored_pattern_keeps_its_id_when_its_template_widens():
    narrow = mine(_messages(["Builder failed: churn limit exceeded on src/a.py"] * 3))
    (stored,) = narrow.patterns
    widened = [
        "Builder failed: churn limit exceeded on src/a.py",
        "Builder failed: churn limit exceeded on src/b/c.py",
    ]
    # Without the stored pattern the wider set gets an id of its own template ...
    fresh = mine(_messages([*widened, "Builder failed: churn limit exceeded on docs/d.md"]))
    # ... with it, every message the stored regex finds stays under the stored id.
    known = [KnownPattern(stored.pattern_id, stored.regex)]
    kept = mine(_messages(widened), known)
    assert kept.assignments == [stored.pattern_id, stored.pattern_id]
    assert kept.patterns[0].pattern_id == stored.pattern_id and kept.patterns[0].count == 2
    assert fresh.patterns[0].pattern_id == stored.pattern_id  # same words, same id


def test_a_stored_pattern_gathers_what_its_template_now_reduces_to():
    """Stored before mining knew a slot (its id is its template's then, its regex the
    literal module name); messages of the reduced template join it, not a new id."""
    stored = KnownPattern(
        pattern_id="no_module_named_yaml",
        regex=r"No\ module\ named\ 'yaml'",
        samples=("ERROR:autopack.llm:ModuleNotFoundError: No module named 'yaml'",),
    )
    later = [
        "E   ModuleNotFoundError: No module named 'tiktoken'",
        "[CI] could not run pytest: ModuleNotFoundError: No module named 'qdrant_client'",
        "No module named 'yaml'",
        "Builder produced an empty patch",
    ]
    result = mine(_messages(later), [stored])
    assert result.assignments[:3] == [stored.pattern_id] * 3
    assert result.assignments[3] != stored.pattern_id
    gathered = next(p for p in result.patterns if p.pattern_id == stored.pattern_id)
    assert gathered.count == 3
    assert all(re.search(gathered.regex, text) for text in later[:3])


def test_blank_messages_get_no_pattern():
    result = mine(_messages(["", "   ", HUNKS[0]]))
    assert result.assignments[:2] == [None, None] and result.assignments[2] is not None


def test_failure_kinds_follow_the_issue_list():
    assert failure_kind("sqlite3.OperationalError: no such table: phases") == "database"
    assert failure_kind("Patch rejected - protected path violations") == "patch"
    assert failure_kind("Protected path violation: builder modified .git/config") == "policy_scope"
    assert failure_kind("pytest exited with code 1: 3 failed") == "ci_test"
    assert failure_kind("something odd happened") == "other"


REPORTED_TWICE = [
    "Failed to fetch run status: 500 Server Error: Internal Server Error for url: "
    "http://localhost:8000/runs/build127-phase1",
    "[Recovery] Fetch run status from API failed (attempt 1/4): HTTPError: 500 Server Error: "
    "Internal Server Error for url: http://localhost:8000/runs/p10-validation",
    "Failed to post builder result: 500 Server Error: Internal Server Error for url: "
    "http://localhost:8000/runs/r1/phases/fix-bcrypt/builder_result",
    "Failed to post builder result: 500 Server Error: Internal Server Error for url: "
    "http://localhost:8000/runs/r2/phases/fix-auth/builder_result",
    "[build130] Builder failed: name 'files' is not defined",
    "[Builder] Error parsing structured edit output: name 'files' is not defined",
    "Failed to write run_summary from executor: name 'models' is not defined",
    "sqlalchemy.orm.exc.ObjectDeletedError: Instance '<Category at 0x171f8473890>' has been "
    "deleted, or its row is otherwise not present.",
    "Instance '<ScenarioPack at 0x171f6882960>' has been deleted, or its row is otherwise not "
    "present.",
]


def test_a_reason_pattern_regex_finds_its_members_under_any_head_and_nothing_else():
    messages = _messages(REPORTED_TWICE)
    result = mine(messages)
    assert len(result.patterns) == 5
    by_id = {p.pattern_id: p for p in result.patterns}
    assert result.assignments[7] == result.assignments[8]
    assert by_id[result.assignments[4]].template == "name 'files' is not defined"
    assert by_id[result.assignments[0]].template == (
        "<*> Server Error: Internal Server Error for url: <url>/runs/<seg>"
    )
    for pattern in result.patterns:
        regex = re.compile(pattern.regex)
        for message, assigned in zip(messages, result.assignments, strict=True):
            assert bool(regex.search(message.text)) == (assigned == pattern.pattern_id), (
                pattern.pattern_id,
                message.text,
            )


# Values the reason stage reduces: code after a hunk header, a bare file name, a
# list the log did not keep, an aside the log cut off.
REDUCED = [
    "Lenient mode also failed: error: patch fragment without header at line 121: "
    "@@ -1,6 +1,6 @@ class Doctor:",
    "Strict patch check failed: error: patch fragment without header at line 58: "
    "@@ -2,3 +2,9 @@ app.add_middleware(",
    "Skipping package.json - cannot apply partial patch to existing file via direct write",
    "Skipping src/backend/core/config.py - cannot apply partial patch to existing file via "
    "direct write",
    "Missing 11 required deliverables",
    "[fileorg-p2-country-uk]    Missing 2 required deliverables:",
    "[PhaseFinalizer] BLOCK: CI collection/import error: tests/a/test_hooks.py (('C:\\dev\\a"
    "\\test_hooks.py', 5, 'Skipped: Research hooks tests temporarily",
    "[p1] Phase finalization BLOCKED: CI collection/import error: tests/a/test_hooks.py "
    "(('C:\\dev\\a\\test_hooks.py', 5, 'Skipped: Res",
]


def test_reduced_values_leave_regexes_that_find_exactly_their_members():
    messages = _messages(REDUCED)
    result = mine(messages)
    assert [result.assignments[i] == result.assignments[i + 1] for i in range(0, 8, 2)] == [
        True
    ] * 4
    assert len(result.patterns) == 4
    for pattern in result.patterns:
        regex = re.compile(pattern.regex)
        for message, assigned in zip(messages, result.assignments, strict=True):
            assert bool(regex.search(message.text)) == (assigned == pattern.pattern_id), (
                pattern.pattern_id,
                message.text,
            )


def test_a_regex_stays_fast_on_adversarial_input():
    """`<*>:<*>:<*>:x` once backtracked polynomially on a long run of colons (minutes
    for a few thousand characters); a detector must stay fast on any message. The
    search runs in a subprocess so a regression fails on the timeout, not hangs."""
    messages = _messages([f"{a}:{b}:{c}:x" for a, b, c in [(1, 2, 3), (4, 5, 6), (7, 8, 9)]])
    (pattern,) = mine(messages).patterns
    script = (
        "import re, sys; regex = re.compile(sys.argv[1]); "
        "print(bool(regex.search(':' * 200000 + 'y')), bool(regex.search(sys.argv[2])))"
    )
    finished = subprocess.run(
        [sys.executable, "-c", script, pattern.regex, "10:20:30:x"],
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=20,
    )
    assert finished.stdout.split() == ["False", "True"]


def test_mining_hostile_messages_stays_fast():
    """Long runs of clause separators, tokens, URLs and reprs once took from seconds
    to minutes to mine (one clause per `:` token, a regex per token): headlines keep
    their first HEADLINE_MAX_CHARS characters and the corpus stage reads at most
    MAX_CLAUSES clauses. In a subprocess, so a regression fails on the timeout."""
    script = (
        "from patterns.mining import FailureMessage, mine\n"
        "for run in [' :', 'E   ', ' at 0x', 'http://', '0:', '[a] ', '=a ']:\n"
        "    text = run * 20000\n"
        "    result = mine([FailureMessage(text=t) for t in (text, text + 'y', 'y' + text)])\n"
        "    assert all(result.assignments), run\n"
        "print('ok')\n"
    )
    finished = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=60,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert finished.stdout.strip() == "ok", finished.stderr


def test_a_long_headline_is_cut_at_a_space_and_its_regex_still_finds_it():
    long_tail = " ".join(f"word{i}" for i in range(1000))
    texts = [f"Builder failed: schema mismatch {n} {long_tail}" for n in range(3)]
    (pattern,) = mine(_messages(texts)).patterns
    assert len(pattern.template) <= HEADLINE_MAX_CHARS
    assert all(re.search(pattern.regex, text) for text in texts)


def test_a_line_anchored_regex_stays_fast_on_a_long_run_of_blanks():
    """The line-start anchor once let two quantifiers share a run of spaces after
    `E` or `=====` (quadratic); in a subprocess so a regression fails on the timeout."""
    # The short template is inside the longer messages: its regex gets line-anchored.
    texts = [f"cache miss for key k-{n}" for n in range(3)]
    texts += [f"warm-up: cache miss for key k-{n} ignored" for n in range(3)]
    result = mine(_messages(texts))
    anchored = [p.regex for p in result.patterns if p.regex.startswith("(?m)")]
    assert anchored
    script = (
        "import re, sys\n"
        "for regex in sys.argv[1:]:\n"
        "    for head in ('E', '=', ''):\n"
        "        assert not re.search(regex, head + ' ' * 200000 + 'zzz')\n"
        "print('ok')\n"
    )
    finished = subprocess.run(
        [sys.executable, "-c", script, *anchored],
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=30,
    )
    assert finished.stdout.strip() == "ok", finished.stderr


def test_a_pattern_takes_the_kind_most_members_show_in_any_order():
    # One reason under several reporters' heads; one head says "patch" by accident.
    texts = [
        "Failed to apply patch to filesystem: name 'files' is not defined",
        "[Builder] name 'files' is not defined",
        "Builder failed: name 'files' is not defined",
        "Error message: name 'files' is not defined",
    ]
    for ordered in (texts, texts[::-1]):
        result = mine([FailureMessage(text=text) for text in ordered])
        (pattern,) = result.patterns
        assert pattern.count == 4 and pattern.kind == "other"
    # A tie goes to the more specific kind (the one KIND_RULES lists first).
    tie = mine(
        [
            FailureMessage(text=text)
            for text in [
                "[Builder] server closed the connection unexpectedly",
                "psycopg2.OperationalError: server closed the connection unexpectedly",
            ]
        ]
    )
    assert [p.kind for p in tie.patterns] == ["database"]
