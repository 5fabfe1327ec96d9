"""How `patterns.mining.mine()` scales: time and memory on synthetic failures.

    python -m patterns.benchmarks.scale --messages 100000 [--memory]

Generates Autopack-shaped failure messages (one cause reported under several heads,
tracebacks, pytest output, URLs, free-text rationales, ids and paths that vary),
mines them once as fresh data and once against the patterns found (the stable-id
path a re-run takes), and prints the figures. Deterministic for a given --seed.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
import tracemalloc
from datetime import UTC, datetime, timedelta

from patterns.mining import FailureMessage, KnownPattern, mine

HEADS = [
    "",
    "[Builder] ",
    "Failed to apply patch to filesystem: ",
    "Error message: ",
    "[Recovery] Fetch run status from API failed (attempt 1/4): ",
]
PACKAGES = ["tiktoken", "qdrant_client", "httpx", "anthropic", "pydantic", "sqlalchemy"]
# Doctor rationales are LLM free text: rarely the same twice.
RATIONALE_OPENINGS = [
    "The run has accumulated {n} total failures",
    "Health budget exceeded:",
    "Critical failure threshold reached: {n}/25 total failures",
    "{m} patch failures across the run",
]
RATIONALE_DETAILS = [
    "with {m} patch failures",
    "indicating a systemic issue",
    "against a cap of 25",
    "and only {k} builder attempts left",
    "in phase {phase}",
    "so one more failure ends the run",
    "which points at the patch strategy",
]


def _rationale(rng: random.Random) -> str:
    words = [rng.choice(RATIONALE_OPENINGS), *rng.sample(RATIONALE_DETAILS, rng.randint(1, 4))]
    return " ".join(words).format(
        n=rng.randint(5, 26),
        m=rng.randint(1, 15),
        k=rng.randint(1, 4),
        phase=rng.choice(["fix-auth", "docs-sync", "api-router"]),
    )


def _message(rng: random.Random, index: int) -> str:
    run = (
        f"build{rng.randint(100, 140)}-phase{rng.randint(0, 9)}-{rng.choice(['api', 'ci', 'docs'])}"
    )
    kind = index % 8
    head = rng.choice(HEADS)
    if kind == 0:
        path = f"src/autopack/{rng.choice(PACKAGES)}.py"
        return f"{head}error: patch failed: {path}:{rng.randint(1, 900)}"
    if kind == 1:
        return (
            f"[TOKEN_BUDGET] TRUNCATION: phase={run} used {rng.choice([8192, 16384])}/"
            f"{rng.choice([8192, 16384])} tokens (100% utilization)"
        )
    if kind == 2:
        return (
            f'Traceback (most recent call last):\n  File "/srv/autopack/{run}/executor.py", '
            f"line {rng.randint(10, 999)}, in execute_phase\n    result = builder.run()\n"
            f"ModuleNotFoundError: No module named '{rng.choice(PACKAGES)}'"
        )
    if kind == 3:
        return (
            f"{head}500 Server Error: Internal Server Error for url: "
            f"http://localhost:{rng.randint(8000, 8100)}"
            f"/runs/{run}/phases/p{index % 50}/builder_result"
        )
    if kind == 4:
        return (
            f"= {rng.randint(1, 60)} failed, {rng.randint(10, 1500)} passed in "
            f"{rng.uniform(1, 300):.2f}s ="
        )
    if kind == 5:
        return f"[Doctor] Action: rollback_run - aborting run {run}. Rationale: " + _rationale(rng)
    if kind == 6:
        return (
            f"[Isolation] BLOCKED: Patch attempts to modify protected path: "
            f"src/autopack/{rng.choice(PACKAGES)}/{rng.choice(['config', 'main'])}.py"
        )
    return f"{head}name '{rng.choice(['files', 'models'])}' is not defined"


def synthetic_failures(count: int, seed: int) -> list[FailureMessage]:
    rng = random.Random(seed)
    start = datetime(2026, 11, 1, tzinfo=UTC)
    return [
        FailureMessage(
            text=_message(rng, index),
            run_id=f"run-{index % 5000}",
            created_at=start + timedelta(seconds=index),
        )
        for index in range(count)
    ]


def _timed(function, memory: bool):
    if memory:
        tracemalloc.start()
    started = time.perf_counter()
    result = function()
    elapsed = time.perf_counter() - started
    peak = tracemalloc.get_traced_memory()[1] if memory else None
    if memory:
        tracemalloc.stop()
    return result, elapsed, peak


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--memory", action="store_true", help="also trace peak Python memory (slows the run down)"
    )
    options = parser.parse_args(argv)
    if options.messages < 1:
        parser.error("--messages must be at least 1")
    messages = synthetic_failures(options.messages, options.seed)

    fresh, fresh_seconds, fresh_peak = _timed(lambda: mine(messages), options.memory)
    known = [KnownPattern(p.pattern_id, p.regex) for p in fresh.patterns]
    _, known_seconds, known_peak = _timed(lambda: mine(messages, known), options.memory)

    print(f"messages: {len(messages):,}; patterns: {len(fresh.patterns)}")
    for label, seconds, peak in [
        ("fresh data", fresh_seconds, fresh_peak),
        ("against stored patterns", known_seconds, known_peak),
    ]:
        memory = f", peak {peak / 2**20:,.0f} MiB traced" if peak is not None else ""
        print(f"mine() {label}: {seconds:.2f} s, {len(messages) / seconds:,.0f} messages/s{memory}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
