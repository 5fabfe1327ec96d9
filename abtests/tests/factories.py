"""Factories for A/B tests: finished runs with known figures, and stored results."""

import datetime as dt

import factory
from django.utils import timezone

from abtests.models import ABTestResult
from metrics.models import Phase, Run
from metrics.tests.factories import PhaseFactory, PhaseMetricsFactory, RunFactory, TierFactory

SHA = "c0ffee" * 6 + "abcd"
MODEL_HASH = "models-v1-" + "9" * 16


def finished_run(
    run_id: str,
    *,
    phase_states: list[str] = (),
    tokens: tuple[int, int, int, int] | None = None,
    seconds: float | None = 600.0,
    **fields,
) -> Run:
    """A run in DONE_SUCCESS with the given phases and one ledger row per phase.

    `tokens` = (retrieval, second_opinion, evidence_request, base) for each phase's row.
    """
    started = timezone.now() - dt.timedelta(hours=2)
    defaults = {
        "state": Run.State.DONE_SUCCESS,
        "git_commit_sha": SHA,
        "model_mapping_hash": MODEL_HASH,
        "started_at": started,
        "completed_at": started + dt.timedelta(seconds=seconds) if seconds is not None else None,
    }
    run = RunFactory(id=run_id, **{**defaults, **fields})
    tier = TierFactory(run=run)
    for index, state in enumerate(phase_states):
        phase = PhaseFactory(run=run, tier=tier, phase_id=f"{run_id}-p{index}", state=state)
        if tokens is not None:
            retrieval, second_opinion, evidence, base = tokens
            PhaseMetricsFactory(
                run=run,
                phase=phase,
                retrieval_tokens=retrieval,
                second_opinion_tokens=second_opinion,
                evidence_request_tokens=evidence,
                base_tokens=base,
            )
    return run


COMPLETE, FAILED, SKIPPED = Phase.State.COMPLETE, Phase.State.FAILED, Phase.State.SKIPPED


class ABTestResultFactory(factory.django.DjangoModelFactory):
    """A stored, valid result with the given deltas (figures need not add up)."""

    class Meta:
        model = ABTestResult

    test_id = "exp-1"
    control_run = factory.SubFactory(
        RunFactory, finished=True, git_commit_sha=SHA, model_mapping_hash=MODEL_HASH
    )
    treatment_run = factory.SubFactory(
        RunFactory, finished=True, git_commit_sha=SHA, model_mapping_hash=MODEL_HASH
    )
    control_commit_sha = SHA
    treatment_commit_sha = SHA
    control_model_hash = MODEL_HASH
    treatment_model_hash = MODEL_HASH
    is_valid = True
    retrieval_tokens_delta = 0
    second_opinion_tokens_delta = 0
    evidence_request_tokens_delta = 0
    base_tokens_delta = 0
    token_delta = factory.LazyAttribute(
        lambda o: (
            o.retrieval_tokens_delta
            + o.second_opinion_tokens_delta
            + o.evidence_request_tokens_delta
            + o.base_tokens_delta
        )
    )
    time_delta_seconds = None
    success_rate_delta = None
    control_total_tokens = 10_000
    treatment_total_tokens = factory.LazyAttribute(lambda o: o.control_total_tokens + o.token_delta)
    control_phases_complete = 0
    control_phases_failed = 0
    control_phases_skipped = 0
    control_phases_total = 0
    treatment_phases_complete = 0
    treatment_phases_failed = 0
    treatment_phases_skipped = 0
    treatment_phases_total = 0

    class Params:
        invalid = factory.Trait(
            is_valid=False,
            treatment_commit_sha="f" * 40,
            validity_errors=factory.LazyAttribute(
                lambda o: [
                    f"git_commit_sha mismatch: control {o.control_commit_sha!r} "
                    f"vs treatment {o.treatment_commit_sha!r}"
                ]
            ),
        )
