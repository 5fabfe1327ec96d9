"""Reads for A/B results: the per-test experiment summary."""

from dataclasses import asdict, dataclass

from django.db.models import Avg, Count, Max, Q, QuerySet

from abtests import stats
from abtests.models import ABTestResult
from metrics.models import TOKEN_CATEGORIES

DELTA_FIELDS = ("token_delta", *(f"{name}_delta" for name in TOKEN_CATEGORIES))


def ab_results_for_test(test_id: str) -> QuerySet[ABTestResult]:
    return ABTestResult.objects.filter(test_id=test_id).order_by("created_at", "id")


def ab_tests_overview() -> QuerySet:
    """One row per test: valid and invalid pair counts, the valid pairs' mean
    total token delta and the newest pair's time, newest test first (one GROUP BY)."""
    valid = Q(is_valid=True)
    return (
        ABTestResult.objects.order_by()
        .values("test_id")
        .annotate(
            valid_pairs=Count("id", filter=valid),
            invalid_pairs=Count("id", filter=~valid),
            mean_token_delta=Avg("token_delta", filter=valid),
            latest=Max("created_at"),
        )
        .order_by("-latest", "test_id")
    )


def ab_results_for_run(run_id: str) -> QuerySet[ABTestResult]:
    """Every A/B pair the run is a side of, newest first."""
    either_side = Q(control_run_id=run_id) | Q(treatment_run_id=run_id)
    return ABTestResult.objects.filter(either_side).order_by("-created_at", "-id")


@dataclass(frozen=True)
class ExperimentSummary:
    test_id: str
    valid_pairs: int
    invalid_pairs: int
    token_deltas: dict[str, dict]  # field -> {mean, ci_low, ci_high, n}
    success_rate_delta: dict  # percentage points: {estimate, ci_low, ci_high, ...}
    mean_time_delta_seconds: float | None
    pair_token_deltas: list[dict]  # per valid pair, for the admin chart

    def as_dict(self) -> dict:
        return asdict(self)


def _scaled(value: float | None, factor: float = 1.0) -> float | None:
    return None if value is None else value * factor


def _interval_dict(interval: stats.Interval) -> dict:
    return {
        "mean": interval.estimate,
        "ci_low": interval.low,
        "ci_high": interval.high,
        "n": interval.n,
    }


SUMMARY_FIELDS = (
    "id",
    "is_valid",
    "control_run_id",
    "treatment_run_id",
    "time_delta_seconds",
    *DELTA_FIELDS,
    "control_phases_complete",
    "control_phases_total",
    "control_phases_skipped",
    "treatment_phases_complete",
    "treatment_phases_total",
    "treatment_phases_skipped",
)


def experiment_summary(test_id: str) -> ExperimentSummary:
    """Statistics over a test's stored VALID pairs; invalid pairs are just counted."""
    rows = list(ab_results_for_test(test_id).values(*SUMMARY_FIELDS))
    return experiment_summary_of(test_id, rows)


def experiment_summary_of(test_id: str, rows: list[dict]) -> ExperimentSummary:
    """Statistics over result rows (dicts with SUMMARY_FIELDS), valid pairs only."""
    valid = [row for row in rows if row["is_valid"]]
    token_deltas = {
        field: _interval_dict(stats.mean_interval([row[field] for row in valid]))
        for field in DELTA_FIELDS
    }
    # Success rate: phase counts pooled over the valid pairs, per arm.
    control_complete = sum(row["control_phases_complete"] for row in valid)
    control_countable = sum(
        row["control_phases_total"] - row["control_phases_skipped"] for row in valid
    )
    treatment_complete = sum(row["treatment_phases_complete"] for row in valid)
    treatment_countable = sum(
        row["treatment_phases_total"] - row["treatment_phases_skipped"] for row in valid
    )
    difference = stats.newcombe_interval(
        treatment_complete, treatment_countable, control_complete, control_countable
    )
    success = {  # proportions → percentage points
        "estimate": _scaled(difference.estimate, 100.0),
        "ci_low": _scaled(difference.low, 100.0),
        "ci_high": _scaled(difference.high, 100.0),
        "control_complete": control_complete,
        "control_countable": control_countable,
        "treatment_complete": treatment_complete,
        "treatment_countable": treatment_countable,
    }
    times = [row["time_delta_seconds"] for row in valid if row["time_delta_seconds"] is not None]
    return ExperimentSummary(
        test_id=test_id,
        valid_pairs=len(valid),
        invalid_pairs=len(rows) - len(valid),
        token_deltas=token_deltas,
        success_rate_delta=success,
        mean_time_delta_seconds=sum(times) / len(times) if times else None,
        pair_token_deltas=[
            {
                "id": row["id"],
                "control_run": row["control_run_id"],
                "treatment_run": row["treatment_run_id"],
                "token_delta": row["token_delta"],
            }
            for row in valid
        ],
    )
