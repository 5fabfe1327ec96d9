"""Ingestion batches take turns per process (AUTOPACK_INGEST_CONCURRENCY); everything
else runs side by side, so the health probes are never queued behind them."""

import threading
import time

import pytest
from django.test import RequestFactory

from autopack_site.middleware import IngestionConcurrencyMiddleware


def peak_concurrency(settings, method: str, path: str, *, limit: int, requests: int = 4) -> int:
    settings.AUTOPACK_INGEST_CONCURRENCY = limit
    running, peak, lock = 0, 0, threading.Lock()

    def view(request):
        nonlocal running, peak
        with lock:
            running += 1
            peak = max(peak, running)
        time.sleep(0.05)
        with lock:
            running -= 1
        return "done"

    middleware = IngestionConcurrencyMiddleware(view)
    factory = RequestFactory()
    threads = [
        threading.Thread(target=middleware, args=(factory.generic(method, path),))
        for _ in range(requests)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return peak


@pytest.mark.parametrize("path", ["/api/v1/runs/r1/metrics/", "/api/v1/runs/r1/events/"])
def test_ingestion_batches_take_turns(settings, path):
    assert peak_concurrency(settings, "POST", path, limit=1) == 1
    assert peak_concurrency(settings, "POST", path, limit=2) == 2


@pytest.mark.parametrize(
    "method, path",
    [
        ("GET", "/api/v1/runs/r1/metrics/"),
        ("GET", "/health/ready"),
        ("POST", "/runs/start"),
        ("POST", "/api/v1/runs/r1/metrics/extra/"),
    ],
)
def test_everything_else_runs_side_by_side(settings, method, path):
    assert peak_concurrency(settings, method, path, limit=1) == 4
