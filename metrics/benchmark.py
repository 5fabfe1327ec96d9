"""A rerunnable benchmark of the token ledger at scale (see `manage.py bench_metrics`).

It builds a synthetic ledger on the configured database under run ids starting
with `bench-`, measures the consolidated endpoint, API ingestion and retention,
then measures the endpoint again with the ledger indexes dropped, restores them
and removes its data. Requests go through the whole Django stack in-process, served by
Django's WSGI handler as gunicorn serves them (middleware, authentication,
view, rendering), without a network hop.

Absolute times on a shared machine drift by 2-3x from day to day, so each hot
path is also measured against its floor, in the same run and interleaved with
it: the same SQL through a bare DB-API cursor for the reads, a COPY (PostgreSQL)
or executemany (SQLite) of the same ledger rows for ingestion. The `ratio …`
lines are the figures to compare across days and machines.
"""

import io
import json
import os
import platform
import statistics
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

from django.core.handlers.wsgi import WSGIHandler
from django.db import connection, transaction
from django.test.utils import override_settings
from django.utils import timezone

from autopack_site import kill_switches
from autopack_site.api.keys import api_key_create
from autopack_site.api.scopes import INGEST
from metrics.models import (
    TOKEN_CATEGORIES,
    DailyTokenSummary,
    DashboardEvent,
    Phase,
    PhaseMetrics,
    Run,
    Tier,
)
from metrics.retention import metrics_retention_run
from metrics.services import LEDGER_INSERT_COLUMNS, ledger_rows_insert

PREFIX = "bench-"
BIG_RUN_ROWS = 10_000
CONSOLIDATED_PAGE = 1000  # the endpoint's default page
SMALL_RUN_ROWS = 100
PHASES_PER_RUN = 5
INGEST_BATCH = 10_000
INGEST_PHASES = 100
LEDGER_INDEXES = ("metrics_ledger_run_created", "metrics_ledger_created")


@dataclass
class BenchReport:
    machine: dict[str, str]
    figures: dict[str, float] = field(default_factory=dict)
    # measure -> endpoint / floor (time ratio for reads, rows/s ratio for ingestion)
    ratios: dict[str, float] = field(default_factory=dict)

    def lines(self) -> list[str]:
        lines = [f"{key}: {value}" for key, value in self.machine.items()]
        lines += [f"{name}: {value:,.1f}" for name, value in self.figures.items()]
        lines += [f"ratio {name}: {value:.2f}" for name, value in self.ratios.items()]
        return lines


def _machine() -> dict[str, str]:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SHOW server_version")
        else:
            cursor.execute("SELECT sqlite_version()")
        version = cursor.fetchone()[0]
    return {
        "database": f"{connection.vendor} {version}",
        "machine": (
            f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
        ),
    }


def bench_data_delete() -> None:
    """Remove every benchmark run and everything that hangs off it."""
    runs = Run.objects.filter(pk__startswith=PREFIX)
    # Children first, each one set-based DELETE (no rows loaded into Python).
    for model in (PhaseMetrics, DailyTokenSummary, DashboardEvent):
        model.objects.filter(run__in=runs)._raw_delete(connection.alias)
    Phase.objects.filter(run__in=runs)._raw_delete(connection.alias)
    Tier.objects.filter(run__in=runs)._raw_delete(connection.alias)
    runs._raw_delete(connection.alias)


def bench_data_build(rows: int, runs: int, progress: Callable[[str], None]) -> tuple[str, str]:
    """Create `runs` runs holding `rows` ledger rows; return (big run id, small run id)."""
    now = timezone.now()
    run_ids = [f"{PREFIX}{index:06d}" for index in range(runs)]
    other_rows = max(rows - BIG_RUN_ROWS - SMALL_RUN_ROWS, 0)
    per_other_run, remainder = divmod(other_rows, max(runs - 2, 1))
    with transaction.atomic():
        Run.objects.bulk_create(
            [Run(id=run_id, state=Run.State.DONE_SUCCESS, created_at=now) for run_id in run_ids],
            batch_size=5000,
        )
        Tier.objects.bulk_create(
            [Tier(run_id=run_id, tier_id="T1") for run_id in run_ids], batch_size=5000
        )
        tiers = dict(Tier.objects.filter(run_id__in=run_ids).values_list("run_id", "pk"))
        phase_count = {run_ids[0]: 100, run_ids[1]: PHASES_PER_RUN}
        Phase.objects.bulk_create(
            [
                Phase(
                    run_id=run_id,
                    tier_id=tiers[run_id],
                    phase_id=f"p{number}",
                    phase_index=number,
                    state=Phase.State.COMPLETE,
                )
                for run_id in run_ids
                for number in range(phase_count.get(run_id, PHASES_PER_RUN))
            ],
            batch_size=5000,
        )
    progress(f"created {runs:,} runs and their phases")

    phases: dict[str, list[int]] = {}
    for run_id, phase_pk in (
        Phase.objects.filter(run_id__in=run_ids).order_by("pk").values_list("run_id", "pk")
    ):
        phases.setdefault(run_id, []).append(phase_pk)
    targets = {run_ids[0]: BIG_RUN_ROWS, run_ids[1]: SMALL_RUN_ROWS}
    pending: list[tuple] = []
    for index, run_id in enumerate(run_ids):
        # The first `remainder` other runs take one row more, so the total is exact.
        count = targets.get(run_id, per_other_run + (1 if 2 <= index < remainder + 2 else 0))
        run_phases = phases[run_id]
        for row_number in range(count):
            phase_pk = run_phases[row_number % len(run_phases)]
            attempt = row_number // len(run_phases) + 1
            # Spread over 60 days so that retention has old rows to roll up.
            created = now - timedelta(minutes=(index * 7919 + row_number * 13) % (60 * 24 * 60))
            pending.append(
                (
                    run_id,
                    phase_pk,
                    attempt,
                    row_number % 500,
                    row_number % 50,
                    row_number % 7,
                    1000 + row_number % 900,
                    "bench-model",
                    1.0,
                    created,
                    created,
                )
            )
    # The ledger is append-only in time: insert in created_at order so primary
    # keys follow time, as in production (retention then deletes old pk ranges).
    pending.sort(key=lambda row: row[-1])
    for start in range(0, len(pending), 50_000):
        with transaction.atomic():
            ledger_rows_insert(pending[start : start + 50_000])
        progress(f"inserted {min(start + 50_000, len(pending)):,} / {rows:,} ledger rows")
    _analyze()
    return run_ids[0], run_ids[1]


def _analyze() -> None:
    # Fresh statistics; on PostgreSQL also the visibility map that autovacuum
    # would build in production (without it, index-only scans read the heap).
    statement = "VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE"
    with connection.cursor() as cursor:
        cursor.execute(statement)


class WSGIClient:
    """Requests served by Django's WSGI handler, as gunicorn serves them: every
    middleware, authentication, view and renderer, without a network hop and
    without the test client's own work (signals, copies of the body)."""

    def __init__(self, api_key: str):
        self.api_key = api_key
        self.handler = WSGIHandler()

    def request(self, method: str, path: str, body: bytes = b"") -> tuple[str, bytes]:
        """(status line, response body)."""
        environ = {
            "REQUEST_METHOD": method,
            "PATH_INFO": path,
            "SCRIPT_NAME": "",
            "QUERY_STRING": "",
            "CONTENT_TYPE": "application/json",
            "CONTENT_LENGTH": str(len(body)),
            "HTTP_HOST": "localhost",
            "HTTP_X_API_KEY": self.api_key,
            "SERVER_NAME": "localhost",
            "SERVER_PORT": "443",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "wsgi.url_scheme": "https",
            "wsgi.input": io.BytesIO(body),
            "wsgi.errors": io.StringIO(),
        }
        statuses = []
        response = self.handler(environ, lambda status, headers: statuses.append(status))
        try:
            content = b"".join(response)
        finally:
            # As the server does (request_finished; DB connections persist
            # because nothing here is older than CONN_MAX_AGE allows).
            response.close()
        return statuses[0], content

    def expect(self, status: str, method: str, path: str, body: bytes = b"") -> bytes:
        answered, content = self.request(method, path, body)
        if not answered.startswith(status):
            raise RuntimeError(f"{method} {path} answered {answered}: {content[:200]!r}")
        return content


def _percentiles(timings: list[float]) -> tuple[float, float]:
    timings = sorted(timings)
    p95 = timings[min(len(timings) - 1, round(0.95 * (len(timings) - 1)))]
    return statistics.median(timings), p95


def _get_ok(client: WSGIClient, url: str) -> None:
    client.expect("200", "GET", url)


def _latencies(client: WSGIClient, url: str, samples: int) -> tuple[float, float]:
    for _ in range(3):  # warm caches and connections
        _get_ok(client, url)
    timings = []
    for _ in range(samples):
        started = time.perf_counter()
        _get_ok(client, url)
        timings.append((time.perf_counter() - started) * 1000)
    return _percentiles(timings)


def _consolidated_floor_statements() -> tuple[str, str]:
    """The consolidated endpoint's two essential queries, as plain SQL: the run's
    aggregate and one page of its rows, through metrics_ledger_run_created."""
    quote = connection.ops.quote_name
    ledger, phases = quote(PhaseMetrics._meta.db_table), quote(Phase._meta.db_table)
    categories = ", ".join(f"SUM(m.{quote(name)})" for name in TOKEN_CATEGORIES)
    aggregate = f"SELECT {categories}, COUNT(*) FROM {ledger} m WHERE m.run_id = %s"
    columns = ", ".join(f"m.{quote(name)}" for name in TOKEN_CATEGORIES)
    page = (
        f"SELECT (SELECT p.phase_id FROM {phases} p WHERE p.id = m.phase_id), m.attempt, "
        f"{columns}, m.model, m.created_at FROM {ledger} m WHERE m.run_id = %s "
        f"ORDER BY m.created_at DESC, m.id DESC LIMIT {CONSOLIDATED_PAGE}"
    )
    return aggregate, page


def _consolidated_versus_floor(
    client: WSGIClient, run_id: str, samples: int
) -> tuple[tuple[float, float], tuple[float, float]]:
    """(endpoint p50, p95), (floor p50, p95) in ms, sampled alternately so that
    both see the same machine."""
    url = f"/api/v1/runs/{run_id}/consolidated-metrics/"
    aggregate, page = _consolidated_floor_statements()
    if connection.vendor == "sqlite":  # the DB-API's own placeholder
        statements = (aggregate.replace("%s", "?"), page.replace("%s", "?"))
    else:  # prepared once per connection, as the endpoint's queries are
        names = (f"bench_floor_aggregate_{run_id}", f"bench_floor_page_{run_id}")
        names = tuple(name.replace("-", "_") for name in names)
        statements = tuple(f"EXECUTE {name}(%s)" for name in names)
    prepared_on = None

    def floor() -> None:
        nonlocal prepared_on
        connection.ensure_connection()  # a request may have closed an old one
        cursor = connection.connection.cursor()
        try:
            if connection.vendor == "postgresql" and prepared_on is not connection.connection:
                for name, sql in zip(names, (aggregate, page), strict=True):
                    cursor.execute(f"PREPARE {name} AS {sql.replace('%s', '$1')}")
                prepared_on = connection.connection
            for statement in statements:
                cursor.execute(statement, (run_id,))
                cursor.fetchall()
        finally:
            cursor.close()

    for _ in range(3):  # warm caches and connections
        floor()
        _get_ok(client, url)
    endpoint_ms, floor_ms = [], []
    for _ in range(samples):
        started = time.perf_counter()
        floor()
        floor_ms.append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        _get_ok(client, url)
        endpoint_ms.append((time.perf_counter() - started) * 1000)
    return _percentiles(endpoint_ms), _percentiles(floor_ms)


def _ingest_run(run_id: str) -> Run:
    run = Run.objects.create(id=run_id)
    tier = Tier.objects.create(run=run, tier_id="T1")
    Phase.objects.bulk_create(
        [Phase(run=run, tier=tier, phase_id=f"p{number}") for number in range(INGEST_PHASES)]
    )
    return run


def _ingest_batch(batch_number: int, size: int) -> list[dict]:
    """One batch as an executor sends it: new (phase, attempt) keys every batch."""
    return [
        {
            "phase_id": f"p{i % INGEST_PHASES}",
            "attempt": batch_number * (INGEST_BATCH // INGEST_PHASES) + i // INGEST_PHASES + 1,
            "retrieval_tokens": i % 300,
            "second_opinion_tokens": i % 40,
            "evidence_request_tokens": i % 9,
            "base_tokens": 1000 + i,
            "model": "bench-model",
        }
        for i in range(size)
    ]


def _floor_payload(run: Run, batch: list[dict]) -> str | list[tuple]:
    """The batch ready for the database, prepared before the clock starts: COPY
    text (PostgreSQL) or ledger tuples in LEDGER_INSERT_COLUMNS order (SQLite)."""
    phases = dict(Phase.objects.filter(run=run).values_list("phase_id", "pk"))
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    rows = [
        (
            run.pk,
            phases[row["phase_id"]],
            row["attempt"],
            *(row[name] for name in TOKEN_CATEGORIES),
            row["model"],
            None,
            now,
            now,
        )
        for row in batch
    ]
    if connection.vendor != "postgresql":
        return rows
    return "".join(
        "\t".join("\\N" if value is None else str(value) for value in row) + "\n" for row in rows
    )


def _floor_insert(payload: str | list[tuple]) -> None:
    """The physical floor of writing a batch: one COPY (PostgreSQL) or executemany
    (SQLite) through the bare DB-API cursor, committed (PostgreSQL checks the
    deferred foreign keys at the commit)."""
    quote = connection.ops.quote_name
    table = quote(PhaseMetrics._meta.db_table)
    columns = ", ".join(quote(column) for column in LEDGER_INSERT_COLUMNS)
    with transaction.atomic():
        cursor = connection.connection.cursor()
        try:
            if isinstance(payload, str):
                cursor.copy_expert(f"COPY {table} ({columns}) FROM STDIN", io.StringIO(payload))
            else:
                marks = ", ".join("?" * len(LEDGER_INSERT_COLUMNS))
                cursor.executemany(f"INSERT INTO {table} ({columns}) VALUES ({marks})", payload)
        finally:
            cursor.close()


def _post_batch(client: WSGIClient, url: str, body: bytes) -> None:
    client.expect("201", "POST", url, body)


def _ingest_versus_floor(client: WSGIClient, total_rows: int) -> tuple[float, float]:
    """(API rows/s, floor rows/s) over the same batches, alternately."""
    api_run, floor_run = _ingest_run(f"{PREFIX}ingest"), _ingest_run(f"{PREFIX}ingest-floor")
    url = f"/api/v1/runs/{api_run.pk}/metrics/"
    api_seconds = floor_seconds = 0.0
    sent = batch_number = 0
    while sent < total_rows:
        batch = _ingest_batch(batch_number, min(INGEST_BATCH, total_rows - sent))
        body, payload = json.dumps(batch).encode(), _floor_payload(floor_run, batch)
        started = time.perf_counter()
        _floor_insert(payload)
        floor_seconds += time.perf_counter() - started
        started = time.perf_counter()
        _post_batch(client, url, body)
        api_seconds += time.perf_counter() - started
        sent += len(batch)
        batch_number += 1
    return sent / api_seconds, sent / floor_seconds


def _ingest_peak_memory(client: WSGIClient, size: int) -> tuple[int, int]:
    """(request body bytes, tracemalloc peak bytes) of ingesting one new batch,
    the body already received (as the server holds it before Django runs)."""
    run = _ingest_run(f"{PREFIX}ingest-memory")
    body = json.dumps(_ingest_batch(0, size)).encode()
    url = f"/api/v1/runs/{run.pk}/metrics/"
    tracemalloc.start()
    try:
        _post_batch(client, url, body)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return len(body), peak


def _floor_name() -> str:
    return "COPY" if connection.vendor == "postgresql" else "executemany"


def _set_ledger_indexes(present: bool) -> None:
    indexes = [index for index in PhaseMetrics._meta.indexes if index.name in LEDGER_INDEXES]
    with connection.schema_editor() as editor:
        for index in indexes:
            if present:
                editor.add_index(PhaseMetrics, index)
            else:
                editor.remove_index(PhaseMetrics, index)
    _analyze()


def run_benchmark(**options) -> BenchReport:
    """Measure as production runs: with DEBUG on, Django would log every query
    (quoting a 10,000-row INSERT's parameters costs more than running it)."""
    with override_settings(DEBUG=False):
        return _run_benchmark(**options)


def _run_benchmark(
    *,
    rows: int,
    runs: int,
    samples: int,
    ingest_rows: int,
    keep: bool,
    progress: Callable[[str], None],
) -> BenchReport:
    if runs < 3 or rows < BIG_RUN_ROWS + SMALL_RUN_ROWS:
        raise ValueError(f"need at least 3 runs and {BIG_RUN_ROWS + SMALL_RUN_ROWS:,} rows")
    report = BenchReport(machine=_machine())
    previous = {name: os.environ.get(name) for name in kill_switches.REGISTRY}
    os.environ[kill_switches.PHASE6_METRICS] = "1"
    os.environ[kill_switches.CONSOLIDATED_METRICS] = "1"
    bench_data_delete()
    api_key, key = api_key_create(name=f"{PREFIX}client", scope=INGEST)
    client = WSGIClient(key)
    try:
        started = time.perf_counter()
        big, small = bench_data_build(rows, runs, progress)
        report.figures["build seconds"] = time.perf_counter() - started
        report.figures["ledger rows in table"] = PhaseMetrics.objects.count()

        for label, run_id in (("10,000-row run", big), ("100-row run", small)):
            (p50, p95), (floor_p50, _) = _consolidated_versus_floor(client, run_id, samples)
            report.figures[f"consolidated p50 ms ({label})"] = p50
            report.figures[f"consolidated p95 ms ({label})"] = p95
            report.figures[f"consolidated floor p50 ms ({label}, raw SQL)"] = floor_p50
            report.ratios[f"consolidated p50 ({label})"] = p50 / floor_p50
            progress(f"measured the consolidated endpoint for the {label}")

        api_rate, floor_rate = _ingest_versus_floor(client, ingest_rows)
        report.figures["ingestion rows/s (API, 10,000-row batches)"] = api_rate
        report.figures[f"ingestion floor rows/s ({_floor_name()})"] = floor_rate
        report.ratios["ingestion rows/s"] = api_rate / floor_rate
        body_bytes, peak_bytes = _ingest_peak_memory(client, min(INGEST_BATCH, ingest_rows))
        report.figures["ingestion request body KiB (one batch)"] = body_bytes / 1024
        report.figures["ingestion peak allocation KiB (tracemalloc)"] = peak_bytes / 1024
        report.ratios["ingestion memory (peak / body)"] = peak_bytes / body_bytes
        progress("measured ingestion")

        _set_ledger_indexes(present=False)
        try:
            for label, run_id in (("10,000-row run", big), ("100-row run", small)):
                p50, p95 = _latencies(
                    client, f"/api/v1/runs/{run_id}/consolidated-metrics/", max(samples // 5, 3)
                )
                report.figures[f"no ledger indexes: consolidated p50 ms ({label})"] = p50
                report.figures[f"no ledger indexes: consolidated p95 ms ({label})"] = p95
            progress("measured without the ledger indexes")
        finally:
            _set_ledger_indexes(present=True)

        retention_started = time.perf_counter()
        result = metrics_retention_run(days=30, batch_size=50_000)
        elapsed = time.perf_counter() - retention_started
        report.figures["retention rows rolled up"] = result.rows
        report.figures["retention rows/s"] = result.rows / elapsed if elapsed else 0.0
        progress("measured retention")
    finally:
        os.environ.update({k: v for k, v in previous.items() if v is not None})
        for name, value in previous.items():
            if value is None:
                os.environ.pop(name, None)
        api_key.delete()
        if not keep:
            bench_data_delete()
    return report
