"""One batch sent by several clients at once (a retry racing its original) over real
HTTP: every sender succeeds, one creates, the others see the rows as unchanged;
no deadlock whatever the row order (both databases)."""

import random
import threading

import pytest
from rest_framework_api_key.models import APIKey

from autopack_site.ops.http import JsonClient
from metrics.models import PhaseMetrics
from metrics.tests.factories import PhaseFactory, RunFactory

pytestmark = pytest.mark.django_db(transaction=True)

SENDERS = 4
ROUNDS = 5
PHASES = 20
ATTEMPTS_PER_ROUND = 10  # 200 rows a batch


def batch(phase_ids: list[str], round_number: int) -> list[dict]:
    first = round_number * ATTEMPTS_PER_ROUND + 1
    return [
        {
            "phase_id": phase_id,
            "attempt": attempt,
            "retrieval_tokens": attempt,
            "second_opinion_tokens": 1,
            "evidence_request_tokens": 2,
            "base_tokens": 3,
            "model": "claude-sonnet",
        }
        for phase_id in phase_ids
        for attempt in range(first, first + ATTEMPTS_PER_ROUND)
    ]


def test_racing_senders_of_one_batch_all_succeed_in_any_row_order(live_server, phase6_on):
    run = RunFactory()
    phase_ids = [PhaseFactory(run=run, tier__run=run).phase_id for _ in range(PHASES)]
    _, key = APIKey.objects.create_key(name="racer")
    shuffler = random.Random(7)
    statuses: list[list[int]] = []
    for round_number in range(ROUNDS):
        rows = batch(phase_ids, round_number)
        # Each sender its own row order: opposite orders deadlock a naive upsert.
        orders = [shuffler.sample(rows, len(rows)) for _ in range(SENDERS)]
        start = threading.Barrier(SENDERS)
        replies: list[int] = []

        def send(order, replies=replies, start=start):
            client = JsonClient(live_server.url, key, timeout=60)
            start.wait()
            replies.append(client.request("POST", f"/api/v1/runs/{run.pk}/metrics/", order).status)

        threads = [threading.Thread(target=send, args=(order,)) for order in orders]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(90)
        statuses.append(sorted(replies))
    # One sender created each batch (201); the others found it already stored (200).
    assert statuses == [[200] * (SENDERS - 1) + [201]] * ROUNDS
    assert PhaseMetrics.objects.filter(run=run).count() == ROUNDS * PHASES * ATTEMPTS_PER_ROUND


def test_a_resend_that_changes_nothing_is_200(authed_client, phase6_on):
    run = RunFactory()
    phase = PhaseFactory(run=run, tier__run=run)
    rows = batch([phase.phase_id], 0)
    first = authed_client.post(f"/api/v1/runs/{run.pk}/metrics/", rows, format="json")
    assert first.status_code == 201 and first.json()["created"] == len(rows)
    again = authed_client.post(f"/api/v1/runs/{run.pk}/metrics/", rows, format="json")
    assert again.status_code == 200 and again.json() == {
        "created": 0,
        "updated": 0,
        "unchanged": len(rows),
    }
    rows[0]["base_tokens"] = 99
    changed = authed_client.post(f"/api/v1/runs/{run.pk}/metrics/", rows, format="json")
    assert changed.status_code == 200 and changed.json()["updated"] == 1
