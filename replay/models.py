"""Replay campaigns: failed runs re-run as clones, one attempt per original run."""

from django.db import models
from django.db.models import Q
from django.utils import timezone

from metrics.models import Run


class ReplayCampaign(models.Model):
    class Status(models.TextChoices):
        PENDING = "PENDING"
        RUNNING = "RUNNING"
        COMPLETED = "COMPLETED"  # every attempt finished and every replay recovered
        PARTIAL = "PARTIAL"  # every attempt finished, some replays still failed
        FAILED = "FAILED"  # every attempt finished and none recovered
        CANCELLED = "CANCELLED"

        @classmethod
        def finished(cls) -> list[str]:
            return [cls.COMPLETED, cls.PARTIAL, cls.FAILED, cls.CANCELLED]

    class Executor(models.TextChoices):
        LOCAL = "local"
        API = "api"

    id = models.CharField(primary_key=True, max_length=64)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)
    created_by = models.CharField(max_length=150, blank=True, default="")
    # What selected the runs: {"run_ids": [...], "from_date", "to_date", "state"}.
    filters = models.JSONField(default=dict, blank=True)
    executor = models.CharField(max_length=10, choices=Executor.choices, default=Executor.LOCAL)
    batch_size = models.PositiveIntegerField(default=5)
    timeout_seconds = models.PositiveIntegerField(default=3600)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    # Mine the still-failing replays' failures into the summary (--expand-patterns).
    expand_patterns = models.BooleanField(default=False)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # Set when its runner was told to stop (Ctrl-C, SIGTERM): nothing more starts and
    # running attempts go back to the queue; --resume clears it.
    interrupted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(batch_size__gte=1), name="replay_campaign_batch_positive"
            ),
            models.CheckConstraint(
                condition=Q(timeout_seconds__gte=1), name="replay_campaign_timeout_positive"
            ),
        ]

    def __str__(self) -> str:
        return self.id

    @property
    def is_finished(self) -> bool:
        """Ended, every attempt done (a CANCELLED campaign may still be killing some:
        its finish time is set once the last one stops)."""
        return self.status in self.Status.finished() and self.finished_at is not None


class ReplayAttempt(models.Model):
    class Status(models.TextChoices):
        QUEUED = "QUEUED"
        DISPATCHED = "DISPATCHED"
        RUNNING = "RUNNING"
        SUCCEEDED = "SUCCEEDED"  # the replay run ended DONE_SUCCESS: the failure recovered
        FAILED = "FAILED"  # the executor finished, the replay run did not succeed
        TIMED_OUT = "TIMED_OUT"
        ERROR = "ERROR"  # the executor could not run, crashed, or left the run unfinished
        CANCELLED = "CANCELLED"

        @classmethod
        def finished(cls) -> list[str]:
            return [cls.SUCCEEDED, cls.FAILED, cls.TIMED_OUT, cls.ERROR, cls.CANCELLED]

        @classmethod
        def unfinished(cls) -> list[str]:
            return [cls.QUEUED, cls.DISPATCHED, cls.RUNNING]

    # No single-column index: the unique pair and the status index lead with campaign.
    campaign = models.ForeignKey(
        ReplayCampaign, on_delete=models.CASCADE, related_name="attempts", db_index=False
    )
    # PROTECT: an original with replays on record is part of an audit trail.
    original_run = models.ForeignKey(Run, on_delete=models.PROTECT, related_name="replay_attempts")
    # Set when the clone is made (at dispatch); one attempt per replay run.
    replay_run = models.OneToOneField(
        Run, null=True, blank=True, on_delete=models.SET_NULL, related_name="replay_attempt"
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    exit_code = models.IntegerField(null=True, blank=True)
    error = models.TextField(blank=True, default="")
    log_path = models.CharField(max_length=500, blank=True, default="")
    report_path = models.CharField(max_length=500, blank=True, default="")

    class Meta:
        ordering = ["campaign_id", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "original_run"], name="replay_attempt_one_per_original"
            ),
        ]
        indexes = [
            # Counts per status and the next attempts to dispatch, per campaign.
            models.Index(fields=["campaign", "status"], name="replay_attempt_campaign_status"),
        ]

    def __str__(self) -> str:
        return f"{self.campaign_id}: {self.original_run_id}"
