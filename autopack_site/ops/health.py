"""Dependency checks behind /health, /health/ready and `manage.py health_check`.

The database check is a read-only ``SELECT 1`` (never a write). Required
dependencies (database, applied migrations) decide pass/fail; optional ones
(task broker, Qdrant) only turn the status to warn, and only when configured.
Nothing here reports hosts, users or passwords.

django-health-check was considered: its database check writes a row, and its
output is not the executor's /health contract nor IETF health+json, so the few
checks we need are written here against the standard library.
"""

import hashlib
import socket
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlsplit

from django.conf import settings
from django.db import DatabaseError, connections
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.recorder import MigrationRecorder
from django.utils.module_loading import import_string

from autopack_site import kill_switches

PASS, WARN, FAIL = "pass", "warn", "fail"
OPTIONAL_TIMEOUT_SECONDS = 2.0


@dataclass
class Check:
    """One entry of the health+json `checks` map."""

    key: str  # "component:measurement"
    status: str
    observed_value: object = None
    observed_unit: str = ""
    component_type: str = "component"
    required: bool = True
    output: str = ""
    time: str = field(default_factory=lambda: _now_iso())

    def as_health_json(self) -> dict:
        entry = {
            "componentType": self.component_type,
            "observedValue": self.observed_value,
            "observedUnit": self.observed_unit,
            "status": self.status,
            "time": self.time,
        }
        if self.output:
            entry["output"] = self.output
        return entry


def _now_iso() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


def _elapsed_ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 2)


def check_database(alias: str = "default") -> Check:
    """Run a read-only SELECT 1 and report its latency."""
    connection = connections[alias]
    started = time.perf_counter()
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError as exc:
        # Drop the broken connection so the next request reconnects.
        connection.close_if_unusable_or_obsolete()
        return Check(
            "database:responseTime", FAIL, None, "ms", "datastore", output=type(exc).__name__
        )
    return Check("database:responseTime", PASS, _elapsed_ms(started), "ms", "datastore")


@lru_cache(maxsize=8)
def _migrations_on_disk(alias: str) -> frozenset[tuple[str, str]]:
    """Every migration the code ships: read from disk once per process (the code does
    not change under a running process); building the graph costs tens of
    milliseconds of CPU, which under load made /health/ready slow."""
    loader = MigrationLoader(None, ignore_no_migrations=True)
    return frozenset(loader.graph.nodes)


def warm_up() -> None:
    """Read once what the probes need from disk (a server calls this before forking)."""
    for alias in settings.DATABASES:
        _migrations_on_disk(alias)


def check_migrations(alias: str = "default") -> Check:
    """Count migrations on disk that the database has not applied (one query)."""
    try:
        applied = MigrationRecorder(connections[alias]).applied_migrations()
        pending = len(_migrations_on_disk(alias) - set(applied))
    except DatabaseError as exc:
        return Check(
            "migrations:pending", FAIL, None, "migrations", "datastore", output=type(exc).__name__
        )
    return Check(
        "migrations:pending", PASS if pending == 0 else FAIL, pending, "migrations", "datastore"
    )


def check_broker(url: str) -> Check:
    """Reach the task broker: Redis must answer PING; others must accept TCP."""
    parts = urlsplit(url)
    default_port = {"redis": 6379, "rediss": 6380, "amqp": 5672, "pyamqp": 5672}.get(
        parts.scheme, 0
    )
    started = time.perf_counter()
    try:
        with socket.create_connection(
            (parts.hostname or "localhost", parts.port or default_port),
            timeout=OPTIONAL_TIMEOUT_SECONDS,
        ) as sock:
            if parts.scheme.startswith("redis"):
                sock.sendall(b"PING\r\n")
                reply = sock.recv(64)
                # "-NOAUTH" still proves a live Redis; anything else is not Redis.
                if not reply.startswith((b"+PONG", b"-NOAUTH")):
                    raise OSError("unexpected reply")
    except OSError as exc:
        return Check(
            "broker:connection",
            WARN,
            None,
            "ms",
            "component",
            required=False,
            output=type(exc).__name__,
        )
    return Check("broker:connection", PASS, _elapsed_ms(started), "ms", required=False)


def check_qdrant(host: str, port: int) -> Check:
    """Ask Qdrant's readiness endpoint, within the optional-dependency timeout."""
    started = time.perf_counter()
    url = f"http://{host}:{port}/readyz"
    try:
        with urllib.request.urlopen(url, timeout=OPTIONAL_TIMEOUT_SECONDS) as response:
            healthy = response.status == 200
    except (OSError, urllib.error.URLError) as exc:
        return Check(
            "qdrant:connection", WARN, None, "ms", required=False, output=type(exc).__name__
        )
    status = PASS if healthy else WARN
    return Check("qdrant:connection", status, _elapsed_ms(started), "ms", required=False)


def kill_switch_checks() -> list[Check]:
    return [
        Check(f"killSwitch:{key}", PASS, enabled, "enabled", "component", required=False)
        for key, enabled in kill_switches.snapshot().items()
    ]


def readiness_checks() -> list[Check]:
    """Run every configured check; the database first, migrations only if it is up."""
    database = check_database()
    checks = [database]
    if database.status == PASS:
        checks.append(check_migrations())
    else:
        checks.append(
            Check(
                "migrations:pending",
                FAIL,
                None,
                "migrations",
                "datastore",
                output="database unreachable",
            )
        )
    if settings.CELERY_BROKER_URL:
        checks.append(check_broker(settings.CELERY_BROKER_URL))
    if settings.QDRANT_HOST:
        checks.append(check_qdrant(settings.QDRANT_HOST, settings.QDRANT_PORT))
    checks.extend(kill_switch_checks())
    return checks


def overall_status(checks: list[Check]) -> str:
    if any(check.status == FAIL and check.required for check in checks):
        return FAIL
    if any(check.status != PASS for check in checks):
        return WARN
    return PASS


def readiness_report() -> dict:
    """The /health/ready document (IETF draft application/health+json)."""
    checks = readiness_checks()
    report_checks: dict[str, list[dict]] = {}
    for check in checks:
        report_checks.setdefault(check.key, []).append(check.as_health_json())
    return {
        "status": overall_status(checks),
        "version": service_version(),
        "serviceId": "autopack",
        "description": "Autopack Ops control plane",
        "checks": report_checks,
    }


def legacy_health_report() -> dict:
    """The /health document in the shape the Autopack executor expects."""
    database = check_database()
    migrations = check_migrations() if database.status == PASS else None
    healthy = database.status == PASS and migrations is not None and migrations.status == PASS
    return {
        "service": "autopack",
        "status": "healthy" if healthy else "unhealthy",
        "db_ok": database.status == PASS,
        "migrations_pending": migrations.observed_value if migrations else None,
        # Figures the apps report (pending approvals), None when the database is down.
        **{name: figure() if healthy else None for name, figure in _health_figures().items()},
        "kill_switches": kill_switches.snapshot(),
        "version": service_version(),
        "timestamp": _now_iso(),
        "database_identity": database_identity(),
    }


def _health_figures() -> dict[str, Callable[[], object]]:
    """AUTOPACK_HEALTH_FIGURES: /health field -> dotted path of a function computing it
    (the settings wire the apps in; this module imports none)."""
    return {name: import_string(path) for name, path in settings.AUTOPACK_HEALTH_FIGURES.items()}


def database_identity(alias: str = "default") -> str:
    """Return a short hash naming the database without revealing it.

    Computed from ``engine://host:port/name`` (no user, no password), so an
    executor and a server can prove they use the same database.
    """
    return database_identity_of(settings.DATABASES[alias])


def database_identity_of(db: dict) -> str:
    engine = db["ENGINE"].rsplit(".", 1)[-1]
    masked = f"{engine}://{db.get('HOST') or ''}:{db.get('PORT') or ''}/{db.get('NAME') or ''}"
    return hashlib.sha256(masked.encode("utf-8")).hexdigest()[:12]


def service_version() -> str:
    return settings.AUTOPACK_VERSION or _git_commit() or "unknown"


@lru_cache(maxsize=1)
def _git_commit() -> str:
    """Read the checked-out commit from .git without running git."""
    git_dir = Path(settings.BASE_DIR) / ".git"
    try:
        head = (git_dir / "HEAD").read_text(encoding="utf-8").strip()
        if not head.startswith("ref: "):
            return head[:12]
        ref = head[5:]
        ref_file = git_dir / ref
        if ref_file.is_file():
            return ref_file.read_text(encoding="utf-8").strip()[:12]
        packed = (git_dir / "packed-refs").read_text(encoding="utf-8")
    except OSError:
        return ""
    for line in packed.splitlines():
        if line.endswith(" " + ref):
            return line.split(" ", 1)[0][:12]
    return ""
