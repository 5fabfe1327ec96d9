"""Statistics against published values (t tables; Newcombe 1998)."""

import math

import pytest

from abtests.stats import (
    Interval,
    mean_interval,
    newcombe_interval,
    student_t_quantile,
    success_rate,
    wilson_interval,
)


@pytest.mark.parametrize(
    "df, expected",
    # Two-sided 95% critical values from standard t tables.
    [(1, 12.7062), (2, 4.3027), (5, 2.5706), (10, 2.2281), (30, 2.0423), (120, 1.9799)],
)
def test_t_quantile_matches_tables(df, expected):
    assert student_t_quantile(0.975, df) == pytest.approx(expected, abs=1e-4)


def test_mean_interval_by_hand():
    # values 1..5: mean 3, s = sqrt(2.5), se = sqrt(0.5), t(0.975, 4) = 2.7764
    interval = mean_interval([1, 2, 3, 4, 5])
    margin = 2.776445 * math.sqrt(0.5)
    assert interval.estimate == 3
    assert interval.low == pytest.approx(3 - margin, abs=1e-5)
    assert interval.high == pytest.approx(3 + margin, abs=1e-5)
    assert interval.n == 5


def test_mean_interval_needs_two_values():
    assert mean_interval([42.0]) == Interval(42.0, None, None, 1)
    assert mean_interval([]).estimate is None


@pytest.mark.parametrize(
    "successes, trials, low, high",
    # Newcombe (1998), Statistics in Medicine 17:857-872, Table I, method 3 (Wilson).
    [
        (81, 263, 0.2553, 0.3662),
        (15, 148, 0.0624, 0.1605),
        (0, 20, 0.0, 0.1611),
        (1, 29, 0.0061, 0.1718),
    ],
)
def test_wilson_matches_newcombe_table(successes, trials, low, high):
    interval = wilson_interval(successes, trials)
    assert interval.low == pytest.approx(low, abs=1e-4)
    assert interval.high == pytest.approx(high, abs=1e-4)


def test_wilson_without_trials_has_no_interval():
    assert wilson_interval(0, 0).estimate is None


@pytest.mark.parametrize(
    "a, m, b, n, low, high",
    # Newcombe (1998), Statistics in Medicine 17:873-890, Table II, method 10.
    [(56, 70, 48, 80, 0.0524, 0.3339), (9, 10, 3, 10, 0.1705, 0.8090)],
)
def test_newcombe_matches_published_examples(a, m, b, n, low, high):
    interval = newcombe_interval(a, m, b, n)
    assert interval.estimate == pytest.approx(a / m - b / n)
    assert interval.low == pytest.approx(low, abs=1e-4)
    assert interval.high == pytest.approx(high, abs=1e-4)


def test_newcombe_without_trials_on_one_side():
    assert newcombe_interval(3, 5, 0, 0).estimate is None


def test_success_rate_excludes_skipped_phases_and_never_divides_by_zero():
    assert success_rate(complete=3, total=5, skipped=1) == 75.0
    assert success_rate(complete=0, total=2, skipped=2) is None
    assert success_rate(complete=0, total=0, skipped=0) is None
