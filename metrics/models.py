"""The run store: runs, tiers, phases, the Phase 6 token ledger and events."""

from django.core.validators import MinValueValidator, RegexValidator
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

# Ids appear in URLs and file names, so they are restricted to a safe alphabet
# (IDENTIFIER_PATTERN is also what URL routes accept as an id).
IDENTIFIER_PATTERN = r"[A-Za-z0-9][A-Za-z0-9._:-]*"
IDENTIFIER_MESSAGE = (
    "Use letters, digits, '.', '_', ':' and '-' only, starting with a letter or digit."
)
identifier_validator = RegexValidator(rf"^{IDENTIFIER_PATTERN}\Z", IDENTIFIER_MESSAGE)
IDENTIFIER_MAX_LENGTH = 200
# A run's scope is a word such as multi_tier or incremental.
run_scope_validator = RegexValidator(
    r"^[A-Za-z][A-Za-z0-9_.-]*\Z", "Use letters, digits, '_', '.' and '-', starting with a letter."
)

TOKEN_CATEGORIES = (
    "retrieval_tokens",
    "second_opinion_tokens",
    "evidence_request_tokens",
    "base_tokens",
)
# The most tokens of one category a run may hold, raw and rolled up together:
# every per-run total (a day's summary, an A/B side, a delta) then fits any
# database's BIGINT, 9.2 x 10**18, with room for the four categories' sum.
MAX_RUN_TOKENS = 10**15


def total_tokens_expression(prefix: str = "") -> models.Expression:
    """Return the SQL sum of the four ledger categories (the only total there is)."""
    first, *rest = (F(prefix + name) for name in TOKEN_CATEGORIES)
    expression = first
    for column in rest:
        expression = expression + column
    return expression


def tokens_non_negative(name: str) -> models.CheckConstraint:
    """A CHECK that every token category of a row is >= 0."""
    return models.CheckConstraint(
        condition=Q(*((f"{category}__gte", 0) for category in TOKEN_CATEGORIES)), name=name
    )


class RunQuerySet(models.QuerySet):
    def terminal(self):
        return self.filter(state__in=Run.State.terminal())

    def with_failures(self):
        """Runs in a failed state or with at least one FAILED phase."""
        failed_phase = Phase.objects.filter(run=models.OuterRef("pk"), state=Phase.State.FAILED)
        return self.filter(Q(state__in=Run.State.failed()) | Q(models.Exists(failed_phase)))

    def without_failures(self):
        failed_phase = Phase.objects.filter(run=models.OuterRef("pk"), state=Phase.State.FAILED)
        return self.exclude(state__in=Run.State.failed()).exclude(models.Exists(failed_phase))


class Run(models.Model):
    class State(models.TextChoices):
        QUEUED = "QUEUED"
        PLAN_BOOTSTRAP = "PLAN_BOOTSTRAP"
        RUN_CREATED = "RUN_CREATED"
        PHASE_QUEUEING = "PHASE_QUEUEING"
        PHASE_EXECUTION = "PHASE_EXECUTION"
        GATE = "GATE"
        CI_RUNNING = "CI_RUNNING"
        SNAPSHOT_CREATED = "SNAPSHOT_CREATED"
        DONE_SUCCESS = "DONE_SUCCESS"
        DONE_FAILED_BUDGET_EXHAUSTED = "DONE_FAILED_BUDGET_EXHAUSTED"
        DONE_FAILED_POLICY_VIOLATION = "DONE_FAILED_POLICY_VIOLATION"
        DONE_FAILED_REQUIRES_HUMAN_REVIEW = "DONE_FAILED_REQUIRES_HUMAN_REVIEW"
        DONE_FAILED_ENVIRONMENT = "DONE_FAILED_ENVIRONMENT"

        @classmethod
        def failed(cls) -> list[str]:
            return [value for value in cls.values if value.startswith("DONE_FAILED_")]

        @classmethod
        def terminal(cls) -> list[str]:
            return [value for value in cls.values if value.startswith("DONE_")]

        @classmethod
        def not_started(cls) -> list[str]:
            """States before any phase has moved (the executor's QUEUED)."""
            return [cls.QUEUED, cls.PLAN_BOOTSTRAP, cls.RUN_CREATED, cls.PHASE_QUEUEING]

    class SafetyProfile(models.TextChoices):
        NORMAL = "normal"
        SAFETY_CRITICAL = "safety_critical"

    class Scope(models.TextChoices):
        """The scopes Autopack names; the column is free text, as upstream's is
        (its executors send others, such as `incremental`)."""

        MULTI_TIER = "multi_tier"
        SINGLE_TIER = "single_tier"

    id = models.CharField(
        primary_key=True, max_length=IDENTIFIER_MAX_LENGTH, validators=[identifier_validator]
    )
    # Autopack creates a run as RUN_CREATED; its first phase moving starts it.
    state = models.CharField(max_length=40, choices=State.choices, default=State.RUN_CREATED)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)
    started_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    safety_profile = models.CharField(
        max_length=20, choices=SafetyProfile.choices, default=SafetyProfile.NORMAL
    )
    run_scope = models.CharField(
        max_length=50, default=Scope.MULTI_TIER, validators=[run_scope_validator]
    )
    token_cap = models.PositiveBigIntegerField(default=5_000_000)
    max_phases = models.PositiveIntegerField(default=25)
    max_duration_minutes = models.PositiveIntegerField(default=120)
    failure_reason = models.TextField(blank=True, default="")
    goal_anchor = models.TextField(blank=True, default="")
    # Experiment metadata: A/B validity requires both sides to match exactly. NULL is
    # "not recorded": Autopack's executor sends null for these.
    git_commit_sha = models.CharField(max_length=64, null=True, blank=True)  # noqa: DJ001
    git_branch = models.CharField(max_length=255, null=True, blank=True)  # noqa: DJ001
    model_mapping_hash = models.CharField(max_length=128, null=True, blank=True)  # noqa: DJ001
    replay_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="replays"
    )
    # Kill-switch states at creation, so a run's telemetry can be read in context.
    feature_flags = models.JSONField(default=dict, blank=True)

    objects = RunQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            # Run list filtered by state, newest first (GET /api/v1/runs/?state=…).
            models.Index(fields=["state", "-created_at"], name="metrics_run_state_created"),
        ]

    def __str__(self) -> str:
        return self.id

    @property
    def is_terminal(self) -> bool:
        return self.state in Run.State.terminal()

    @property
    def duration_seconds(self) -> float | None:
        """Start to finish, when both are known."""
        if self.started_at is None or self.completed_at is None:
            return None
        return (self.completed_at - self.started_at).total_seconds()


class Tier(models.Model):
    class State(models.TextChoices):
        PENDING = "PENDING"
        IN_PROGRESS = "IN_PROGRESS"
        COMPLETE = "COMPLETE"
        FAILED = "FAILED"
        SKIPPED = "SKIPPED"

    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="tiers")
    tier_id = models.CharField(max_length=IDENTIFIER_MAX_LENGTH, validators=[identifier_validator])
    tier_index = models.PositiveIntegerField(default=0)
    name = models.CharField(max_length=255, blank=True, default="")
    description = models.TextField(blank=True, default="")
    state = models.CharField(max_length=20, choices=State.choices, default=State.PENDING)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["run_id", "tier_index", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["run", "tier_id"], name="metrics_tier_unique_id_in_run"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.run_id}/{self.tier_id}"


class Phase(models.Model):
    class State(models.TextChoices):
        QUEUED = "QUEUED"
        EXECUTING = "EXECUTING"
        GATE = "GATE"
        CI_RUNNING = "CI_RUNNING"
        COMPLETE = "COMPLETE"
        FAILED = "FAILED"
        SKIPPED = "SKIPPED"

        @classmethod
        def terminal(cls) -> list[str]:
            return [cls.COMPLETE, cls.FAILED, cls.SKIPPED]

        @classmethod
        def executing(cls) -> list[str]:
            return [cls.EXECUTING, cls.GATE, cls.CI_RUNNING]

    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="phases")
    tier = models.ForeignKey(Tier, on_delete=models.CASCADE, related_name="phases")
    phase_id = models.CharField(max_length=IDENTIFIER_MAX_LENGTH, validators=[identifier_validator])
    phase_index = models.PositiveIntegerField(default=0)
    name = models.CharField(max_length=255, blank=True, default="")
    description = models.TextField(blank=True, default="")
    state = models.CharField(max_length=20, choices=State.choices, default=State.QUEUED)
    task_category = models.CharField(max_length=100, blank=True, default="")
    complexity = models.CharField(max_length=50, blank=True, default="")
    builder_mode = models.CharField(max_length=50, blank=True, default="")
    # {"paths": [...], "read_only_context": [...]}
    scope = models.JSONField(default=dict, blank=True)
    builder_attempts = models.PositiveIntegerField(default=0)
    auditor_attempts = models.PositiveIntegerField(default=0)
    last_failure_reason = models.TextField(blank=True, default="")
    started_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["run_id", "phase_index", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["run", "phase_id"], name="metrics_phase_unique_id_in_run"
            ),
        ]
        indexes = [
            # Phase counts by state for a run (consolidated totals, run roll-up).
            models.Index(fields=["run", "state"], name="metrics_phase_run_state"),
            # A phase named by its id alone (GET /clarification/status/{phase_id}).
            models.Index(fields=["phase_id"], name="metrics_phase_phase_id"),
        ]

    def __str__(self) -> str:
        return f"{self.run_id}/{self.phase_id}"

    @property
    def current_attempt(self) -> int:
        """The ledger attempt that executor-reported tokens belong to (1-based)."""
        return max(self.builder_attempts, 1)


class PhaseMetrics(models.Model):
    """One ledger row: the tokens one attempt of one phase spent, by category.

    There is deliberately no stored total: every total is the SQL sum of the
    four categories, so no second figure can drift from the ledger.
    """

    # No single-column index: metrics_ledger_run_created leads with run_id.
    run = models.ForeignKey(
        Run, on_delete=models.CASCADE, related_name="phase_metrics", db_index=False
    )
    # No single-column index: metrics_ledger_one_row_per_attempt leads with phase_id.
    phase = models.ForeignKey(
        Phase, on_delete=models.CASCADE, related_name="metrics", db_index=False
    )
    attempt = models.PositiveIntegerField(validators=[MinValueValidator(1)])
    retrieval_tokens = models.BigIntegerField(default=0)
    second_opinion_tokens = models.BigIntegerField(default=0)
    evidence_request_tokens = models.BigIntegerField(default=0)
    base_tokens = models.BigIntegerField(default=0)
    model = models.CharField(max_length=100, blank=True, default="")
    duration_seconds = models.FloatField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "phase metrics row"
        verbose_name_plural = "phase metrics (token ledger)"
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["phase", "attempt"], name="metrics_ledger_one_row_per_attempt"
            ),
            tokens_non_negative("metrics_ledger_tokens_non_negative"),
            models.CheckConstraint(
                condition=Q(attempt__gte=1), name="metrics_ledger_attempt_positive"
            ),
            models.CheckConstraint(
                condition=Q(duration_seconds__isnull=True) | Q(duration_seconds__gte=0),
                name="metrics_ledger_duration_non_negative",
            ),
        ]
        indexes = [
            # Consolidated metrics: a run's rows newest first (the page; id makes
            # the order total so pages never overlap) and its totals. The token
            # columns make the totals an index-only scan on both databases
            # (INCLUDE would be PostgreSQL-only).
            models.Index(
                fields=["run", "-created_at", "-id", *TOKEN_CATEGORIES],
                name="metrics_ledger_run_created",
            ),
            # Retention (rows older than a cutoff) and the cross-run daily view.
            models.Index(fields=["created_at"], name="metrics_ledger_created"),
        ]

    def __str__(self) -> str:
        return f"{self.phase} attempt {self.attempt}"


class DashboardEvent(models.Model):
    class EventType(models.TextChoices):
        RUN_STARTED = "RUN_STARTED"
        RUN_COMPLETE = "RUN_COMPLETE"
        RUN_FAILED = "RUN_FAILED"
        PHASE_STARTED = "PHASE_STARTED"
        PHASE_COMPLETE = "PHASE_COMPLETE"
        PHASE_FAILED = "PHASE_FAILED"
        BUILDER_RESULT = "BUILDER_RESULT"
        BUILDER_ERROR = "BUILDER_ERROR"
        AUDITOR_RESULT = "AUDITOR_RESULT"
        AUDITOR_ERROR = "AUDITOR_ERROR"
        CI_FAILED = "CI_FAILED"
        PATCH_FAILED = "PATCH_FAILED"
        POLICY_VIOLATION = "POLICY_VIOLATION"
        API_ERROR = "API_ERROR"
        INFO = "INFO"

        @classmethod
        def failures(cls) -> list[str]:
            """Event types whose message describes a failure (pattern-mining input)."""
            return [
                cls.RUN_FAILED,
                cls.PHASE_FAILED,
                cls.BUILDER_ERROR,
                cls.AUDITOR_ERROR,
                cls.CI_FAILED,
                cls.PATCH_FAILED,
                cls.POLICY_VIOLATION,
                cls.API_ERROR,
            ]

    # Indexed by metrics_event_run_created, which leads with run_id.
    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="events", db_index=False)
    phase = models.ForeignKey(
        Phase, null=True, blank=True, on_delete=models.CASCADE, related_name="events"
    )
    event_type = models.CharField(max_length=40, choices=EventType.choices)
    message = models.TextField(blank=True, default="")
    payload = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            # A run's events newest first (GET /api/v1/runs/{id}/events/).
            models.Index(fields=["run", "-created_at"], name="metrics_event_run_created"),
            # Failure events by type over a time window (pattern mining, dashboards).
            models.Index(fields=["event_type", "created_at"], name="metrics_event_type_created"),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} {self.run_id}"


class DailyTokenSummary(models.Model):
    """Ledger rows older than the retention window, rolled up per run and day.

    Totals stay exact after retention: a run's total is its raw rows plus these.
    """

    run = models.ForeignKey(
        Run, on_delete=models.CASCADE, related_name="daily_token_summaries", db_index=False
    )
    date = models.DateField()
    retrieval_tokens = models.BigIntegerField(default=0)
    second_opinion_tokens = models.BigIntegerField(default=0)
    evidence_request_tokens = models.BigIntegerField(default=0)
    base_tokens = models.BigIntegerField(default=0)
    row_count = models.PositiveBigIntegerField(default=0)

    class Meta:
        ordering = ["date", "run_id"]
        constraints = [
            # One summary per run and day; retention upserts into it (and the
            # unique index serves a run's roll-up totals).
            models.UniqueConstraint(fields=["run", "date"], name="metrics_daily_one_per_run_day"),
            tokens_non_negative("metrics_daily_tokens_non_negative"),
        ]
        indexes = [
            # Cross-run daily view filtered by date range.
            models.Index(fields=["date"], name="metrics_daily_date"),
        ]

    def __str__(self) -> str:
        return f"{self.run_id} {self.date}"


class UTCDate(models.Func):
    """The UTC calendar date of a datetime column, computed by the database itself.

    Django's TruncDate calls back into Python for every row on SQLite; stored
    datetimes are UTC (USE_TZ), so SQLite's own date() gives the same answer
    at C speed, and PostgreSQL converts the timestamptz at UTC.
    """

    output_field = models.DateField()

    def as_sqlite(self, compiler, connection, **extra_context):
        return self.as_sql(compiler, connection, template="date(%(expressions)s)", **extra_context)

    def as_postgresql(self, compiler, connection, **extra_context):
        return self.as_sql(
            compiler,
            connection,
            template="((%(expressions)s) AT TIME ZONE 'UTC')::date",
            **extra_context,
        )


class UTCTimestampText(models.Func):
    """A datetime column as the API writes it, by the database itself: ISO 8601 at
    UTC with a `Z`, microseconds only when there are some (`2026-11-01T12:00:00Z`,
    `2026-11-01T12:00:00.250000Z`), as DRF's DateTimeField renders it.

    SQLite stores Django's datetimes as that text with a space for the `T` and no
    zone (USE_TZ: always UTC).
    """

    output_field = models.CharField()

    def as_sqlite(self, compiler, connection, **extra_context):
        template = "replace(%(expressions)s, ' ', 'T') || 'Z'"
        return self.as_sql(compiler, connection, template=template, **extra_context)

    def as_postgresql(self, compiler, connection, **extra_context):
        utc = "(%(expressions)s) AT TIME ZONE 'UTC'"
        template = (
            f"to_char({utc}, 'YYYY-MM-DD\"T\"HH24:MI:SS') || CASE WHEN to_char({utc}, 'US') "
            f"= '000000' THEN '' ELSE to_char({utc}, '.US') END || 'Z'"
        )
        return self.as_sql(compiler, connection, template=template, **extra_context)


# Who may decide a pending approval or clarification (the admin's and the
# dashboard's forms): the model's change permission, as the admin grants it.
APPROVAL_DECIDE_PERMISSION = "metrics.change_approvalrequest"


class ApprovalRequest(models.Model):
    """A human's decision the executor waits for, polling: an approval before a risky
    change (a large deletion, a "risky" decision) or a clarification of an ambiguous
    one. Decided once: by an operator, or by the deadline's default."""

    class Kind(models.TextChoices):
        APPROVAL = "approval"
        CLARIFICATION = "clarification"

    class Status(models.TextChoices):
        PENDING = "pending"
        APPROVED = "approved"  # approvals only
        REJECTED = "rejected"
        ANSWERED = "answered"  # clarifications only

    class Method(models.TextChoices):
        API = "api"
        ADMIN = "admin"
        DASHBOARD = "dashboard"
        TIMEOUT = "timeout"
        AUTO = "auto"  # AUTOPACK_AUTO_APPROVE=1

    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.APPROVAL)
    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="approval_requests")
    phase = models.ForeignKey(Phase, on_delete=models.CASCADE, related_name="approval_requests")
    context = models.CharField(max_length=200, blank=True, default="")
    decision_info = models.JSONField(default=dict, blank=True)
    deletion_info = models.JSONField(default=dict, blank=True)
    patch_preview = models.TextField(blank=True, default="")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    requested_at = models.DateTimeField(default=timezone.now)
    timeout_at = models.DateTimeField()
    responded_at = models.DateTimeField(null=True, blank=True)
    response_method = models.CharField(max_length=20, choices=Method.choices, blank=True)
    decided_by = models.CharField(max_length=150, blank=True, default="")
    approval_reason = models.TextField(blank=True, default="")
    rejected_reason = models.TextField(blank=True, default="")
    response = models.TextField(blank=True, default="")  # a clarification's answer

    class Meta:
        ordering = ["timeout_at", "id"]
        indexes = [
            # Pending requests, oldest deadline first (GET /approval/pending, expiry).
            models.Index(fields=["status", "timeout_at"], name="metrics_approval_pending"),
            # A phase's latest clarification (GET /clarification/status/{phase_id}).
            models.Index(fields=["phase", "kind", "-requested_at"], name="metrics_approval_phase"),
        ]
        constraints = [
            # Decided once, with when and how; a rejection says why.
            models.CheckConstraint(
                condition=(
                    Q(status="pending", responded_at__isnull=True, response_method="")
                    | (
                        ~Q(status="pending")
                        & Q(responded_at__isnull=False)
                        & ~Q(response_method="")
                    )
                ),
                name="metrics_approval_decided_with_when_and_how",
            ),
            models.CheckConstraint(
                condition=~Q(status="rejected") | ~Q(rejected_reason=""),
                name="metrics_approval_rejection_has_reason",
            ),
            models.CheckConstraint(
                condition=(
                    Q(kind="approval", status__in=["pending", "approved", "rejected"])
                    | Q(kind="clarification", status__in=["pending", "answered", "rejected"])
                ),
                name="metrics_approval_status_fits_kind",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.pk} for {self.run_id}/{self.phase.phase_id}"

    @property
    def is_pending(self) -> bool:
        return self.status == self.Status.PENDING

    @property
    def risk_level(self) -> str:
        """As the executor assessed it (deletion or decision info), else ''."""
        for info in (self.deletion_info, self.decision_info):
            if isinstance(info, dict) and info.get("risk_level"):
                return str(info["risk_level"])
        return ""

    @property
    def files(self) -> list[str]:
        """The files the change touches, as the executor listed them."""
        for info, key in ((self.deletion_info, "files"), (self.decision_info, "files_modified")):
            if isinstance(info, dict) and isinstance(info.get(key), list):
                return [str(name) for name in info[key]]
        return []
