"""Masking, multi-line reduction and grouping on realistic Autopack failures (no database)."""

import subprocess
import sys
from pathlib import Path

import pytest

from patterns.mining import WILDCARD as W
from patterns.mining import (
    cluster,
    failure_parts,
    failure_reason,
    group_key,
    templates_for,
    tokenize,
)


@pytest.mark.parametrize(
    "text, expected",
    [
        (
            "Hunk #3 FAILED at 42 (offset 7 lines).",
            ["Hunk", W, "FAILED", "at", W, "(offset", W, "lines)."],
        ),
        ("lock 123e4567-e89b-12d3-a456-426614174000 held", ["lock", W, "held"]),
        ("commit 3f9a2c1d0b7e4a5f8c6d2e1b0a9f8e7d6c5b4a39 missing", ["commit", W, "missing"]),
        ("flags=0x1f set", ["flags=" + W, "set"]),
        ("connect to 10.251.73.220:50010 refused", ["connect", "to", W + ":" + W, "refused"]),
        # A URL keeps its path's shape: letters-only segments tell endpoints apart.
        (
            "GET https://api.example.com/v1/runs?x=1 failed",
            ["GET", "<url>/<seg>/runs?<seg>", "failed"],
        ),
        ("cannot open /workspace/src/autopack/llm_service.py", ["cannot", "open", W]),
        (r"cannot open C:\dev\Autopack\src\app.py now", ["cannot", "open", W, "now"]),
        ("value '7f3a' rejected", ["value", W, "rejected"]),
        # An object repr is one value, spaces and all.
        (
            "Instance '<Category at 0x171f8473890>' has been deleted",
            ["Instance", "'<obj>'", "has", "been", "deleted"],
        ),
        # A quoted identifier names what broke: it stays.
        ("name 'files' is not defined", ["name", "'files'", "is", "not", "defined"]),
        ("request timed out after 30s", ["request", "timed", "out", "after", W]),
        ("estimated size 5.2 KB, free 317.1 KB", ["estimated", "size", W + ",", "free", W]),
        ("run build130-phase0-circuit-breaker failed", ["run", W, "failed"]),
        ("clone telemetry-v7-replay-20261124-101500 queued", ["clone", W, "queued"]),
        ("at Fri Jun 17 07:07:00 2005", ["at", "Fri", W, W, f"{W}:{W}:{W}", W]),
        # A name with one trailing digit is a word, not a value.
        ("open through proxy SOCKS5", ["open", "through", "proxy", "SOCKS5"]),
        # A bare file name of a common type is a path; a dotted name is a word.
        ("Skipping package.json - cannot apply", ["Skipping", W, "-", "cannot", "apply"]),
        ("patch failed: pytest.ini:1", ["patch", "failed:", f"{W}:{W}"]),
        ("no attribute os.path here", ["no", "attribute", "os.path", "here"]),
        # A diff hunk header and the code context after it are one value.
        (
            "fragment without header at line 15: @@ -1,5 +1,6 @@ class Doctor:",
            ["fragment", "without", "header", "at", "line", f"{W}:", "<hunk>"],
        ),
    ],
)
def test_masking_replaces_whole_variable_tokens(text, expected):
    assert list(tokenize(text)) == expected


def test_traceback_reduces_to_exception_and_innermost_frames_without_line_numbers():
    traceback = (
        "Traceback (most recent call last):\n"
        '  File "/app/src/autopack/executor.py", line 812, in run_phase\n'
        "    result = builder.build(phase)\n"
        '  File "C:\\dev\\Autopack\\src\\autopack\\llm_service.py", line 97, in build\n'
        '    raise ValueError(f"bad scope {scope}")\n'
        "ValueError: bad scope src/x.py\n"
    )
    reduced = failure_parts(traceback)
    assert reduced == (
        "ValueError: bad scope src/x.py",
        ["executor.py:run_phase", "llm_service.py:build"],
    )
    moved = traceback.replace("line 812", "line 820").replace("line 97", "line 90")
    assert failure_parts(moved) == reduced


def test_pytest_output_reduces_to_the_error_line():
    output = (
        "______ ERROR collecting tests/test_executor.py ______\n"
        "ImportError while importing test module '/workspace/tests/test_executor.py'.\n"
        "E   ModuleNotFoundError: No module named 'tiktoken'\n"
    )
    assert failure_parts(output) == ("ModuleNotFoundError: No module named 'tiktoken'", [])


def test_single_line_and_crlf_messages():
    assert failure_parts("  patch does not apply  ") == ("patch does not apply", [])
    assert failure_parts("first line\r\nsecond error line\r\n") == ("second error line", [])
    assert failure_parts("") == ("", [])


AUTOPACK_FAILURES = [
    # (cause, message)
    ("hunk", "error: patch failed: src/autopack/executor.py:120"),
    ("hunk", "error: patch failed: src/backend/packs/australia_documents.py:1"),
    ("hunk", "error: patch failed: tests/test_llm.py:88"),
    ("truncated", "LLM output truncated at max_tokens=8192 while generating src/a.py"),
    ("truncated", "LLM output truncated at max_tokens=16384 while generating src/b/c.py"),
    ("truncated", "LLM output truncated at max_tokens=4096 while generating docs/x.md"),
    ("ci", "pytest exited with code 1: 3 failed, 120 passed in 12.30s"),
    ("ci", "pytest exited with code 1: 1 failed, 8 passed in 1.05s"),
    ("ci", "pytest exited with code 1: 12 failed, 400 passed in 240.00s"),
    ("timeout", "Anthropic API request timed out after 30s (attempt 1/3): httpx.ReadTimeout"),
    ("timeout", "Anthropic API request timed out after 120s (attempt 3/3): httpx.ReadTimeout"),
    ("timeout", "Anthropic API request timed out after 60s (attempt 2/3): httpx.ReadTimeout"),
]


def test_messages_of_one_cause_group_together_and_apart_from_others():
    keys = cluster([message for _, message in AUTOPACK_FAILURES])
    by_cause: dict[str, set[str]] = {}
    for (cause, _), key in zip(AUTOPACK_FAILURES, keys, strict=True):
        by_cause.setdefault(cause, set()).add(key)
    assert all(len(found) == 1 for found in by_cause.values()), by_cause
    assert len({next(iter(found)) for found in by_cause.values()}) == len(by_cause)


def test_messages_with_different_token_counts_can_share_a_pattern():
    keys = cluster(
        [
            "1190 bytes (1.16 KB) sent, lifetime 00:02",
            "0 bytes sent, lifetime 00:01",
            "451 bytes sent, lifetime 00:05",
            "20 bytes (20 B) sent, lifetime 00:03",
        ]
    )
    assert len(set(keys)) == 1


def test_many_distinct_words_in_a_column_are_a_variable_and_few_are_constants():
    users = [
        f"session closed for user {name}"
        for name in ["alice", "bob", "carol", "dave", "erin", "frank"] * 2
    ]
    verbs = ["service started", "service stopped"] * 6
    templates = templates_for([tokenize(text) for text in users + verbs])
    assert {templates[i] for i in range(len(users))} == {("session", "closed", "for", "user", W)}
    assert {templates[i] for i in range(len(users), len(users) + len(verbs))} == {
        ("service", "started"),
        ("service", "stopped"),
    }


def test_a_masked_value_covers_the_same_key_with_an_unmasked_value():
    texts = [
        f"auth failure; rhost={host} user=root"
        for host in ["10.0.0.1", "10.0.0.2", "troi.example.com", "10.0.0.9"]
    ]
    templates = templates_for([tokenize(text) for text in texts])
    assert set(templates) == {("auth", "failure;", "rhost=" + W, "user=root")}


def test_group_key_ignores_wildcards_but_not_keys():
    assert group_key(("a", W, "b", W)) == group_key(("a", "b"))
    assert group_key(("rhost=" + W,)) != group_key(())
    assert group_key((W, W)) == W


def test_cluster_is_deterministic_and_order_preserving():
    texts = [message for _, message in AUTOPACK_FAILURES]
    assert cluster(texts) == cluster(list(texts))
    assert cluster(list(reversed(texts))) == list(reversed(cluster(texts)))


@pytest.mark.parametrize(
    ("headline", "reason"),
    [
        ("[Builder] [phase-3] churn_limit_exceeded: 39.3%", "churn_limit_exceeded: 39.3%"),
        ("❌ Quality gate blocked: BLOCKED", "Quality gate blocked: BLOCKED"),
        # Decorations nest in any order and number: an errno tag after the class too.
        (
            "FAILED tests/test_x.py::test_y - FileNotFoundError: [Errno 2] No such file",
            "No such file",
        ),
        (
            "2026-02-03 10:41:07,118 ERROR autopack.llm: ❌ [CI] ERROR: HTTPError: boom now",
            "boom now",
        ),
        (
            r"C:\Python\Lib\site-packages\sqlalchemy\engine\default.py:951: "
            "sqlalchemy.exc.OperationalError: (sqlite3.OperationalError) no such table: docs",
            "no such table: docs",
        ),
        ("AssertionError: assert WindowsPath('C:/x') == WindowsPath('C:/y')", f"assert {W}"),
        # A pytest summary is its failure count; the other counts vary by run.
        (
            "===== 20 failed, 239 passed, 129 skipped, 6 warnings in 142.02s (0:02:22) =====",
            "20 failed,",
        ),
        ("= 1 failed in 0.91s =", "1 failed"),
        ("2 failed, 33 passed, 1 error in 11.15s", "2 failed,"),
        # Nothing left after the class name: the class name is the reason.
        ("KeyError: ", "KeyError: "),
        ("plain words stay", "plain words stay"),
        # A log line cut off inside a bracketed aside keeps what precedes the aside;
        # a call's bracket (`add_middleware(`) is not an aside.
        (
            "BLOCK: CI collection/import error: tests/a.py (('C:\\a.py', 5, 'Skipped: Res",
            "BLOCK: CI collection/import error: tests/a.py",
        ),
        ("CI error (exit 4) in tests/a.py", "CI error (exit 4) in tests/a.py"),
        (
            "at line 58: @@ -2,3 +2,9 @@ app.add_middleware(",
            "at line 58: @@ -2,3 +2,9 @@ app.add_middleware(",
        ),
        ("error ((unclosed", "error ((unclosed"),
    ],
)
def test_failure_reason_drops_the_reporters_decorations(headline, reason):
    assert failure_reason(headline) == reason


def _groups(texts):
    keys = cluster(texts)
    groups: dict[str, list[int]] = {}
    for index, key in enumerate(keys):
        groups.setdefault(key, []).append(index)
    return sorted(groups.values())


def test_one_reason_under_different_heads_is_one_pattern():
    texts = [
        "Failed to fetch run status: 500 Server Error: Internal Server Error for url: "
        "http://localhost:8000/runs/build127-phase1",
        "Error message: 500 Server Error: Internal Server Error for url: "
        "http://localhost:8000/runs/fileorg-beta",
        "[Recovery] Fetch run status from API failed (attempt 1/4): HTTPError: 500 Server Error: "
        "Internal Server Error for url: http://localhost:8000/runs/p10-validation",
        # Same error, another endpoint: another cause.
        "Failed to post builder result: 500 Server Error: Internal Server Error for url: "
        "http://localhost:8000/runs/r1/phases/fix-bcrypt/builder_result",
        "Failed to post builder result: 500 Server Error: Internal Server Error for url: "
        "http://localhost:8000/runs/r2/phases/fix-auth/builder_result",
    ]
    assert _groups(texts) == [[0, 1, 2], [3, 4]]


def test_a_shared_head_does_not_merge_different_reasons():
    texts = [
        "[a] Failed to apply patch to filesystem: error: patch failed: src/x.py:1",
        "Lenient mode also failed: error: patch failed: src/y.py:1",
        "[b] Failed to apply patch to filesystem: error: corrupt patch at line 77",
        "Patch check failed: error: corrupt patch at line 26",
        "[c] Failed to apply patch to filesystem: temp_patch.diff:6: trailing whitespace.",
        "temp_patch.diff:7: trailing whitespace.",
        # A `file:line:` clause is where, not what: the reason starts after it.
        "Failed to apply patch: temp_patch.diff:6: trailing whitespace.",
    ]
    assert _groups(texts) == [[0, 1], [2, 3], [4, 5, 6]]


def test_quoted_identifiers_tell_causes_apart():
    texts = [
        "[Builder] Error parsing structured edit output: name 'files' is not defined",
        "[build130] Builder failed: name 'files' is not defined",
        "Failed to write run_summary from executor: name 'models' is not defined",
    ]
    assert _groups(texts) == [[0, 1], [2]]


def test_a_free_text_tail_after_a_shared_prefix_is_cut():
    rationales = [
        "Critical health budget exhaustion: 13 patch failures out of 22 total failures",
        "The run has accumulated 9 total failures with 7 patch failures, a systemic issue",
        "Health budget exceeded: 26 total failures against a cap of 25",
        "16 patch failures out of 25 total budget with only 2 builder attempts",
    ]
    texts = [
        f"[Doctor] Action: rollback_run - aborting run phase3-{i}. Rationale: {why}"
        for i, why in enumerate(rationales)
    ]
    texts.append("[Doctor] Invocation failed: too many values to unpack (expected 2)")
    assert _groups(texts) == [[0, 1, 2, 3], [4]]


def test_code_after_a_hunk_header_does_not_split_a_patch_failure():
    texts = [
        "Lenient mode also failed: error: patch fragment without header at line 121: "
        "@@ -1,6 +1,6 @@ class Doctor:",
        "Strict patch check failed: error: patch fragment without header at line 58: "
        "@@ -2,3 +2,9 @@ app.add_middleware(",
        "Direct file write also failed: error: patch fragment without header at line 26: "
        "@@ -8,6 +8,6 @@",
        "Patch check failed: error: corrupt patch at line 26",
        "Direct file write also failed: error: corrupt patch at line 7",
    ]
    assert _groups(texts) == [[0, 1, 2], [3, 4]]


def test_a_list_introduced_by_a_colon_is_the_same_failure_without_its_list():
    texts = [
        "Missing 11 required deliverables",
        "[fileorg-p2-country-uk]    Missing 2 required deliverables:",
        "Missing 3 required deliverables",
        "Missing 1 optional note",
    ]
    assert _groups(texts) == [[0, 1, 2], [3]]


def test_one_reason_cut_off_at_different_lengths_is_one_pattern():
    path = "tests/autopack/test_research_hooks.py (('C:\\dev\\tests\\test_research_hooks.py'"
    texts = [
        f"[PROBE] Failure reason: DOCTOR_SKIP: CI collection/import error: {path}, 5, 'Skipped",
        f"[PhaseFinalizer] BLOCK: CI collection/import error: {path}, 5, 'Skipped: Research hooks",
        f"[p1] Phase finalization BLOCKED: CI collection/import error: {path}, 5, 'Skipped: Res",
        "[p2] Phase finalization BLOCKED: Protected path: src/autopack/governed_apply.py",
    ]
    assert _groups(texts) == [[0, 1, 2], [3]]


def test_grouping_stays_fast_on_a_hostile_token(tmp_path):
    """A masked value (`<*>:<*>:<*>:q`) tested against a long run of colons in the
    same column must not backtrack polynomially; run in a subprocess with a timeout
    so a regression fails instead of hanging the suite."""
    script = (
        "from patterns.mining import cluster; "
        "texts = ['key 1:2:3:q', 'key 4:5:6:q', 'key ' + ':' * 50000 + 'y']; "
        "keys = cluster(texts); print(keys[0] == keys[1], keys[0] == keys[2])"
    )
    finished = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=30,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert finished.stdout.split() == ["True", "False"], finished.stderr
