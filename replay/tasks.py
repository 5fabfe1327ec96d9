"""Replay attempts as Celery tasks (`celery -A autopack_site worker`).

A task claims its attempt (idempotent: a redelivered message never starts a second
executor), runs the executor while beating and watching its campaign (cancel,
interrupt), records the outcome, then dispatches the campaign's next attempts: the
queue itself keeps at most batch_size attempts of a campaign running, however many
workers there are, with or without the command waiting.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

from django.db import close_old_connections
from rest_framework_api_key.models import APIKey

from autopack_site.api.keys import api_key_create
from autopack_site.api.scopes import INGEST
from autopack_site.celery import app
from replay import services
from replay.models import ReplayAttempt, ReplayCampaign

logger = logging.getLogger(__name__)
# Keys this process made for executors (only hashes are stored, so a key cannot
# travel through the broker): one per campaign, revoked when it ends, and one for the
# runs it executes on request.
_campaign_keys: dict[str, str] = {}


def _executor(campaign: ReplayCampaign) -> services.Executor:
    executor = services.executor_named(campaign.executor)
    if executor.api_key:
        return executor
    key = _campaign_keys.get(campaign.pk)
    if key is None or not APIKey.objects.is_valid(key):
        key = _campaign_keys[campaign.pk] = services.campaign_key_create(campaign=campaign)
    return services.executor_named(campaign.executor, api_key=key)


class _Watch:
    """The executor's should_stop: beats for the attempt and reads the campaign's
    status every heartbeat."""

    def __init__(self, attempt: ReplayAttempt):
        self.attempt = attempt
        self.next_beat = time.monotonic() + services.heartbeat_seconds()
        self.verdict: str | None = None

    def __call__(self) -> bool:
        if time.monotonic() >= self.next_beat:
            close_old_connections()
            services.attempts_heartbeat(attempt_ids=[self.attempt.pk])
            self.verdict = services.campaign_should_stop(campaign_id=self.attempt.campaign_id)
            self.next_beat = time.monotonic() + services.heartbeat_seconds()
        return self.verdict is not None


def dispatch(campaign: ReplayCampaign) -> list[int]:
    """Enqueue as many of the campaign's queued attempts as it has free places."""
    chosen = services.campaign_dispatch(campaign=campaign)
    for attempt_id in chosen:
        replay_attempt_run.delay(attempt_id)
    return chosen


@app.task(
    bind=True,
    name="replay.attempt_run",
    acks_late=True,
    reject_on_worker_lost=True,
    max_retries=None,
)
def replay_attempt_run(self, attempt_id: int) -> str:
    close_old_connections()
    try:
        attempt = services.attempt_claim(attempt_id=attempt_id, take_over_stale=True)
    except services.AttemptBusy:
        # Still beating elsewhere (a redelivery while its first delivery runs): look
        # again once it would be stale, never start a second executor.
        raise self.retry(countdown=services.stale_after().total_seconds()) from None
    except ReplayAttempt.DoesNotExist:
        return "gone"
    if attempt is None:
        return "skipped"
    campaign = attempt.campaign
    try:
        watch = _Watch(attempt)
        outcome = _executor(campaign).run(
            attempt.replay_run_id,
            timeout=campaign.timeout_seconds,
            log_path=Path(attempt.log_path),
            should_stop=watch,
        )
        if outcome.cancelled and watch.verdict == "interrupt":
            services.attempts_requeue(attempts=[attempt])
            return "interrupted"
        services.attempt_finish(attempt=attempt, outcome=outcome)
    except Exception as error:
        logger.exception("replay attempt %s broke", attempt_id)
        services.attempt_error(attempt_id=attempt_id, reason=f"{type(error).__name__}: {error}")
    dispatch(campaign)
    services.campaign_finish_if_done(campaign=campaign)
    return "done"


def execute_run(run_id: str) -> str:
    """Run the local executor for one run (POST /runs/{id}/execute), then settle it."""
    executor = services.local_executor()
    if not executor.api_key:
        executor = services.local_executor(api_key=_execution_key())
    outcome = executor.run(
        run_id,
        timeout=services.execution_timeout_seconds(),
        log_path=services.results_dir() / f"{run_id}.log",
    )
    services.run_execution_finish(run_id=run_id, outcome=outcome)
    return "done"


def _execution_key() -> str:
    """This process's key for the runs it executes on request (made once per process)."""
    key = _campaign_keys.get("executions")
    if key is None or not APIKey.objects.is_valid(key):  # revoked or deleted since
        key = _campaign_keys["executions"] = api_key_create(name="run executions", scope=INGEST)[1]
    return key


@app.task(name="replay.run_execute", acks_late=True, reject_on_worker_lost=True)
def replay_run_execute(run_id: str) -> str:
    close_old_connections()
    return execute_run(run_id)
