"""Where a campaign's attempts run: on the task queue when CELERY_BROKER_URL is set
(workers on any number of machines), else in a pool of this process."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from django.conf import settings
from django.db import transaction

from replay import runner, services, tasks
from replay.models import ReplayAttempt, ReplayCampaign

POLL_SECONDS = 0.5
# How long a stopped command waits for the workers to put running attempts back.
INTERRUPT_GRACE_SECONDS = 60


def uses_task_queue() -> bool:
    return bool(settings.CELERY_BROKER_URL)


def campaign_start(*, campaign: ReplayCampaign) -> None:
    """Start the campaign's queued attempts without waiting for them (the admin, the
    API, the command's --no-wait); after the current transaction commits."""
    if uses_task_queue():
        transaction.on_commit(lambda: tasks.dispatch(campaign))
    else:
        runner.campaign_start_in_background(campaign=campaign)


def campaign_wait_on_queue(
    *,
    campaign: ReplayCampaign,
    stop: threading.Event,
    on_progress: Callable[[runner.Progress], None],
) -> ReplayCampaign:
    """Dispatch onto the queue and follow the campaign until it finishes. When `stop`
    is set, the campaign is interrupted: nothing more starts, and this waits (a
    bounded while) for the workers to put running attempts back in the queue."""
    tasks.dispatch(campaign)
    started = time.monotonic()
    deadline = None
    while True:
        campaign.refresh_from_db()
        if campaign.is_finished:
            break
        if stop.is_set() and deadline is None:
            services.campaign_interrupt(campaign=campaign)
            deadline = time.monotonic() + INTERRUPT_GRACE_SECONDS
        if deadline is not None:
            active = campaign.attempts.filter(
                status__in=[ReplayAttempt.Status.DISPATCHED, ReplayAttempt.Status.RUNNING]
            ).exists()
            if not active or time.monotonic() > deadline:
                break
        on_progress(runner.progress_of(campaign, started=started))
        time.sleep(POLL_SECONDS)
    on_progress(runner.progress_of(campaign, started=started))
    return campaign


def run_execute(*, run_id: str) -> None:
    """Have the local executor execute the run, on the queue or in a thread here."""
    if uses_task_queue():
        transaction.on_commit(lambda: tasks.replay_run_execute.delay(run_id))
        return

    runner.start_background(f"execute-{run_id}", lambda: tasks.execute_run(run_id))
