"""The per-test experiment summary: valid pairs only, known inputs, known answers."""

import pytest

from abtests.selectors import experiment_summary
from abtests.stats import newcombe_interval
from abtests.tests.factories import ABTestResultFactory

pytestmark = pytest.mark.django_db

T_975_DF3 = 3.182446  # two-sided 95% critical value, 3 degrees of freedom (t tables)


@pytest.fixture
def experiment():
    for index, delta in enumerate([10, 20, 30, 40]):
        ABTestResultFactory(
            test_id="exp-7",
            base_tokens_delta=delta,
            retrieval_tokens_delta=-delta // 10,
            time_delta_seconds=float(index),
            control_phases_complete=3,
            control_phases_skipped=1,
            control_phases_total=5,
            treatment_phases_complete=4,
            treatment_phases_total=4,
        )
    # Invalid pairs are counted, never averaged.
    ABTestResultFactory(
        test_id="exp-7",
        invalid=True,
        base_tokens_delta=10_000,
        time_delta_seconds=500.0,
        control_phases_total=9,
    )
    ABTestResultFactory(test_id="other", base_tokens_delta=-999)


def test_token_deltas_mean_and_t_interval_over_valid_pairs(experiment):
    summary = experiment_summary("exp-7")
    assert (summary.valid_pairs, summary.invalid_pairs) == (4, 1)
    base = summary.token_deltas["base_tokens_delta"]
    # mean 25, sample sd sqrt(500/3), se = sd / 2
    margin = T_975_DF3 * (500 / 3) ** 0.5 / 2
    assert base["mean"] == 25 and base["n"] == 4
    assert base["ci_low"] == pytest.approx(25 - margin, abs=1e-4)
    assert base["ci_high"] == pytest.approx(25 + margin, abs=1e-4)
    assert summary.token_deltas["retrieval_tokens_delta"]["mean"] == -2.5
    assert summary.token_deltas["token_delta"]["mean"] == 22.5
    assert summary.mean_time_delta_seconds == 1.5
    assert [p["token_delta"] for p in summary.pair_token_deltas] == [9, 18, 27, 36]


def test_success_rate_delta_pools_phase_counts_with_newcombe(experiment):
    success = experiment_summary("exp-7").success_rate_delta
    # Pooled over 4 valid pairs: treatment 16/16, control 12/16 (skipped phases excluded).
    assert (success["treatment_complete"], success["treatment_countable"]) == (16, 16)
    assert (success["control_complete"], success["control_countable"]) == (12, 16)
    expected = newcombe_interval(16, 16, 12, 16)
    assert success["estimate"] == pytest.approx(25.0)
    assert success["ci_low"] == pytest.approx(100 * expected.low)
    assert success["ci_high"] == pytest.approx(100 * expected.high)
    assert 0 < success["ci_low"] < 25 < success["ci_high"]


def test_one_pair_has_a_mean_but_no_interval():
    ABTestResultFactory(test_id="solo", base_tokens_delta=42)
    interval = experiment_summary("solo").token_deltas["token_delta"]
    assert interval == {"mean": 42, "ci_low": None, "ci_high": None, "n": 1}


def test_unknown_test_has_an_empty_summary():
    summary = experiment_summary("nothing-here")
    assert (summary.valid_pairs, summary.invalid_pairs) == (0, 0)
    assert summary.token_deltas["token_delta"]["mean"] is None
    assert summary.success_rate_delta["estimate"] is None
    assert summary.mean_time_delta_seconds is None
