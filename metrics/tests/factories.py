"""factory-boy factories for the run store."""

import factory
from django.utils import timezone

from metrics.models import DashboardEvent, Phase, PhaseMetrics, Run, Tier


class RunFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Run

    id = factory.Sequence(lambda n: f"test-run-{n}")
    state = Run.State.RUN_CREATED
    created_at = factory.LazyFunction(timezone.now)
    git_commit_sha = "a" * 40
    git_branch = "main"
    model_mapping_hash = "m" * 16

    class Params:
        finished = factory.Trait(
            state=Run.State.DONE_SUCCESS,
            started_at=factory.LazyFunction(timezone.now),
            completed_at=factory.LazyFunction(timezone.now),
        )
        failed = factory.Trait(
            state=Run.State.DONE_FAILED_REQUIRES_HUMAN_REVIEW,
            failure_reason="phase failed",
            completed_at=factory.LazyFunction(timezone.now),
        )


class TierFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Tier

    run = factory.SubFactory(RunFactory)
    tier_id = factory.Sequence(lambda n: f"T{n}")
    tier_index = factory.Sequence(lambda n: n)
    name = factory.Sequence(lambda n: f"Tier {n}")


class PhaseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Phase

    tier = factory.SubFactory(TierFactory)
    run = factory.SelfAttribute("tier.run")
    phase_id = factory.Sequence(lambda n: f"phase-{n}")
    phase_index = factory.Sequence(lambda n: n)
    name = factory.Sequence(lambda n: f"Phase {n}")
    task_category = "feature"
    complexity = "medium"
    builder_mode = "default"
    scope = factory.LazyFunction(lambda: {"paths": ["src/"], "read_only_context": []})

    class Params:
        failed = factory.Trait(
            state=Phase.State.FAILED, last_failure_reason="patch apply failed: hunk #1 FAILED"
        )
        complete = factory.Trait(state=Phase.State.COMPLETE)


class PhaseMetricsFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PhaseMetrics

    phase = factory.SubFactory(PhaseFactory)
    run = factory.SelfAttribute("phase.run")
    attempt = 1
    retrieval_tokens = 100
    second_opinion_tokens = 20
    evidence_request_tokens = 3
    base_tokens = 1000
    model = "claude-sonnet"
    duration_seconds = 12.5


class DashboardEventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = DashboardEvent

    run = factory.SubFactory(RunFactory)
    event_type = DashboardEvent.EventType.PHASE_FAILED
    message = "patch apply failed: hunk #1 FAILED at 42"
