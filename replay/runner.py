"""The in-process pool: runs a campaign's attempts in threads, at most `batch_size`
at once, for the embedded default (no broker). The command waits on it.

Stopping (Ctrl-C, SIGTERM: `stop` is set) dispatches nothing more, kills the running
executors and puts their attempts back in the queue for `--resume`. Cancelling (the
campaign's status turns CANCELLED, from any process) kills them too and records
them as cancelled.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from django.db import close_old_connections, connections, transaction

from replay import services
from replay.models import ReplayAttempt, ReplayCampaign

logger = logging.getLogger(__name__)
POLL_SECONDS = 0.25
# Campaigns and executions running in threads of this process (joined by
# `join_background`, which tests use so no thread outlives its test's database).
_background: set[threading.Thread] = set()


def start_background(name: str, work: Callable[[], None]) -> threading.Thread:
    """Run `work` in a daemon thread once the current transaction commits; it closes
    its database connections when done."""

    def run() -> None:
        try:
            work()
        except Exception:
            logger.exception("background %s broke", name)
        finally:
            connections.close_all()
            _background.discard(threading.current_thread())

    thread = threading.Thread(target=run, name=name, daemon=True)
    _background.add(thread)
    transaction.on_commit(thread.start)
    return thread


def join_background(timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    for thread in list(_background):
        if thread.ident is not None:  # started
            thread.join(max(deadline - time.monotonic(), 0))


@dataclass(frozen=True)
class Progress:
    total: int
    done: int
    running: int
    recovered: int
    failed: int
    elapsed: float

    @property
    def eta(self) -> float | None:
        """Seconds left at the pace so far; None before the first attempt finishes."""
        return None if not self.done else self.elapsed / self.done * (self.total - self.done)


def progress_of(campaign: ReplayCampaign, *, started: float) -> Progress:
    counts = services.attempt_counts(campaign)
    finished = sum(counts[status] for status in ReplayAttempt.Status.finished())
    return Progress(
        total=sum(counts.values()),
        done=finished,
        running=counts[ReplayAttempt.Status.RUNNING],
        recovered=counts[ReplayAttempt.Status.SUCCEEDED],
        failed=finished - counts[ReplayAttempt.Status.SUCCEEDED],
        elapsed=time.monotonic() - started,
    )


class _Run:
    def __init__(
        self, campaign: ReplayCampaign, executor: services.Executor, stop: threading.Event
    ):
        self.campaign = campaign
        self.executor = executor
        self.stop = stop
        self.cancelled = threading.Event()
        self.kill = threading.Event()

    def execute(self, attempt_id: int) -> None:
        """One attempt, in a pool thread (with its own database connection)."""
        try:
            attempt = services.attempt_claim(attempt_id=attempt_id)
            if attempt is None:
                return
            outcome = self.executor.run(
                attempt.replay_run_id,
                timeout=self.campaign.timeout_seconds,
                log_path=Path(attempt.log_path),
                should_stop=self.kill.is_set,
            )
            if outcome.cancelled and not self.cancelled.is_set():
                # Interrupted, not cancelled: back in the queue for --resume.
                services.attempts_requeue(attempts=[attempt])
                return
            services.attempt_finish(attempt=attempt, outcome=outcome)
        except Exception as error:
            logger.exception("replay attempt %s broke", attempt_id)
            services.attempt_error(attempt_id=attempt_id, reason=f"{type(error).__name__}: {error}")

    def work(self, todo: queue.SimpleQueue, done: queue.SimpleQueue) -> None:
        """A pool thread: attempts from `todo` until a None, each reported on `done`.
        The thread keeps one database connection for its life (a new one per attempt
        costs ~5 ms on PostgreSQL) and closes it when it ends."""
        try:
            while (attempt_id := todo.get()) is not None:
                close_old_connections()  # drop one left broken by the last attempt
                try:
                    self.execute(attempt_id)
                except Exception:  # even recording the error failed: the pool goes on
                    logger.exception("replay attempt %s could not be recorded", attempt_id)
                finally:
                    done.put(attempt_id)
        finally:
            connections.close_all()


def campaign_run(
    *,
    campaign: ReplayCampaign,
    executor: services.Executor,
    stop: threading.Event | None = None,
    on_progress: Callable[[Progress], None] | None = None,
) -> ReplayCampaign:
    """Run the campaign's queued attempts until none is left, it is cancelled, or
    `stop` is set; then (unless stopped) finish it. Returns it as stored."""
    stop = stop or threading.Event()
    run = _Run(campaign, executor, stop)
    queued = list(
        campaign.attempts.filter(
            status__in=[ReplayAttempt.Status.QUEUED, ReplayAttempt.Status.DISPATCHED]
        )
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    running: set[int] = set()
    todo: queue.SimpleQueue = queue.SimpleQueue()
    done: queue.SimpleQueue = queue.SimpleQueue()
    workers = [
        threading.Thread(target=run.work, args=(todo, done), name=f"replay-{index}")
        for index in range(min(campaign.batch_size, len(queued)))
    ]
    for worker in workers:
        worker.start()
    started = time.monotonic()
    beat = looked = started
    try:
        while queued or running:
            while queued and len(running) < campaign.batch_size and not run.kill.is_set():
                attempt_id = queued.pop(0)
                running.add(attempt_id)
                todo.put(attempt_id)
            with contextlib.suppress(queue.Empty):
                running.discard(done.get(timeout=POLL_SECONDS))
                while True:  # every other attempt finished meanwhile
                    running.discard(done.get_nowait())
            close_old_connections()
            # A cancel from another process shows in the campaign's status, read at
            # most every POLL_SECONDS (not after every finished attempt).
            if time.monotonic() - looked >= POLL_SECONDS:
                looked = time.monotonic()
                if services.campaign_should_stop(campaign_id=campaign.pk) == "cancel":
                    run.cancelled.set()
            if run.cancelled.is_set() or stop.is_set():
                run.kill.set()
                queued.clear()
            if time.monotonic() - beat >= services.heartbeat_seconds():
                services.attempts_heartbeat(attempt_ids=list(running))
                beat = time.monotonic()
            if on_progress is not None:
                on_progress(progress_of(campaign, started=started))
    except BaseException:
        run.kill.set()  # nothing waits on the running executors' natural end
        raise
    finally:
        for _ in workers:
            todo.put(None)
        for worker in workers:
            worker.join()
    if not stop.is_set():
        services.campaign_finish_if_done(campaign=campaign)
    campaign.refresh_from_db()
    return campaign


def campaign_start_in_background(*, campaign: ReplayCampaign) -> threading.Thread:
    """Run the campaign in a daemon thread of this process (the in-process pool of
    the embedded default), for the admin and the API. A process that dies takes the
    thread with it; its attempts' heartbeats stop and `--resume` picks them up."""
    executor = services.executor_named(campaign.executor)
    executor.check()
    executor = services.with_campaign_key(executor, campaign)
    return start_background(
        f"replay-{campaign.pk}", lambda: campaign_run(campaign=campaign, executor=executor)
    )
