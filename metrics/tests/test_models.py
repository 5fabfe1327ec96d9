"""Database-enforced invariants of the run store, on the real database."""

import pytest
from django.db import IntegrityError, transaction

from metrics.models import TOKEN_CATEGORIES, PhaseMetrics, Run, Tier, total_tokens_expression
from metrics.tests.factories import PhaseFactory, PhaseMetricsFactory, RunFactory, TierFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("category", TOKEN_CATEGORIES)
def test_database_refuses_negative_tokens(category):
    phase = PhaseFactory()
    with (
        pytest.raises(IntegrityError, match=r"metrics_ledger_tokens_non_negative|CHECK"),
        transaction.atomic(),
    ):
        PhaseMetrics.objects.create(run=phase.run, phase=phase, attempt=1, **{category: -1})
    assert not PhaseMetrics.objects.exists()


def test_database_refuses_second_row_for_same_attempt():
    row = PhaseMetricsFactory(attempt=2)
    with pytest.raises(IntegrityError), transaction.atomic():
        PhaseMetrics.objects.create(run=row.run, phase=row.phase, attempt=2, base_tokens=5)
    assert PhaseMetrics.objects.count() == 1


def test_same_phase_may_record_other_attempts():
    row = PhaseMetricsFactory(attempt=1)
    PhaseMetricsFactory(phase=row.phase, attempt=2)
    assert PhaseMetrics.objects.filter(phase=row.phase).count() == 2


def test_database_refuses_attempt_zero():
    phase = PhaseFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        PhaseMetrics.objects.create(run=phase.run, phase=phase, attempt=0)


def test_database_refuses_negative_duration():
    phase = PhaseFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        PhaseMetrics.objects.create(run=phase.run, phase=phase, attempt=1, duration_seconds=-1)


def test_database_refuses_duplicate_run_id():
    RunFactory(id="telemetry-collection-v7")
    with pytest.raises(IntegrityError), transaction.atomic():
        Run.objects.create(id="telemetry-collection-v7")


def test_database_refuses_duplicate_tier_id_within_run():
    tier = TierFactory(tier_id="T1")
    with pytest.raises(IntegrityError), transaction.atomic():
        Tier.objects.create(run=tier.run, tier_id="T1")
    # The same tier id in another run is fine.
    TierFactory(tier_id="T1")
    assert Tier.objects.filter(tier_id="T1").count() == 2


def test_database_refuses_duplicate_phase_id_within_run():
    phase = PhaseFactory(phase_id="build130-phase0")
    with pytest.raises(IntegrityError), transaction.atomic():
        PhaseFactory(tier=phase.tier, phase_id="build130-phase0")


def test_total_is_the_sql_sum_of_the_four_categories():
    row = PhaseMetricsFactory(
        retrieval_tokens=1, second_opinion_tokens=20, evidence_request_tokens=300, base_tokens=4000
    )
    annotated = PhaseMetrics.objects.annotate(total=total_tokens_expression()).get(pk=row.pk)
    assert annotated.total == 4321


def test_run_state_groups():
    assert set(Run.State.failed()) == {
        "DONE_FAILED_BUDGET_EXHAUSTED",
        "DONE_FAILED_POLICY_VIOLATION",
        "DONE_FAILED_REQUIRES_HUMAN_REVIEW",
        "DONE_FAILED_ENVIRONMENT",
    }
    assert set(Run.State.terminal()) == {"DONE_SUCCESS", *Run.State.failed()}
    assert len(Run.State.values) == 13
