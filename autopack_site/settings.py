"""Settings for Autopack Ops, read from the environment (12-factor).

Every variable is listed in `.env.example`. Defaults give a working development
service on SQLite; production mode (`DJANGO_DEBUG` off, the default) refuses to
start without a real secret and turns on the HTTPS protections.
"""

from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
if env.bool("DJANGO_READ_DOT_ENV_FILE", default=True) and (BASE_DIR / ".env").is_file():
    # read_env never overrides variables already set, so the real environment wins.
    env.read_env(BASE_DIR / ".env")

DEVELOPMENT_SECRET_KEY = "django-insecure-autopack-ops-development-only"

DEBUG = env.bool("DJANGO_DEBUG", default=False)
SECRET_KEY = env.str("DJANGO_SECRET_KEY", default=DEVELOPMENT_SECRET_KEY)
if not DEBUG and SECRET_KEY.strip() in ("", DEVELOPMENT_SECRET_KEY):
    raise ImproperlyConfigured(
        "DJANGO_SECRET_KEY must be set to a long random value when DJANGO_DEBUG is off."
    )

ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",  # the dashboard's number formatting
    "autopack_site",
    "rest_framework",
    "rest_framework_api_key",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "metrics",
    "abtests",
    "patterns",
    "replay",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Static files before anything else touches the request (no session, no database).
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "autopack_site.middleware.DatabaseUnavailableMiddleware",
    "autopack_site.middleware.IngestionConcurrencyMiddleware",
    # Sessions, users and messages are for browsers: key clients pass them by.
    "autopack_site.middleware.BrowserSessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "autopack_site.middleware.RejectNullCharactersMiddleware",
    "autopack_site.middleware.RejectRepeatedParametersMiddleware",
    "autopack_site.middleware.TransactionIntentMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "autopack_site.middleware.BrowserAuthenticationMiddleware",
    "autopack_site.middleware.LazyMessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "autopack_site.urls"
WSGI_APPLICATION = "autopack_site.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# Database: SQLite file in the project root unless DATABASE_URL says otherwise.
DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
if "ENGINE" not in DATABASES["default"]:
    # django-environ reads an empty or schemeless URL as {}; say so instead of a KeyError.
    raise ImproperlyConfigured(
        "DATABASE_URL must be a database URL such as postgres://user@host:5432/name "
        "or sqlite:////path/to/file.sqlite3; unset it to use the SQLite default."
    )
# One transaction per request: a rejected batch writes nothing.
DATABASES["default"]["ATOMIC_REQUESTS"] = True
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DJANGO_CONN_MAX_AGE", default=60)
# How long a SQLite writer waits for the write lock before "database is locked" (a
# 503): long enough for 50 concurrent ingestion batches to take their turns, well
# within gunicorn's request timeout.
SQLITE_BUSY_TIMEOUT_MS = env.int("AUTOPACK_SQLITE_BUSY_TIMEOUT_MS", default=30_000)
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL and a busy timeout let the dashboard read while the executor writes;
    # writers begin IMMEDIATE (no "database is locked" on lock upgrades between
    # writers) and read-only requests DEFERRED, so reads never wait for the lock
    # (autopack_site.db.sqlite3).
    DATABASES["default"]["ENGINE"] = "autopack_site.db.sqlite3"
    # synchronous=NORMAL is safe with WAL (no corruption; a power cut may lose
    # the last commits) and saves an fsync per transaction. Connections persist
    # (CONN_MAX_AGE above, one per server thread), so each keeps a warm page
    # cache: 16 MiB (default 2 MiB) holds the hot ledger index pages, and bounds
    # the server's cache memory to 16 MiB per thread (gunicorn.conf.py's threads).
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "init_command": (
                f"PRAGMA journal_mode=WAL; PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}; "
                "PRAGMA synchronous=NORMAL; PRAGMA cache_size=-16384;"
            ),
            "transaction_mode": "IMMEDIATE",
        }
    )
elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # A persistent connection the server dropped (a restart) is replaced before the
    # request uses it, instead of failing that request.
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    # An unreachable server must fail health checks quickly, not hang them.
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault(
        "connect_timeout", env.int("DATABASE_CONNECT_TIMEOUT", default=5)
    )

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(env.str("DJANGO_STATIC_ROOT", default=str(BASE_DIR / "staticfiles")))
# WhiteNoise serves STATIC_ROOT (`collectstatic`), compressed; without a manifest, so
# templates render before collectstatic has run (tests, development).
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
# In development WhiteNoise serves straight from the apps' folders, no collectstatic.
WHITENOISE_USE_FINDERS = DEBUG
WHITENOISE_AUTOREFRESH = DEBUG

# --- Security: secure by default when DEBUG is off; each flag can be overridden
# for deployments that terminate TLS at a proxy.
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=not DEBUG)
# Container and load-balancer probes speak plain HTTP to the pod.
SECURE_REDIRECT_EXEMPT = [r"^health(/|$)"]
SESSION_COOKIE_SECURE = env.bool("DJANGO_SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env.bool("DJANGO_CSRF_COOKIE_SECURE", default=not DEBUG)
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=0 if DEBUG else 31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool(
    "DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", default=not DEBUG
)
SECURE_HSTS_PRELOAD = env.bool("DJANGO_SECURE_HSTS_PRELOAD", default=not DEBUG)
if env.bool("DJANGO_SECURE_PROXY_SSL_HEADER", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "autopack_site.api.authentication.ApiKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    # Authenticated, with a key scope covering the request (autopack_site.api.scopes).
    "DEFAULT_PERMISSION_CLASSES": ["autopack_site.api.scopes.HasScope"],
    # JSON only: a form body has no null, no numbers and no nesting (a form-encoded
    # run stored git_commit_sha as the string "null"); anything else is a 415.
    "DEFAULT_PARSER_CLASSES": ["autopack_site.api.parsers.JSONParser"],
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": "autopack_site.api.negotiation.ContentNegotiation",
    "DEFAULT_PAGINATION_CLASS": "autopack_site.api.pagination.StrictLimitOffsetPagination",
    "PAGE_SIZE": 100,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "autopack_site.api.schema.AutoSchema",
    "EXCEPTION_HANDLER": "autopack_site.api.exceptions.exception_handler",
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Autopack Ops API",
    "DESCRIPTION": (
        "Control plane for Autopack runs: telemetry, token ledger, events. "
        "Request bodies are JSON, with each value of the type its field states; "
        "text never contains U+0000 (no supported database stores it: a 400). "
        "An optional query parameter sent empty counts as not given; only list "
        "filters may be repeated."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_AUTHENTICATION": [],
    "COMPONENT_SPLIT_REQUEST": True,
    "GET_LIB_DOC_EXCLUDES": "autopack_site.api.schema.lib_doc_excludes",
    "ENUM_NAME_OVERRIDES": {
        "RunStateEnum": "metrics.models.Run.State",
        "TierStateEnum": "metrics.models.Tier.State",
        "PhaseStateEnum": "metrics.models.Phase.State",
        "EventTypeEnum": "metrics.models.DashboardEvent.EventType",
        "ExecutorRunStatusEnum": ["COMPLETE", "FAILED", "RUNNING", "QUEUED"],
        "ReplayCampaignStatusEnum": "replay.models.ReplayCampaign.Status",
        "ReplayAttemptStatusEnum": "replay.models.ReplayAttempt.Status",
        "ReplayExecutorEnum": "replay.models.ReplayCampaign.Executor",
        "ApprovalStatusEnum": "metrics.models.ApprovalRequest.Status",
        "ApprovalKindEnum": "metrics.models.ApprovalRequest.Kind",
        "ApprovalResponseMethodEnum": "metrics.models.ApprovalRequest.Method",
        "ApprovalCreatedStatusEnum": ["pending", "approved"],
        "ClarificationCreatedStatusEnum": ["pending"],
    },
    # Serve Swagger UI from our own static files: no CDN at run time.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
}

# Ingestion batches running at once per server process (the rest wait, costing no
# CPU), so CPU-bound batches never starve the health probes; and which requests count.
AUTOPACK_INGEST_CONCURRENCY = env.int("AUTOPACK_INGEST_CONCURRENCY", default=1)
AUTOPACK_INGEST_PATHS = r"^/api/v1/runs/[^/]+/(metrics|events)/?$"

# A database outage is answered 503 with this Retry-After (seconds).
AUTOPACK_RETRY_AFTER_SECONDS = env.int("AUTOPACK_RETRY_AFTER_SECONDS", default=5)

# Service metadata reported by /health.
AUTOPACK_VERSION = env.str("AUTOPACK_VERSION", default="")
# Figures the apps add to /health: field name -> function computing it.
# The API's list filters: the only query parameters a request may repeat
# (`?state=A&state=B`); any other given twice is a 400.
AUTOPACK_LIST_QUERY_PARAMETERS = frozenset({"state", "event_type", "kind", "status"})
AUTOPACK_HEALTH_FIGURES = {"pending_approvals": "metrics.selectors.approvals_pending_count"}

# Ledger rows older than this many days are rolled up into daily summaries.
AUTOPACK_METRICS_RETENTION_DAYS = env.int("AUTOPACK_METRICS_RETENTION_DAYS", default=30)

# Human approvals. This product never approves on a human's behalf unless told to:
# auto-approval is OFF unless exactly "1" (upstream Autopack defaults it on). A request
# no one decides within the timeout resolves to the default (reject unless "approve").
AUTOPACK_AUTO_APPROVE = env.str("AUTOPACK_AUTO_APPROVE", default="") == "1"
AUTOPACK_APPROVAL_TIMEOUT_MINUTES = env.float("AUTOPACK_APPROVAL_TIMEOUT_MINUTES", default=15.0)
AUTOPACK_APPROVAL_DEFAULT_ON_TIMEOUT = env.str(
    "AUTOPACK_APPROVAL_DEFAULT_ON_TIMEOUT", default="reject"
).lower()
if AUTOPACK_APPROVAL_DEFAULT_ON_TIMEOUT not in ("reject", "approve"):
    raise ImproperlyConfigured(
        "AUTOPACK_APPROVAL_DEFAULT_ON_TIMEOUT must be 'reject' or 'approve', "
        f"not {AUTOPACK_APPROVAL_DEFAULT_ON_TIMEOUT!r}."
    )
if AUTOPACK_APPROVAL_TIMEOUT_MINUTES <= 0:
    raise ImproperlyConfigured("AUTOPACK_APPROVAL_TIMEOUT_MINUTES must be greater than 0.")

# Replay campaigns: this server's base URL as executors reach it (and whose /health
# must have Phase 6 on), the command that executes one run, and where reports go.
AUTOPACK_API_URL = env.str("AUTOPACK_API_URL", default="http://127.0.0.1:8000")
AUTOPACK_EXECUTOR_COMMAND = env.str("AUTOPACK_EXECUTOR_COMMAND", default="")
# An executor class replacing local and api for every campaign: `bench_replay`'s
# workers use replay.benchmark.InstantExecutor. Unset in production.
AUTOPACK_REPLAY_EXECUTOR_CLASS = env.str("AUTOPACK_REPLAY_EXECUTOR_CLASS", default="")
# The api executor polls GET /runs/{id}/status about this often (Autopack's 2 s).
AUTOPACK_API_POLL_SECONDS = env.float("AUTOPACK_API_POLL_SECONDS", default=2.0)
# POST /runs/{id}/execute: how long this server's local executor may run one run.
AUTOPACK_EXECUTE_TIMEOUT_SECONDS = env.int("AUTOPACK_EXECUTE_TIMEOUT_SECONDS", default=3600)
AUTOPACK_REPLAY_RESULTS_DIR = Path(
    env.str("AUTOPACK_REPLAY_RESULTS_DIR", default=str(BASE_DIR / "archive" / "replay_results"))
)

# Optional dependencies checked by /health/ready only when configured.
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="")
# Replay attempts as Celery tasks: acknowledged when done, so a worker killed mid-
# replay leaves its message to be delivered again (Redis: after the visibility
# timeout, longer than any replay runs; a redelivered attempt that is still beating
# elsewhere waits, it never starts a second executor). One task at a time per
# worker process: each may run for an hour.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=2 * 3600),
    # How often a Redis worker looks for messages past the visibility timeout (every
    # interval × throttle seconds; kombu's defaults, 10 × 10).
    "unacked_restore_interval": env.int("CELERY_UNACKED_RESTORE_INTERVAL", default=10),
    "unacked_restore_throttle": env.int("CELERY_UNACKED_RESTORE_THROTTLE", default=10),
}
# A running attempt reports every AUTOPACK_REPLAY_HEARTBEAT_SECONDS; one silent for
# AUTOPACK_REPLAY_STALE_SECONDS has lost its runner and may be taken over.
AUTOPACK_REPLAY_HEARTBEAT_SECONDS = env.float("AUTOPACK_REPLAY_HEARTBEAT_SECONDS", default=5.0)
AUTOPACK_REPLAY_STALE_SECONDS = env.float("AUTOPACK_REPLAY_STALE_SECONDS", default=30.0)
QDRANT_HOST = env.str("QDRANT_HOST", default="")
QDRANT_PORT = env.int("QDRANT_PORT", default=6333)

LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
}
