"""A/B analysis: compare a control run with a treatment run, strictly."""

from collections.abc import Sequence
from dataclasses import dataclass

from django.db import transaction

from abtests import stats
from abtests.models import ABTestResult
from metrics.models import TOKEN_CATEGORIES, Run
from metrics.selectors import consolidated_totals


class UnknownRunError(LookupError):
    """A run named for analysis does not exist."""


@dataclass(frozen=True)
class RunFigures:
    tokens: dict[str, int]  # the four categories and total_tokens
    complete: int
    failed: int
    skipped: int
    total: int
    duration_seconds: float | None

    @property
    def success_rate(self) -> float | None:
        return stats.success_rate(self.complete, self.total, self.skipped)


def run_figures(run: Run) -> RunFigures:
    """Tokens and phase counts (the consolidated-metrics figures) and duration of a run."""
    totals = consolidated_totals(run.pk)
    return RunFigures(
        tokens={name: totals[name] for name in (*TOKEN_CATEGORIES, "total_tokens")},
        complete=totals["completed_phases"],
        failed=totals["failed_phases"],
        skipped=totals["skipped_phases"],
        total=totals["total_phases"],
        duration_seconds=run.duration_seconds,
    )


def validity_check(
    control: Run, treatment: Run, control_figures: RunFigures, treatment_figures: RunFigures
) -> tuple[list[str], list[str]]:
    """Return (errors, warnings). Any error makes the comparison invalid."""
    errors: list[str] = []
    if control.pk == treatment.pk:
        errors.append("control and treatment are the same run")
    for label, field in (
        ("git_commit_sha", "git_commit_sha"),
        ("model_mapping_hash", "model_mapping_hash"),
    ):
        control_value, treatment_value = getattr(control, field), getattr(treatment, field)
        if not control_value:
            errors.append(f"control run has no {label}")
        if not treatment_value:
            errors.append(f"treatment run has no {label}")
        if control_value and treatment_value and control_value != treatment_value:
            errors.append(
                f"{label} mismatch: control {control_value!r} vs treatment {treatment_value!r}"
            )
    for side, run in (("control", control), ("treatment", treatment)):
        if not run.is_terminal:
            errors.append(f"{side} run {run.pk!r} is not in a terminal state ({run.state})")
    warnings: list[str] = []
    if control_figures.total != treatment_figures.total:
        warnings.append(
            f"phase count mismatch: control {control_figures.total} vs "
            f"treatment {treatment_figures.total}"
        )
    return errors, warnings


def _run_get(run_id: str) -> Run:
    try:
        return Run.objects.get(pk=run_id)
    except Run.DoesNotExist:
        raise UnknownRunError(f"run {run_id!r} does not exist") from None


def ab_result_analyze(
    *,
    test_id: str,
    control_run_id: str,
    treatment_run_id: str,
    created_by: str = "",
    dry_run: bool = False,
) -> ABTestResult:
    """Compare two runs, named by id, and (unless dry_run) persist the result."""
    return ab_result_analyze_runs(
        test_id=test_id,
        control=_run_get(control_run_id),
        treatment=_run_get(treatment_run_id),
        created_by=created_by,
        dry_run=dry_run,
    )


def ab_result_analyze_runs(
    *, test_id: str, control: Run, treatment: Run, created_by: str = "", dry_run: bool = False
) -> ABTestResult:
    """Compare two runs in hand (as stored) and (unless dry_run) persist the result,
    valid or not.

    Invalid results are kept, flagged, for the audit trail; the database's CHECK
    constraint refuses any row marked valid that breaks the strict rules.
    """
    control_figures, treatment_figures = run_figures(control), run_figures(treatment)
    errors, warnings = validity_check(control, treatment, control_figures, treatment_figures)
    deltas = {
        f"{name}_delta": treatment_figures.tokens[name] - control_figures.tokens[name]
        for name in TOKEN_CATEGORIES
    }
    time_delta = (
        treatment_figures.duration_seconds - control_figures.duration_seconds
        if control_figures.duration_seconds is not None
        and treatment_figures.duration_seconds is not None
        else None
    )
    success_delta = (
        treatment_figures.success_rate - control_figures.success_rate
        if control_figures.success_rate is not None and treatment_figures.success_rate is not None
        else None
    )
    result = ABTestResult(
        test_id=test_id,
        control_run=control,
        treatment_run=treatment,
        control_commit_sha=control.git_commit_sha,
        treatment_commit_sha=treatment.git_commit_sha,
        control_model_hash=control.model_mapping_hash,
        treatment_model_hash=treatment.model_mapping_hash,
        is_valid=not errors,
        validity_errors=errors,
        validity_warnings=warnings,
        token_delta=treatment_figures.tokens["total_tokens"]
        - control_figures.tokens["total_tokens"],
        time_delta_seconds=time_delta,
        success_rate_delta=success_delta,
        control_total_tokens=control_figures.tokens["total_tokens"],
        treatment_total_tokens=treatment_figures.tokens["total_tokens"],
        control_tokens={name: control_figures.tokens[name] for name in TOKEN_CATEGORIES},
        treatment_tokens={name: treatment_figures.tokens[name] for name in TOKEN_CATEGORIES},
        control_phases_complete=control_figures.complete,
        control_phases_failed=control_figures.failed,
        control_phases_skipped=control_figures.skipped,
        control_phases_total=control_figures.total,
        treatment_phases_complete=treatment_figures.complete,
        treatment_phases_failed=treatment_figures.failed,
        treatment_phases_skipped=treatment_figures.skipped,
        treatment_phases_total=treatment_figures.total,
        created_by=created_by,
        **deltas,
    )
    if dry_run:
        result.full_clean()  # nothing is stored: no database CHECK will judge it
    else:
        # The runs are in hand (no query proving they exist), and the database's
        # CHECK judges the row as it is stored (no query checking it first).
        result.full_clean(exclude=["control_run", "treatment_run"], validate_constraints=False)
        result.save()
    return result


@transaction.atomic
def ab_results_analyze_pairs(
    *, test_id: str, pairs: Sequence[tuple[str, str]], created_by: str = "", dry_run: bool = False
) -> list[ABTestResult]:
    """Analyse several pairs under one test id, all or nothing."""
    return [
        ab_result_analyze(
            test_id=test_id,
            control_run_id=control,
            treatment_run_id=treatment,
            created_by=created_by,
            dry_run=dry_run,
        )
        for control, treatment in pairs
    ]
