"""A rerunnable benchmark of the token ledger at scale (see `manage.py bench_metrics`).

It builds a synthetic ledger on the configured database under run ids starting
with `bench-`, measures the consolidated endpoint, API ingestion and retention,
then measures the endpoint again with the ledger indexes dropped, restores them
and removes its data. Requests go through the whole Django stack in-process
(middleware, authentication, view, serialisation), without a network hop.
"""

import json
import os
import platform
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

from django.db import connection, transaction
from django.test import Client
from django.utils import timezone

from autopack_site import kill_switches
from autopack_site.api.keys import api_key_create
from autopack_site.api.scopes import INGEST
from metrics.models import (
    DailyTokenSummary,
    DashboardEvent,
    Phase,
    PhaseMetrics,
    Run,
    Tier,
)
from metrics.retention import metrics_retention_run
from metrics.services import ledger_rows_insert

PREFIX = "bench-"
BIG_RUN_ROWS = 10_000
SMALL_RUN_ROWS = 100
PHASES_PER_RUN = 5
INGEST_BATCH = 10_000
LEDGER_INDEXES = ("metrics_ledger_run_created", "metrics_ledger_created")


@dataclass
class BenchReport:
    machine: dict[str, str]
    figures: dict[str, float] = field(default_factory=dict)

    def lines(self) -> list[str]:
        lines = [f"{key}: {value}" for key, value in self.machine.items()]
        lines += [f"{name}: {value:,.1f}" for name, value in self.figures.items()]
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


def _build(rows: int, runs: int, progress: Callable[[str], None]) -> tuple[str, str]:
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


def _latencies(client: Client, url: str, samples: int) -> tuple[float, float]:
    for _ in range(3):  # warm caches and connections
        client.get(url)
    timings = []
    for _ in range(samples):
        started = time.perf_counter()
        response = client.get(url)
        timings.append((time.perf_counter() - started) * 1000)
        if response.status_code != 200:
            raise RuntimeError(f"{url} answered {response.status_code}")
    timings.sort()
    p95 = timings[min(len(timings) - 1, round(0.95 * (len(timings) - 1)))]
    return statistics.median(timings), p95


def _ingest(client: Client, total_rows: int) -> float:
    run = Run.objects.create(id=f"{PREFIX}ingest")
    tier = Tier.objects.create(run=run, tier_id="T1")
    Phase.objects.bulk_create(
        [Phase(run=run, tier=tier, phase_id=f"p{number}") for number in range(100)]
    )
    url = f"/api/v1/runs/{run.pk}/metrics/"
    started = time.perf_counter()
    sent = 0
    batch_number = 0
    while sent < total_rows:
        batch = [
            {
                "phase_id": f"p{i % 100}",
                "attempt": batch_number * 100 + i // 100 + 1,
                "retrieval_tokens": i % 300,
                "second_opinion_tokens": i % 40,
                "evidence_request_tokens": i % 9,
                "base_tokens": 1000 + i,
                "model": "bench-model",
            }
            for i in range(min(INGEST_BATCH, total_rows - sent))
        ]
        response = client.post(url, json.dumps(batch), content_type="application/json")
        if response.status_code != 201:
            raise RuntimeError(
                f"ingestion answered {response.status_code}: {response.content[:200]}"
            )
        sent += len(batch)
        batch_number += 1
    return sent / (time.perf_counter() - started)


def _set_ledger_indexes(present: bool) -> None:
    indexes = [index for index in PhaseMetrics._meta.indexes if index.name in LEDGER_INDEXES]
    with connection.schema_editor() as editor:
        for index in indexes:
            if present:
                editor.add_index(PhaseMetrics, index)
            else:
                editor.remove_index(PhaseMetrics, index)
    _analyze()


def run_benchmark(
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
    client = Client(HTTP_X_API_KEY=key, HTTP_HOST="localhost", secure=True)
    try:
        started = time.perf_counter()
        big, small = _build(rows, runs, progress)
        report.figures["build seconds"] = time.perf_counter() - started
        report.figures["ledger rows in table"] = PhaseMetrics.objects.count()

        for label, run_id in (("10,000-row run", big), ("100-row run", small)):
            p50, p95 = _latencies(client, f"/api/v1/runs/{run_id}/consolidated-metrics/", samples)
            report.figures[f"consolidated p50 ms ({label})"] = p50
            report.figures[f"consolidated p95 ms ({label})"] = p95
            progress(f"measured the consolidated endpoint for the {label}")

        report.figures["ingestion rows/s (API, 10,000-row batches)"] = _ingest(client, ingest_rows)
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
