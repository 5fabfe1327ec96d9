"""Masking, multi-line reduction and grouping on realistic Autopack failures (no database)."""

import pytest

from patterns.mining import WILDCARD as W
from patterns.mining import cluster, failure_text, group_key, templates_for, tokenize


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Hunk #3 FAILED at 42 (offset 7 lines).", ["Hunk", W, "FAILED", "at", W,
                                                    "(offset", W, "lines)."]),
        ("lock 123e4567-e89b-12d3-a456-426614174000 held", ["lock", W, "held"]),
        ("commit 3f9a2c1d0b7e4a5f8c6d2e1b0a9f8e7d6c5b4a39 missing", ["commit", W, "missing"]),
        ("flags=0x1f set", ["flags=" + W, "set"]),
        ("connect to 10.251.73.220:50010 refused", ["connect", "to", W + ":" + W, "refused"]),
        ("GET https://api.example.com/v1/runs?x=1 failed", ["GET", W, "failed"]),
        ("cannot open /workspace/src/autopack/llm_service.py", ["cannot", "open", W]),
        (r"cannot open C:\dev\Autopack\src\app.py now", ["cannot", "open", W, "now"]),
        ("No module named 'qdrant_client'", ["No", "module", "named", W]),
        ("request timed out after 30s", ["request", "timed", "out", "after", W]),
        ("estimated size 5.2 KB, free 317.1 KB", ["estimated", "size", W + ",", "free", W]),
        ("run build130-phase0-circuit-breaker failed", ["run", W, "failed"]),
        ("clone telemetry-v7-replay-20261124-101500 queued", ["clone", W, "queued"]),
        ("at Fri Jun 17 07:07:00 2005", ["at", "Fri", W, W, f"{W}:{W}:{W}", W]),
        # A name with one trailing digit is a word, not a value.
        ("open through proxy SOCKS5", ["open", "through", "proxy", "SOCKS5"]),
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
        "    raise ValueError(f\"bad scope {scope}\")\n"
        "ValueError: bad scope src/x.py\n"
    )
    reduced = failure_text(traceback)
    assert reduced == ("ValueError: bad scope src/x.py at executor.py:run_phase "
                       "at llm_service.py:build")
    moved = traceback.replace("line 812", "line 820").replace("line 97", "line 90")
    assert failure_text(moved) == reduced


def test_pytest_output_reduces_to_the_error_line():
    output = (
        "______ ERROR collecting tests/test_executor.py ______\n"
        "ImportError while importing test module '/workspace/tests/test_executor.py'.\n"
        "E   ModuleNotFoundError: No module named 'tiktoken'\n"
    )
    assert failure_text(output) == "ModuleNotFoundError: No module named 'tiktoken'"


def test_single_line_and_crlf_messages():
    assert failure_text("  patch does not apply  ") == "patch does not apply"
    assert failure_text("first line\r\nsecond error line\r\n") == "second error line"
    assert failure_text("") == ""


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
    for (cause, _), key in zip(AUTOPACK_FAILURES, keys):
        by_cause.setdefault(cause, set()).add(key)
    assert all(len(found) == 1 for found in by_cause.values()), by_cause
    assert len({next(iter(found)) for found in by_cause.values()}) == len(by_cause)


def test_messages_with_different_token_counts_can_share_a_pattern():
    keys = cluster([
        "1190 bytes (1.16 KB) sent, lifetime 00:02",
        "0 bytes sent, lifetime 00:01",
        "451 bytes sent, lifetime 00:05",
        "20 bytes (20 B) sent, lifetime 00:03",
    ])
    assert len(set(keys)) == 1


def test_many_distinct_words_in_a_column_are_a_variable_and_few_are_constants():
    users = [f"session closed for user {name}" for name in
             ["alice", "bob", "carol", "dave", "erin", "frank"] * 2]
    verbs = ["service started", "service stopped"] * 6
    templates = templates_for([tokenize(text) for text in users + verbs])
    assert {templates[i] for i in range(len(users))} == {
        ("session", "closed", "for", "user", W)}
    assert {templates[i] for i in range(len(users), len(users) + len(verbs))} == {
        ("service", "started"), ("service", "stopped")}


def test_a_masked_value_covers_the_same_key_with_an_unmasked_value():
    texts = [f"auth failure; rhost={host} user=root" for host in
             ["10.0.0.1", "10.0.0.2", "troi.example.com", "10.0.0.9"]]
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
