"""A deterministic, realistic demo data set for newcomers, screenshots and tests.

Runs in every state over the last 60 days; failed phases carry the failure
messages Autopack really produces (patch hunks that do not apply, output
truncated at max_tokens, pytest summaries, import errors during collection, API
timeouts, protected-path violations); ledger rows in all four categories; and
experiment metadata with matching and mismatching SHAs for A/B comparisons.
"""

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from metrics.models import DashboardEvent, Phase, PhaseMetrics, Run, Tier

EventType = DashboardEvent.EventType

MODULES = [
    "executor",
    "governed_apply",
    "llm_service",
    "memory/retrieval",
    "dashboard",
    "ci/pytest_runner",
]
PACKAGES = [
    "qdrant_client",
    "tiktoken",
    "autopack.phase6",
    "sentence_transformers",
    "pydantic_settings",
]
MODELS = ["claude-sonnet-4-5", "claude-opus-4-1", "gpt-5", "glm-4.6"]
BRANCHES = ["main", "phase6-telemetry", "consolidated-metrics"]
COMMITS = ["3f9a2c1d0b7e4a5f8c6d2e1b0a9f8e7d6c5b4a39", "9b1e7d3c5a2f4e6b8d0c1a3e5f7b9d2c4e6a8b01"]
MODEL_HASHES = ["mm-5d41402abc4b2a76", "mm-7d793037a0760186"]
GOALS = [
    "Add Phase 6 telemetry to the executor",
    "Consolidate token metrics without double counting",
    "Harden governed apply against protected paths",
    "Cut retrieval tokens by caching embeddings",
]
PHASE_NAMES = [
    ("plan", "Plan the change", "planning"),
    ("impl", "Implement the feature", "feature"),
    ("tests", "Write and fix tests", "testing"),
    ("docs", "Update the docs", "docs"),
    ("ci", "Make CI green", "ci"),
]


@dataclass(frozen=True)
class DemoFailure:
    event_type: str
    message: str


FAILURE_KINDS = 6


def _failure(rng: random.Random, kind: int) -> DemoFailure:
    module = rng.choice(MODULES)
    path = f"src/autopack/{module}.py"
    line = rng.randint(12, 900)
    if kind == 0:
        hunk = rng.randint(1, 7)
        return DemoFailure(
            EventType.PATCH_FAILED,
            f"error: patch failed: {path}:{line}\n"
            f"error: {path}: patch does not apply\n"
            f"Hunk #{hunk} FAILED at {line} (offset {rng.randint(1, 40)} lines).",
        )
    if kind == 1:
        max_tokens = rng.choice([4096, 8192, 16384])
        return DemoFailure(
            EventType.BUILDER_ERROR,
            f"LLM output truncated at max_tokens={max_tokens} (stop_reason=max_tokens) "
            f"while generating {path}; received {max_tokens} tokens, JSON incomplete",
        )
    if kind == 2:
        failed, passed = rng.randint(1, 9), rng.randint(20, 400)
        seconds = rng.uniform(3, 240)
        return DemoFailure(
            EventType.CI_FAILED,
            f"pytest exited with code 1: {failed} failed, {passed} passed in {seconds:.2f}s",
        )
    if kind == 3:
        test_module = rng.choice(["test_executor", "test_llm_service", "test_retrieval"])
        package = rng.choice(PACKAGES)
        return DemoFailure(
            EventType.CI_FAILED,
            f"ERROR collecting tests/{test_module}.py\n"
            f"ImportError while importing test module '/workspace/tests/{test_module}.py'.\n"
            f"E   ModuleNotFoundError: No module named '{package}'",
        )
    if kind == 4:
        timeout = rng.choice([30, 60, 120])
        return DemoFailure(
            EventType.API_ERROR,
            f"Anthropic API request timed out after {timeout}s "
            f"(attempt {rng.randint(1, 3)}/3): httpx.ReadTimeout",
        )
    protected = rng.choice([".git/config", "src/autopack/config.py", ".autonomous_runs/lock"])
    return DemoFailure(
        EventType.POLICY_VIOLATION,
        f"Protected path violation: builder attempted to modify {protected} "
        f"outside the allowed scope ['{path}']",
    )


def _phase_states_for(run_state: str, phase_count: int, rng: random.Random) -> list[str]:
    done = Phase.State.COMPLETE
    if run_state == Run.State.DONE_SUCCESS:
        return [done] * (phase_count - 1) + [rng.choice([done, Phase.State.SKIPPED])]
    if run_state.startswith("DONE_FAILED_"):
        failed_at = rng.randrange(phase_count)
        return (
            [done] * failed_at
            + [Phase.State.FAILED]
            + [Phase.State.SKIPPED] * (phase_count - failed_at - 1)
        )
    if run_state in (
        Run.State.PHASE_EXECUTION,
        Run.State.GATE,
        Run.State.CI_RUNNING,
        Run.State.SNAPSHOT_CREATED,
    ):
        running = rng.randrange(phase_count)
        current = {
            Run.State.GATE: Phase.State.GATE,
            Run.State.CI_RUNNING: Phase.State.CI_RUNNING,
        }.get(run_state, Phase.State.EXECUTING)
        states = [done] * running + [current] + [Phase.State.QUEUED] * (phase_count - running - 1)
        # A phase that failed earlier and will be retried keeps the demo honest.
        if running and rng.random() < 0.4:
            states[0] = Phase.State.FAILED
        return states
    return [Phase.State.QUEUED] * phase_count


def demo_run_id(seed: int, index: int) -> str:
    return f"demo-{seed}-{index:03d}"


@transaction.atomic
def demo_data_seed(*, runs: int = 40, seed: int = 7, now: datetime | None = None) -> dict[str, int]:
    """Replace the demo runs (ids `demo-<seed>-<n>`) with a fresh deterministic set.

    Returns counts of what was written. Running it twice leaves the same data.
    """
    rng = random.Random(seed)
    now = now or timezone.now()
    run_ids = [demo_run_id(seed, index) for index in range(runs)]
    Run.objects.filter(pk__in=run_ids).delete()

    states = list(Run.State.values)
    new_tiers, new_phases, ledger, events = [], [], [], []
    run_objects = []
    for index, run_id in enumerate(run_ids):
        # Every state appears at least once; failures are over-represented, as in life.
        state = states[index] if index < len(states) else rng.choice(states + Run.State.failed())
        created_at = now - timedelta(days=rng.uniform(0, 60))
        started = state not in (
            Run.State.QUEUED,
            Run.State.PLAN_BOOTSTRAP,
            Run.State.RUN_CREATED,
            Run.State.PHASE_QUEUEING,
        )
        started_at = created_at + timedelta(minutes=rng.uniform(1, 10)) if started else None
        completed_at = (
            started_at + timedelta(minutes=rng.uniform(5, 110))
            if started and state.startswith("DONE_")
            else None
        )
        # Runs 2k and 2k+1 (Phase 6 on and off) mostly share code and model mapping,
        # so they pair into valid A/B comparisons; a few do not.
        commit = COMMITS[(index // 2) % 2 if rng.random() < 0.8 else rng.randrange(2)]
        run = Run(
            id=run_id,
            state=state,
            created_at=created_at,
            started_at=started_at,
            completed_at=completed_at,
            safety_profile=rng.choice(Run.SafetyProfile.values),
            run_scope=Run.Scope.MULTI_TIER,
            goal_anchor=rng.choice(GOALS),
            git_commit_sha=None if index % 17 == 16 else commit,
            git_branch=rng.choice(BRANCHES),
            model_mapping_hash=MODEL_HASHES[0] if rng.random() < 0.85 else MODEL_HASHES[1],
            feature_flags={
                "phase6_metrics": index % 2 == 0,
                "consolidated_metrics": index % 4 == 0,
            },
        )
        run_objects.append(run)

    Run.objects.bulk_create(run_objects)
    for run in run_objects:
        tier_count = rng.randint(1, 2)
        tiers = [
            Tier(
                run=run,
                tier_id=f"T{number + 1}",
                tier_index=number,
                name=f"Tier {number + 1}",
                created_at=run.created_at,
            )
            for number in range(tier_count)
        ]
        new_tiers.extend(tiers)
    Tier.objects.bulk_create(new_tiers)

    tiers_by_run: dict[str, list[Tier]] = {}
    for tier in new_tiers:
        tiers_by_run.setdefault(tier.run_id, []).append(tier)
    for run in run_objects:
        phase_count = rng.randint(3, 5)
        phase_states = _phase_states_for(run.state, phase_count, rng)
        tiers = tiers_by_run[run.pk]
        failure_for_run = None
        for number, phase_state in enumerate(phase_states):
            slug, name, category = PHASE_NAMES[number % len(PHASE_NAMES)]
            attempts = rng.randint(1, 3) if phase_state != Phase.State.QUEUED else 0
            # A failed phase fails the same way on each attempt, with different details.
            kind = rng.randrange(FAILURE_KINDS)
            failures = (
                [_failure(rng, kind) for _ in range(attempts)]
                if phase_state == Phase.State.FAILED
                else []
            )
            failure = failures[-1] if failures else None
            failure_for_run = failure or failure_for_run
            phase = Phase(
                run=run,
                tier=tiers[min(number * len(tiers) // phase_count, len(tiers) - 1)],
                phase_id=f"{run.pk}-phase{number}-{slug}",
                phase_index=number,
                name=name,
                state=phase_state,
                task_category=category,
                complexity=rng.choice(["low", "medium", "high"]),
                builder_mode=rng.choice(["tweak_light", "scaffolding_heavy", "default"]),
                scope={
                    "paths": [f"src/autopack/{rng.choice(MODULES)}.py"],
                    "read_only_context": [],
                },
                builder_attempts=attempts,
                last_failure_reason=failure.message if failure else "",
                created_at=run.created_at,
                started_at=run.started_at if phase_state != Phase.State.QUEUED else None,
                completed_at=run.completed_at,
            )
            new_phases.append((phase, failures))
        if failure_for_run and run.state.startswith("DONE_FAILED_"):
            run.failure_reason = failure_for_run.message.splitlines()[-1]
    Phase.objects.bulk_create([phase for phase, _ in new_phases])
    Run.objects.bulk_update([run for run in run_objects if run.failure_reason], ["failure_reason"])

    for phase, failures in new_phases:
        moment = phase.started_at or phase.created_at
        for attempt in range(1, phase.builder_attempts + 1):
            ledger.append(
                PhaseMetrics(
                    run_id=phase.run_id,
                    phase=phase,
                    attempt=attempt,
                    retrieval_tokens=rng.randint(0, 40_000),
                    second_opinion_tokens=rng.choice([0, rng.randint(500, 12_000)]),
                    evidence_request_tokens=rng.choice([0, 0, rng.randint(100, 3_000)]),
                    base_tokens=rng.randint(2_000, 90_000),
                    model=rng.choice(MODELS),
                    duration_seconds=round(rng.uniform(5, 600), 2),
                    created_at=moment + timedelta(minutes=attempt),
                )
            )
        if failures:
            for attempt, failure in enumerate(failures, start=1):
                events.append(
                    DashboardEvent(
                        run_id=phase.run_id,
                        phase=phase,
                        event_type=failure.event_type,
                        message=failure.message,
                        created_at=moment + timedelta(minutes=attempt),
                    )
                )
            events.append(
                DashboardEvent(
                    run_id=phase.run_id,
                    phase=phase,
                    event_type=EventType.PHASE_FAILED,
                    message=failures[-1].message,
                    created_at=moment + timedelta(minutes=len(failures)),
                )
            )
        elif phase.state == Phase.State.COMPLETE:
            events.append(
                DashboardEvent(
                    run_id=phase.run_id,
                    phase=phase,
                    event_type=EventType.PHASE_COMPLETE,
                    message=f"Phase {phase.phase_id} complete",
                    created_at=moment,
                )
            )
    PhaseMetrics.objects.bulk_create(ledger, batch_size=1000)
    DashboardEvent.objects.bulk_create(events, batch_size=1000)
    return {
        "runs": len(run_objects),
        "tiers": len(new_tiers),
        "phases": len(new_phases),
        "ledger_rows": len(ledger),
        "events": len(events),
    }
