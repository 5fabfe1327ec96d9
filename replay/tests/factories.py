"""Failed runs worth replaying: a run with two tiers, three phases, ledger and events."""

from datetime import timedelta

from django.utils import timezone

from metrics.models import Phase, Run
from metrics.tests.factories import (
    DashboardEventFactory,
    PhaseFactory,
    PhaseMetricsFactory,
    RunFactory,
    TierFactory,
)
from replay import services
from replay.models import ReplayCampaign


def failed_run(run_id: str | None = None, *, created_at=None, state=None, **fields) -> Run:
    """A finished, failed run as an executor leaves it: phases done or failed, counters,
    timestamps, tokens and a failure event."""
    now = created_at or timezone.now() - timedelta(days=1)
    run = RunFactory(
        **({"id": run_id} if run_id else {}),
        failed=True,
        state=state or Run.State.DONE_FAILED_REQUIRES_HUMAN_REVIEW,
        created_at=now,
        started_at=now,
        completed_at=now + timedelta(minutes=30),
        safety_profile=Run.SafetyProfile.SAFETY_CRITICAL,
        token_cap=777_000,
        max_phases=9,
        max_duration_minutes=45,
        goal_anchor="make the build green",
        feature_flags={"phase6_metrics": False, "consolidated_metrics": False},
        **fields,
    )
    first, second = TierFactory(run=run, tier_index=0), TierFactory(run=run, tier_index=1)
    first.state = second.state = "FAILED"
    first.save()
    second.save()
    done = PhaseFactory(
        tier=first,
        phase_index=0,
        complete=True,
        builder_attempts=2,
        auditor_attempts=1,
        started_at=now,
        completed_at=now + timedelta(minutes=5),
    )
    broken = PhaseFactory(
        tier=first,
        phase_index=1,
        failed=True,
        builder_attempts=3,
        started_at=now,
        completed_at=now + timedelta(minutes=20),
    )
    PhaseFactory(tier=second, phase_index=2, state=Phase.State.SKIPPED)
    PhaseMetricsFactory(phase=done)
    PhaseMetricsFactory(phase=broken, base_tokens=5000)
    DashboardEventFactory(run=run, phase=broken, message=broken.last_failure_reason)
    return run


def queued_campaign(*runs: Run, batch_size: int = 1) -> ReplayCampaign:
    """A campaign as created, its attempts QUEUED, nothing cloned."""
    return services.replay_campaign_create(
        runs=runs, filters={}, executor_name="local", batch_size=batch_size, timeout_seconds=60
    )
