"""Experiment statistics for A/B tests: pure functions, no Django.

- `mean_interval`: mean with a two-sided Student t interval (none below 2 values).
- `wilson_interval`: Wilson score interval for one proportion.
- `newcombe_interval`: Newcombe's hybrid score interval (his method 10) for the
  difference of two independent proportions, built from the two Wilson intervals.

The t quantile comes from the regularized incomplete beta function (a Lentz
continued fraction) and bisection, so no SciPy is needed at run time.
"""

import math
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Interval:
    estimate: float | None
    low: float | None
    high: float | None
    n: int


def _betacf(a: float, b: float, x: float) -> float:
    """Continued fraction for the incomplete beta function (modified Lentz)."""
    tiny = 1e-300
    qab, qap, qam = a + b, a + 1.0, a - 1.0
    c, d = 1.0, 1.0 - qab * x / qap
    d = 1.0 / (d if abs(d) > tiny else tiny)
    h = d
    for m in range(1, 300):
        m2 = 2 * m
        aa = m * (b - m) * x / ((qam + m2) * (a + m2))
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > tiny else tiny)
        c = 1.0 + aa / c
        c = c if abs(c) > tiny else tiny
        h *= d * c
        aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > tiny else tiny)
        c = 1.0 + aa / c
        c = c if abs(c) > tiny else tiny
        delta = d * c
        h *= delta
        if abs(delta - 1.0) < 1e-15:
            break
    return h


def regularized_incomplete_beta(a: float, b: float, x: float) -> float:
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    log_front = (
        math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x)
    )
    front = math.exp(log_front)
    if x < (a + 1.0) / (a + b + 2.0):
        return front * _betacf(a, b, x) / a
    return 1.0 - front * _betacf(b, a, 1.0 - x) / b


def student_t_cdf(t: float, df: float) -> float:
    x = df / (df + t * t)
    tail = 0.5 * regularized_incomplete_beta(df / 2.0, 0.5, x)
    return 1.0 - tail if t >= 0 else tail


def student_t_quantile(probability: float, df: float) -> float:
    """Return t such that P(T <= t) = probability, for 0.5 <= probability < 1."""
    if not 0.5 <= probability < 1.0:
        raise ValueError("probability must be in [0.5, 1)")
    low, high = 0.0, 1.0
    while student_t_cdf(high, df) < probability:
        high *= 2.0
    for _ in range(200):
        middle = (low + high) / 2.0
        if student_t_cdf(middle, df) < probability:
            low = middle
        else:
            high = middle
        if high - low < 1e-12:
            break
    return (low + high) / 2.0


def mean_interval(values: Sequence[float], confidence: float = 0.95) -> Interval:
    """Mean with a t interval; bounds are None with fewer than two values."""
    n = len(values)
    if n == 0:
        return Interval(None, None, None, 0)
    mean = math.fsum(values) / n
    if n < 2:
        return Interval(mean, None, None, n)
    variance = math.fsum((value - mean) ** 2 for value in values) / (n - 1)
    margin = student_t_quantile(0.5 + confidence / 2.0, n - 1) * math.sqrt(variance / n)
    return Interval(mean, mean - margin, mean + margin, n)


def _z(confidence: float) -> float:
    """Two-sided normal quantile via the error function's inverse by bisection."""
    target = 0.5 + confidence / 2.0
    low, high = 0.0, 10.0
    for _ in range(200):
        middle = (low + high) / 2.0
        if 0.5 * (1.0 + math.erf(middle / math.sqrt(2.0))) < target:
            low = middle
        else:
            high = middle
    return (low + high) / 2.0


def wilson_interval(successes: int, trials: int, confidence: float = 0.95) -> Interval:
    """Wilson score interval for successes/trials; all None when there are no trials."""
    if trials <= 0:
        return Interval(None, None, None, 0)
    if not 0 <= successes <= trials:
        raise ValueError("successes must be between 0 and trials")
    z = _z(confidence)
    p = successes / trials
    denominator = 1.0 + z * z / trials
    centre = (p + z * z / (2.0 * trials)) / denominator
    margin = z * math.sqrt(p * (1.0 - p) / trials + z * z / (4.0 * trials * trials)) / denominator
    return Interval(p, max(0.0, centre - margin), min(1.0, centre + margin), trials)


def newcombe_interval(
    treatment_successes: int,
    treatment_trials: int,
    control_successes: int,
    control_trials: int,
    confidence: float = 0.95,
) -> Interval:
    """Difference of proportions (treatment − control) with Newcombe's hybrid score interval."""
    treatment = wilson_interval(treatment_successes, treatment_trials, confidence)
    control = wilson_interval(control_successes, control_trials, confidence)
    if treatment.estimate is None or control.estimate is None:
        return Interval(None, None, None, 0)
    difference = treatment.estimate - control.estimate
    low = difference - math.sqrt(
        (treatment.estimate - treatment.low) ** 2 + (control.high - control.estimate) ** 2
    )
    high = difference + math.sqrt(
        (treatment.high - treatment.estimate) ** 2 + (control.estimate - control.low) ** 2
    )
    return Interval(difference, low, high, treatment_trials + control_trials)


def success_rate(complete: int, total: int, skipped: int) -> float | None:
    """COMPLETE phases / phases not SKIPPED, in percent; None when nothing counts."""
    countable = total - skipped
    return 100.0 * complete / countable if countable else None
