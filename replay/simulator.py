"""A demo executor for people without Autopack: drives one run through the executor
routes over HTTP as Autopack's executor does. Plain Python (no Django).

Per phase, in order: `update_status` EXECUTING, a builder result, one ledger row of
the four token categories, an auditor result, then `update_status` COMPLETE. A run
that does not recover has one phase fail with a realistic Autopack message (also
posted as a failure event); the phases after it are SKIPPED, as the executor stops
there. Deterministic for a seed: the same run and seed make the same calls.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass

from autopack_site.ops.http import HttpReply, JsonClient

# Realistic Autopack failures, by the event type the executor reports them under.
FAILURES = [
    ("PATCH_FAILED", "error: patch failed: src/autopack/{module}.py:{line}"),
    (
        "BUILDER_ERROR",
        "LLM output truncated at max_tokens={limit} (stop_reason=max_tokens) while generating "
        "src/autopack/{module}.py; received {limit} tokens, JSON incomplete",
    ),
    ("CI_FAILED", "pytest exited with code 1: {count} failed, {passed} passed in {seconds}s"),
    ("BUILDER_ERROR", "ModuleNotFoundError: No module named '{package}'"),
    (
        "POLICY_VIOLATION",
        "Protected path violation: builder attempted to modify .git/{protected}",
    ),
]
MODULES = ["executor", "governed_apply", "llm_service", "autonomous_executor", "config_loader"]
PACKAGES = ["yaml", "tiktoken", "qdrant_client", "psutil"]


class SimulationError(RuntimeError):
    """The server refused a call; the message names it."""


@dataclass(frozen=True)
class SimulationResult:
    run_id: str
    recovered: bool
    phases: int
    failed_phase: str | None


def failure_message(rng: random.Random) -> tuple[str, str]:
    event_type, template = rng.choice(FAILURES)
    return event_type, template.format(
        module=rng.choice(MODULES),
        line=rng.randint(10, 900),
        limit=rng.choice([4096, 8192, 16384]),
        count=rng.randint(1, 12),
        passed=rng.randint(20, 900),
        seconds=f"{rng.uniform(2, 300):.2f}",
        package=rng.choice(PACKAGES),
        protected=rng.choice(["config", "HEAD", "hooks/pre-commit"]),
    )


def simulate_run(
    client: JsonClient,
    run_id: str,
    *,
    seed: int = 0,
    recover_rate: float = 0.5,
    report: Callable[[str], None] = lambda line: None,
) -> SimulationResult:
    rng = random.Random(f"{seed}:{run_id}")

    def call(method: str, path: str, body: object = None, expected=(200, 201)) -> HttpReply:
        reply = client.request(method, path, body)
        if reply.status not in expected:
            raise SimulationError(f"{method} {path}: HTTP {reply.status} {reply.body}")
        return reply

    run = call("GET", f"/runs/{run_id}").body
    phases = sorted(run["phases"], key=lambda phase: (phase["phase_index"], phase["id"]))
    recovered = rng.random() < recover_rate
    failing = None if recovered or not phases else rng.choice(phases)["phase_id"]
    stopped = False
    for phase in phases:
        base = f"/runs/{run_id}/phases/{phase['phase_id']}"
        if stopped:
            call("POST", f"{base}/update_status", {"state": "SKIPPED"})
            continue
        call("POST", f"{base}/update_status", {"state": "EXECUTING", "builder_attempts": 1})
        fails = phase["phase_id"] == failing
        source = f"src/{phase['phase_id']}.py"
        call(
            "POST",
            f"{base}/builder_result",
            {
                "status": "failed" if fails else "success",
                "patch_content": f"--- a/{source}\n+++ b/{source}\n",
                "files_changed": [source],
                "lines_added": rng.randint(1, 120),
                "lines_removed": rng.randint(0, 40),
                "builder_attempts": 1,
                "duration_minutes": round(rng.uniform(0.2, 6.0), 2),
            },
        )
        call(
            "POST",
            f"/api/v1/runs/{run_id}/metrics/",
            [
                {
                    "phase_id": phase["phase_id"],
                    "attempt": 1,
                    "retrieval_tokens": rng.randint(200, 4000),
                    "second_opinion_tokens": rng.randint(0, 2000),
                    "evidence_request_tokens": rng.randint(0, 1500),
                    "base_tokens": rng.randint(2000, 30000),
                    "model": "claude-sonnet-4-5",
                    "duration_seconds": round(rng.uniform(5, 300), 1),
                }
            ],
        )
        if fails:
            event_type, message = failure_message(rng)
            call(
                "POST",
                f"/api/v1/runs/{run_id}/events/",
                [{"event_type": event_type, "phase_id": phase["phase_id"], "message": message}],
            )
            call(
                "POST",
                f"{base}/update_status",
                {"state": "FAILED", "last_failure_reason": message},
            )
            report(f"{phase['phase_id']}: FAILED ({message})")
            stopped = True
            continue
        call(
            "POST",
            f"{base}/auditor_result",
            {"review_notes": "Looks right.", "recommendation": "approve", "confidence": "high"},
        )
        call("POST", f"{base}/update_status", {"state": "COMPLETE"})
        report(f"{phase['phase_id']}: COMPLETE")
    return SimulationResult(
        run_id=run_id, recovered=failing is None, phases=len(phases), failed_phase=failing
    )
