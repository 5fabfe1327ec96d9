"""A/B results: one row per (control, treatment) pair analysed under a test id."""

from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from abtests.stats import success_rate
from metrics.models import IDENTIFIER_MAX_LENGTH, Run, identifier_validator


def _present(field: str) -> Q:
    """NOT NULL and not empty: a NULL must make the CHECK fail, not pass as unknown."""
    return Q(**{f"{field}__isnull": False}) & ~Q(**{field: ""})


class ABTestResult(models.Model):
    test_id = models.CharField(max_length=IDENTIFIER_MAX_LENGTH, validators=[identifier_validator])
    control_run = models.ForeignKey(
        Run, on_delete=models.PROTECT, related_name="ab_results_as_control"
    )
    treatment_run = models.ForeignKey(
        Run, on_delete=models.PROTECT, related_name="ab_results_as_treatment"
    )
    # Copied from the runs at analysis time: the audit trail survives later edits.
    # NULL is "not recorded", as the executor sends it (the validity constraint
    # treats NULL and "" alike as missing).
    control_commit_sha = models.CharField(max_length=64, null=True, blank=True)  # noqa: DJ001
    treatment_commit_sha = models.CharField(max_length=64, null=True, blank=True)  # noqa: DJ001
    control_model_hash = models.CharField(max_length=128, null=True, blank=True)  # noqa: DJ001
    treatment_model_hash = models.CharField(max_length=128, null=True, blank=True)  # noqa: DJ001
    is_valid = models.BooleanField()
    validity_errors = models.JSONField(default=list, blank=True)
    validity_warnings = models.JSONField(default=list, blank=True)
    # Deltas are treatment − control.
    token_delta = models.BigIntegerField()
    retrieval_tokens_delta = models.BigIntegerField()
    second_opinion_tokens_delta = models.BigIntegerField()
    evidence_request_tokens_delta = models.BigIntegerField()
    base_tokens_delta = models.BigIntegerField()
    time_delta_seconds = models.FloatField(null=True, blank=True)
    success_rate_delta = models.FloatField(null=True, blank=True)  # percentage points
    control_total_tokens = models.BigIntegerField()
    treatment_total_tokens = models.BigIntegerField()
    # Per-category tokens of each side at analysis time, for side-by-side views.
    control_tokens = models.JSONField(default=dict, blank=True)
    treatment_tokens = models.JSONField(default=dict, blank=True)
    control_phases_complete = models.PositiveIntegerField()
    control_phases_failed = models.PositiveIntegerField()
    control_phases_skipped = models.PositiveIntegerField()
    control_phases_total = models.PositiveIntegerField()
    treatment_phases_complete = models.PositiveIntegerField()
    treatment_phases_failed = models.PositiveIntegerField()
    treatment_phases_skipped = models.PositiveIntegerField()
    treatment_phases_total = models.PositiveIntegerField()
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.CharField(max_length=150, blank=True, default="")

    class Meta:
        verbose_name = "A/B test result"
        ordering = ["-created_at", "-id"]
        indexes = [
            # All pairs of one experiment (summary, ?test_id= filter).
            models.Index(fields=["test_id", "-created_at"], name="abtests_result_test"),
            # The default list: valid results only, newest first.
            models.Index(fields=["is_valid", "-created_at"], name="abtests_result_valid"),
            models.Index(fields=["created_at"], name="abtests_result_created"),
        ]
        constraints = [
            # STRICT validity, enforced by the database for every code path: a
            # valid result needs both SHAs and both model hashes present and equal,
            # and two different runs.
            models.CheckConstraint(
                condition=Q(is_valid=False)
                | (
                    _present("control_commit_sha")
                    & _present("treatment_commit_sha")
                    & Q(treatment_commit_sha=F("control_commit_sha"))
                    & _present("control_model_hash")
                    & _present("treatment_model_hash")
                    & Q(treatment_model_hash=F("control_model_hash"))
                    & ~Q(treatment_run=F("control_run"))
                ),
                name="abtests_valid_needs_same_code_and_models",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.test_id}: {self.control_run_id} vs {self.treatment_run_id}"

    @property
    def control_success_rate(self) -> float | None:
        return success_rate(
            self.control_phases_complete, self.control_phases_total, self.control_phases_skipped
        )

    @property
    def treatment_success_rate(self) -> float | None:
        return success_rate(
            self.treatment_phases_complete,
            self.treatment_phases_total,
            self.treatment_phases_skipped,
        )
