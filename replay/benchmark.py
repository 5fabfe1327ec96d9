"""What a campaign costs per replay beyond its executor: clone, dispatch, bookkeeping
(claim, judge, A/B pair) and reports, with an executor that returns at once.

`manage.py bench_replay` runs it on the configured database, in the in-process pool
and with Celery workers (subprocesses) when a broker answers.
"""

from __future__ import annotations

import contextlib
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from abtests.models import ABTestResult
from autopack_site.celery import app
from autopack_site.testing import celery_worker, database_url, subprocess_env
from metrics.models import Phase, Run, Tier
from replay import runner, services, tasks
from replay.executors import ExecutorOutcome
from replay.models import ReplayAttempt, ReplayCampaign

BENCH_PREFIX = "bench-replay-"
PHASES_PER_RUN = 3
WAIT_SECONDS = 600


@dataclass(frozen=True)
class InstantExecutor:
    """An executor that returns at once, the replay finished as a success (it writes
    the run's end state, as a real executor's reports would)."""

    api_key: str = ""

    def check(self) -> None:
        return None

    def run(self, run_id: str, *, timeout, log_path, should_stop=lambda: False):
        now = timezone.now()
        Run.objects.filter(pk=run_id).update(
            state=Run.State.DONE_SUCCESS, started_at=now, completed_at=now, updated_at=now
        )
        return ExecutorOutcome(exit_code=0)


@transaction.atomic
def bench_runs_create(count: int) -> list[Run]:
    """`count` failed runs, each with a tier and PHASES_PER_RUN phases (one failed)."""
    now = timezone.now()
    runs = Run.objects.bulk_create(
        Run(
            id=f"{BENCH_PREFIX}{index:05d}",
            state=Run.State.DONE_FAILED_REQUIRES_HUMAN_REVIEW,
            created_at=now - timedelta(hours=1),
            started_at=now - timedelta(hours=1),
            completed_at=now - timedelta(minutes=30),
            git_commit_sha="b" * 40,
            model_mapping_hash="m" * 16,
            failure_reason="phase failed",
        )
        for index in range(count)
    )
    tiers = Tier.objects.bulk_create(Tier(run=run, tier_id="T0") for run in runs)
    Phase.objects.bulk_create(
        Phase(
            run=tier.run,
            tier=tier,
            phase_id=f"p{index}",
            phase_index=index,
            state=Phase.State.FAILED if index == PHASES_PER_RUN - 1 else Phase.State.COMPLETE,
        )
        for tier in tiers
        for index in range(PHASES_PER_RUN)
    )
    return runs


def bench_data_delete() -> None:
    """Every benchmark run, its replays, campaigns and A/B pairs."""
    campaign_ids = list(
        ReplayCampaign.objects.filter(
            attempts__original_run__id__startswith=BENCH_PREFIX
        ).values_list("pk", flat=True)
    )
    ABTestResult.objects.filter(control_run__id__startswith=BENCH_PREFIX).delete()
    ReplayCampaign.objects.filter(pk__in=campaign_ids).delete()
    Run.objects.filter(id__startswith=BENCH_PREFIX, replay_of__isnull=False).delete()
    Run.objects.filter(id__startswith=BENCH_PREFIX).delete()


def _campaign(runs: list[Run], batch_size: int) -> ReplayCampaign:
    campaign = services.replay_campaign_create(
        runs=runs,
        filters={"bench": True},
        executor_name=ReplayCampaign.Executor.LOCAL,
        batch_size=batch_size,
        timeout_seconds=60,
        created_by="bench_replay",
    )
    _statistics_refresh()
    return campaign


def _statistics_refresh() -> None:
    """Planner statistics for what was just bulk-loaded (and deleted before), as
    autovacuum would have them in a steady state: stale ones, right after, make
    PostgreSQL's timings swing by half."""
    models = (Run, Tier, Phase, ABTestResult, ReplayCampaign, ReplayAttempt)
    with connection.cursor() as cursor:
        for model in models:
            cursor.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")


def measure_pool(*, count: int, batch_size: int) -> dict:
    runs = bench_runs_create(count)
    campaign = _campaign(runs, batch_size)
    started = time.perf_counter()
    campaign = runner.campaign_run(campaign=campaign, executor=InstantExecutor())
    seconds = time.perf_counter() - started
    return _figures(campaign, seconds, count)


def _figures(campaign: ReplayCampaign, seconds: float, count: int) -> dict:
    counts = services.attempt_counts(campaign)
    return {
        "seconds": seconds,
        "ms_per_replay": seconds / count * 1000,
        "succeeded": counts["SUCCEEDED"],
        "status": campaign.status,
    }


def measure_celery(
    *, count: int, batch_size: int, workers: int, broker: str, log_dir: Path
) -> dict:
    """The same with `workers` Celery worker processes (started, and ready, before the
    clock starts) taking the attempts from `broker`."""
    previous = app.conf.broker_url
    app.conf.broker_url = broker
    env = subprocess_env(
        DATABASE_URL=database_url(connection.settings_dict),
        CELERY_BROKER_URL=broker,
        AUTOPACK_REPLAY_EXECUTOR_CLASS="replay.benchmark.InstantExecutor",
        AUTOPACK_REPLAY_RESULTS_DIR=str(settings.AUTOPACK_REPLAY_RESULTS_DIR),
    )
    processes: list[subprocess.Popen] = []
    try:
        # Messages another run left on this broker would be taken for ours.
        app.control.purge()
        for index in range(workers):
            name = f"bench{index}"
            processes.append(celery_worker(name, env, log_dir / f"{name}.log", pool="solo"))
        runs = bench_runs_create(count)
        campaign = _campaign(runs, batch_size)
        started = time.perf_counter()
        tasks.dispatch(campaign)
        deadline = time.monotonic() + WAIT_SECONDS
        while not campaign.is_finished:
            if time.monotonic() > deadline:
                raise RuntimeError(f"the campaign did not finish within {WAIT_SECONDS} s")
            time.sleep(0.02)
            campaign.refresh_from_db()
        seconds = time.perf_counter() - started
        return _figures(campaign, seconds, count)
    finally:
        app.conf.broker_url = previous
        for process in processes:
            process.terminate()
        for process in processes:
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=20)
            if process.poll() is None:
                process.kill()


def run_benchmark(
    *,
    count: int,
    batch_size: int,
    workers: int,
    broker: str | None,
    log_dir: Path,
    progress: Callable[[str], None] = lambda line: None,
) -> dict:
    figures: dict = {"database": connection.vendor, "replays": count, "batch_size": batch_size}
    bench_data_delete()
    try:
        figures["pool"] = measure_pool(count=count, batch_size=batch_size)
        progress("measured the in-process pool")
        bench_data_delete()
        if broker:
            figures["celery"] = measure_celery(
                count=count, batch_size=batch_size, workers=workers, broker=broker, log_dir=log_dir
            )
            progress("measured Celery")
    finally:
        bench_data_delete()
    return figures
