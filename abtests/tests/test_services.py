"""A/B analysis: exact figures from the ledger and STRICT validity."""

import datetime as dt

import pytest
from django.utils import timezone

from abtests.models import ABTestResult
from abtests.services import (
    UnknownRunError,
    ab_result_analyze,
    ab_result_analyze_runs,
    ab_results_analyze_pairs,
)
from abtests.tests.factories import COMPLETE, FAILED, SHA, SKIPPED, finished_run
from metrics.models import PhaseMetrics, Run
from metrics.retention import metrics_retention_run
from metrics.selectors import consolidated_totals

pytestmark = pytest.mark.django_db


@pytest.fixture
def pair():
    """Control: 2 of 3 phases complete, 600 s; treatment: 3 of 3, 480 s."""
    control = finished_run(
        "ctl", phase_states=[COMPLETE, COMPLETE, FAILED], tokens=(100, 20, 3, 1000), seconds=600
    )
    treatment = finished_run(
        "trt", phase_states=[COMPLETE, COMPLETE, COMPLETE], tokens=(150, 0, 10, 900), seconds=480
    )
    return control, treatment


def analyze(control="ctl", treatment="trt", **kwargs):
    return ab_result_analyze(
        test_id="exp-1", control_run_id=control, treatment_run_id=treatment, **kwargs
    )


def test_matching_pair_is_valid_with_exact_deltas(pair):
    result = analyze(created_by="alice")
    assert result.is_valid and result.pk is not None
    assert result.validity_errors == [] and result.validity_warnings == []
    # control 3 × (100, 20, 3, 1000); treatment 3 × (150, 0, 10, 900)
    assert (
        result.retrieval_tokens_delta,
        result.second_opinion_tokens_delta,
        result.evidence_request_tokens_delta,
        result.base_tokens_delta,
    ) == (150, -60, 21, -300)
    assert result.control_total_tokens == 3369 and result.treatment_total_tokens == 3180
    assert result.token_delta == -189
    assert result.control_tokens == {
        "retrieval_tokens": 300,
        "second_opinion_tokens": 60,
        "evidence_request_tokens": 9,
        "base_tokens": 3000,
    }
    assert result.time_delta_seconds == pytest.approx(-120.0)
    assert result.success_rate_delta == pytest.approx(100.0 - 200.0 / 3)
    assert (
        result.control_phases_complete,
        result.control_phases_failed,
        result.control_phases_total,
    ) == (2, 1, 3)
    assert (result.control_commit_sha, result.treatment_commit_sha) == (SHA, SHA)
    assert result.created_by == "alice"


def test_tokens_are_the_consolidated_figures_including_rolled_up_days(pair):
    control, _ = pair
    PhaseMetrics.objects.filter(run=control).update(
        created_at=timezone.now() - dt.timedelta(days=90)
    )
    metrics_retention_run(days=30)
    assert not PhaseMetrics.objects.filter(run=control).exists()
    result = analyze()
    assert result.control_total_tokens == consolidated_totals("ctl")["total_tokens"] == 3369
    assert result.token_delta == -189


@pytest.mark.parametrize(
    "control_fields, treatment_fields, expected_error",
    [
        (
            {},
            {"git_commit_sha": "f" * 40},
            f"git_commit_sha mismatch: control {SHA!r} vs treatment {'f' * 40!r}",
        ),
        (
            {"model_mapping_hash": "models-v0"},
            {},
            "model_mapping_hash mismatch: control 'models-v0' vs treatment",
        ),
        ({"git_commit_sha": None}, {}, "control run has no git_commit_sha"),
        ({}, {"git_commit_sha": ""}, "treatment run has no git_commit_sha"),
        ({}, {"model_mapping_hash": None}, "treatment run has no model_mapping_hash"),
        (
            {},
            {"state": Run.State.PHASE_EXECUTION},
            "treatment run 'trt' is not in a terminal state (PHASE_EXECUTION)",
        ),
    ],
    ids=[
        "sha-mismatch",
        "hash-mismatch",
        "control-sha-missing",
        "treatment-sha-empty",
        "treatment-hash-missing",
        "treatment-running",
    ],
)
def test_invalid_pairs_are_stored_flagged_with_the_reason(
    control_fields, treatment_fields, expected_error
):
    finished_run("ctl", phase_states=[COMPLETE], tokens=(1, 1, 1, 1), **control_fields)
    finished_run("trt", phase_states=[COMPLETE], tokens=(2, 2, 2, 2), **treatment_fields)
    result = analyze()
    assert not result.is_valid
    assert any(error.startswith(expected_error) for error in result.validity_errors), (
        result.validity_errors
    )
    stored = ABTestResult.objects.get()
    assert stored.is_valid is False and stored.validity_errors == result.validity_errors
    assert stored.token_delta == 4


def test_every_error_is_listed_not_just_the_first():
    finished_run("ctl", git_commit_sha=None, model_mapping_hash=None)
    finished_run("trt", state=Run.State.GATE, model_mapping_hash="")
    errors = analyze().validity_errors
    assert errors == [
        "control run has no git_commit_sha",
        "control run has no model_mapping_hash",
        "treatment run has no model_mapping_hash",
        "treatment run 'trt' is not in a terminal state (GATE)",
    ]


def test_same_run_on_both_sides_is_invalid(pair):
    result = analyze("ctl", "ctl")
    assert not result.is_valid
    assert "control and treatment are the same run" in result.validity_errors


def test_phase_count_mismatch_is_a_warning_only():
    finished_run("ctl", phase_states=[COMPLETE, COMPLETE])
    finished_run("trt", phase_states=[COMPLETE, COMPLETE, FAILED])
    result = analyze()
    assert result.is_valid
    assert result.validity_warnings == ["phase count mismatch: control 2 vs treatment 3"]


def test_no_phases_no_tokens_no_times_means_no_division_by_zero():
    finished_run("ctl", seconds=None)
    finished_run("trt")
    result = analyze()
    assert result.is_valid
    assert result.token_delta == 0 and result.control_total_tokens == 0
    assert result.success_rate_delta is None and result.time_delta_seconds is None
    assert result.control_success_rate is None


def test_skipped_phases_do_not_count_towards_the_success_rate():
    finished_run("ctl", phase_states=[COMPLETE, SKIPPED, FAILED])  # 1 of 2 = 50 %
    finished_run("trt", phase_states=[COMPLETE, SKIPPED, SKIPPED])  # 1 of 1 = 100 %
    result = analyze()
    assert result.control_success_rate == 50.0 and result.treatment_success_rate == 100.0
    assert result.success_rate_delta == 50.0


def test_dry_run_stores_nothing(pair):
    result = analyze(dry_run=True)
    assert result.is_valid and result.pk is None
    assert not ABTestResult.objects.exists()


def test_unknown_run_is_named():
    finished_run("ctl")
    with pytest.raises(UnknownRunError, match="'nope'"):
        analyze("ctl", "nope")


def test_pairs_are_all_or_nothing(pair):
    finished_run("ctl-2")
    finished_run("trt-2")
    with pytest.raises(UnknownRunError):
        ab_results_analyze_pairs(
            test_id="exp-1", pairs=[("ctl", "trt"), ("ctl-2", "trt-2"), ("ctl", "ghost")]
        )
    assert not ABTestResult.objects.exists()
    results = ab_results_analyze_pairs(test_id="exp-1", pairs=[("ctl", "trt"), ("ctl-2", "trt-2")])
    assert [r.is_valid for r in results] == [True, True]
    assert ABTestResult.objects.filter(test_id="exp-1").count() == 2


def test_runs_in_hand_are_analysed_in_a_fixed_number_of_queries(pair, django_assert_num_queries):
    control, treatment = pair
    # One aggregate statement per side and the insert, whatever the runs' size.
    with django_assert_num_queries(3):
        result = ab_result_analyze_runs(test_id="exp-1", control=control, treatment=treatment)
    assert result.is_valid and result.control_phases_total == 3
