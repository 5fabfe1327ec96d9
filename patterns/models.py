"""Failure patterns mined by `manage.py pattern_expansion`, with their triage status."""

from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models

from patterns.mining.describe import PATTERN_ID

pattern_id_validator = RegexValidator(rf"^{PATTERN_ID.pattern}$", "Use a-z, 0-9 and _ only.")


class Pattern(models.Model):
    class Kind(models.TextChoices):
        PATCH = "patch", "Patch"
        TOKEN_LIMIT = "token_limit", "Token limit"
        CI_TEST = "ci_test", "CI/test"
        IMPORT = "import", "Import"
        API_NETWORK = "api_network", "API/network"
        DATABASE = "database", "Database"
        POLICY_SCOPE = "policy_scope", "Policy/scope"
        OTHER = "other", "Other"

    class Status(models.TextChoices):
        TODO = "TODO", "To do"
        IN_PROGRESS = "IN_PROGRESS", "In progress"
        DONE = "DONE", "Done"
        WONT_FIX = "WONT_FIX", "Won't fix"

    pattern_id = models.CharField(max_length=64, unique=True, validators=[pattern_id_validator])
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.OTHER)
    template = models.TextField()
    regex = models.TextField()
    keywords = models.JSONField(default=list, blank=True)
    occurrences = models.PositiveIntegerField(default=0)
    run_count = models.PositiveIntegerField(default=0)
    run_ids = models.JSONField(default=list, blank=True)
    samples = models.JSONField(default=list, blank=True)
    first_seen = models.DateTimeField(null=True, blank=True)
    last_seen = models.DateTimeField(null=True, blank=True)
    # Set by people in the admin; the command never changes it.
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.TODO)
    # Set by people (admin action "merge"): one cause worded differently. Mining then
    # files this pattern's messages under the target, whose detector finds both.
    merged_into = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="merged_patterns"
    )
    # Set by people (admin action "different causes"): a merge suggestion they
    # declined, so it is not suggested again.
    distinct_from = models.ManyToManyField("self", symmetrical=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-occurrences", "pattern_id"]
        indexes = [models.Index(fields=["status", "-occurrences"], name="patterns_status_occ")]

    def __str__(self) -> str:
        return self.pattern_id

    def clean(self) -> None:
        target = self.merged_into
        if target is None:
            return
        if target.pk == self.pk:
            raise ValidationError({"merged_into": "A pattern cannot be merged into itself."})
        if target.merged_into_id is not None:
            raise ValidationError(
                {"merged_into": f"{target} is itself merged into another pattern."}
            )
        if self.pk is not None and self.merged_patterns.exists():
            raise ValidationError(
                {"merged_into": "Other patterns are merged into this one; merge them directly."}
            )
