"""Load a running Autopack Ops with concurrent ingestion clients and report what held.

    python -m autopack_site.loadtest --base-url URL --api-key KEY \
        --clients 50 --rows-per-client 10000 [--batch-rows 10000] [--resend] [--race N]

Each client owns a run (created through `POST /runs/start`, its phases sized so the
rows are distinct (phase, attempt) pairs) and posts its rows in batches; with
`--race N`, N clients share each run and send the very same batches at the same
moment, in different row orders (a retry racing its original). Meanwhile a prober
reads `/health/live` and `/health/ready`. A batch answered 503 is sent again after
its Retry-After, as a well-behaved client would (an outage costs time, never rows).
Rows stored are counted through the API afterwards; `--resend` sends everything
once more and counts again (nothing may change).

Printed: rows sent, acknowledged and stored; 5xx and other non-2xx answers; batch
latency p50/p95/p99; rows/s; the probes' latency. The standard library only (no
Django), so it runs from any machine with Python.
"""

from __future__ import annotations

import argparse
import gc
import json
import math
import random
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field

RETRY_LIMIT = 50  # 503s per batch before it counts as lost


@dataclass
class Answer:
    status: int  # 0: no HTTP answer at all (refused, reset)
    seconds: float
    retry_after: float | None = None
    code: str = ""  # the error body's "code"

    @property
    def outage(self) -> bool:
        """A 503 saying the database is unavailable: send the batch again later."""
        return self.status == 503 and self.code == "database_unavailable"


def post_json(base_url: str, api_key: str, path: str, body: bytes, timeout: float) -> Answer:
    request = urllib.request.Request(base_url + path, data=body, method="POST")
    request.add_header("Content-Type", "application/json")
    request.add_header("X-API-Key", api_key)
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            response.read()
            return Answer(response.status, time.perf_counter() - started)
    except urllib.error.HTTPError as error:
        raw = error.read()
        seconds = time.perf_counter() - started
        retry = error.headers.get("Retry-After")
        try:
            code = json.loads(raw).get("code", "")
        except (ValueError, AttributeError):
            code = ""
        return Answer(error.code, seconds, float(retry) if retry else None, str(code))
    except OSError:
        return Answer(0, time.perf_counter() - started)


def get_json(base_url: str, api_key: str | None, path: str, timeout: float) -> tuple[int, object]:
    request = urllib.request.Request(base_url + path, method="GET")
    if api_key:
        request.add_header("X-API-Key", api_key)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, None
    except OSError:
        return 0, None


def percentile(values: list[float], share: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(share * len(ordered)) - 1)]


@dataclass
class Tally:
    """What every client saw, shared under a lock."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    statuses: dict[int, int] = field(default_factory=dict)
    batch_seconds: list[float] = field(default_factory=list)
    rows_acknowledged: int = 0
    retried_503: int = 0
    unavailable_without_retry_after: int = 0
    lost_batches: int = 0

    def add(self, answer: Answer, rows: int) -> None:
        with self.lock:
            self.statuses[answer.status] = self.statuses.get(answer.status, 0) + 1
            if 200 <= answer.status < 300:
                self.batch_seconds.append(answer.seconds)
                self.rows_acknowledged += rows


@dataclass
class Plan:
    runs: list[str]
    # One entry per client: (run id, its batches as encoded bodies).
    clients: list[tuple[str, list[bytes]]]
    rows_per_run: int


def plan_load(
    *, clients: int, rows_per_client: int, batch_rows: int, race: int, prefix: str, seed: int
) -> tuple[Plan, dict[str, dict]]:
    """The runs to create and every client's batches, encoded before the clock starts
    (the figure is the server's, not this tool's JSON encoding)."""
    shuffler = random.Random(seed)
    runs_count = max(1, clients // max(race, 1))
    phases = max(1, math.ceil(math.sqrt(rows_per_client)))
    attempts = math.ceil(rows_per_client / phases)
    starts: dict[str, dict] = {}
    batches_by_run: dict[str, list[list[dict]]] = {}
    for index in range(runs_count):
        run_id = f"{prefix}-{index:04d}"
        phase_ids = [f"{run_id}-p{p:04d}" for p in range(phases)]
        starts[run_id] = {
            "run": {"run_id": run_id, "run_scope": "load_test"},
            "tiers": [{"tier_id": "T0", "tier_index": 0, "name": "load"}],
            "phases": [
                {"phase_id": phase_id, "phase_index": p, "tier_id": "T0", "name": phase_id}
                for p, phase_id in enumerate(phase_ids)
            ],
        }
        rows = [
            {
                "phase_id": phase_id,
                "attempt": attempt,
                "retrieval_tokens": attempt,
                "second_opinion_tokens": 1,
                "evidence_request_tokens": 2,
                "base_tokens": 100 + attempt,
                "model": "load-test",
            }
            for phase_id in phase_ids
            for attempt in range(1, attempts + 1)
        ][:rows_per_client]
        batches_by_run[run_id] = [
            rows[start : start + batch_rows] for start in range(0, len(rows), batch_rows)
        ]
    planned = []
    for index in range(clients):
        run_id = list(starts)[index % runs_count]
        # Racing clients send the same rows, each in its own order.
        bodies = [
            json.dumps(shuffler.sample(batch, len(batch)) if race > 1 else batch).encode()
            for batch in batches_by_run[run_id]
        ]
        planned.append((run_id, bodies))
    return Plan(list(starts), planned, rows_per_client), starts


class Prober(threading.Thread):
    """Reads the health probes every `interval` seconds until stopped."""

    def __init__(self, base_url: str, interval: float):
        super().__init__(daemon=True)
        self.base_url, self.interval = base_url, interval
        self.seconds: dict[str, list[float]] = {"/health/live": [], "/health/ready": []}
        self.failures = 0
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.is_set():
            for path, measured in self.seconds.items():
                started = time.perf_counter()
                status, _ = get_json(self.base_url, None, path, timeout=30)
                measured.append(time.perf_counter() - started)
                if status != 200:
                    self.failures += 1
            self.done.wait(self.interval)


def send_all(
    *,
    base_url: str,
    api_key: str,
    plan: Plan,
    tally: Tally,
    timeout: float,
    on_batch: Callable[[], None] = lambda: None,
) -> float:
    """Every client in its own thread, started together; returns the wall time."""
    start = threading.Barrier(len(plan.clients) + 1)

    def client(run_id: str, bodies: list[bytes]) -> None:
        path = f"/api/v1/runs/{run_id}/metrics/"
        start.wait()
        for body in bodies:
            rows = body.count(b'"phase_id"')
            for _ in range(RETRY_LIMIT):
                answer = post_json(base_url, api_key, path, body, timeout)
                tally.add(answer, rows)
                on_batch()
                if not answer.outage:
                    if not 200 <= answer.status < 300:
                        with tally.lock:
                            tally.lost_batches += 1
                    break
                with tally.lock:
                    tally.retried_503 += 1
                    tally.unavailable_without_retry_after += answer.retry_after is None
                time.sleep(min(answer.retry_after or 1.0, 5.0))
            else:
                with tally.lock:
                    tally.lost_batches += 1

    threads = [threading.Thread(target=client, args=entry, daemon=True) for entry in plan.clients]
    # The tool's own heap (the plan, its bodies) is left out of garbage collection
    # while it measures: a full collection pausing every thread of this process,
    # the prober's included, would count as the server's latency.
    gc.collect()
    gc.freeze()
    try:
        for thread in threads:
            thread.start()
        start.wait()
        began = time.perf_counter()
        for thread in threads:
            thread.join()
        return time.perf_counter() - began
    finally:
        gc.unfreeze()


def rows_stored(base_url: str, api_key: str, runs: list[str]) -> int:
    """Counted through the API: each run's ledger page reports the run's row count."""
    total = 0
    for run_id in runs:
        status, body = get_json(base_url, api_key, f"/api/v1/runs/{run_id}/metrics/?limit=1", 60)
        if status != 200:
            raise RuntimeError(f"counting rows of {run_id}: HTTP {status}")
        total += body["count"]
    return total


def run_load(
    *,
    base_url: str,
    api_key: str,
    clients: int,
    rows_per_client: int,
    batch_rows: int = 10_000,
    race: int = 1,
    resend: bool = False,
    probe_interval: float = 0.2,
    timeout: float = 120.0,
    prefix: str | None = None,
    seed: int = 1,
    during: Callable[[], None] | None = None,
) -> dict:
    """Create the runs, load them, count; `during` runs in a thread once the first
    batches are answered (a fault to inject mid-load)."""
    base_url = base_url.rstrip("/")
    prefix = prefix or f"load-{int(time.time())}-{random.randrange(10**6):06d}"
    plan, starts = plan_load(
        clients=clients,
        rows_per_client=rows_per_client,
        batch_rows=batch_rows,
        race=race,
        prefix=prefix,
        seed=seed,
    )
    for run_id, start_body in starts.items():
        answer = post_json(base_url, api_key, "/runs/start", json.dumps(start_body).encode(), 60)
        if answer.status != 201:
            raise RuntimeError(f"creating run {run_id}: HTTP {answer.status}")
    prober = Prober(base_url, probe_interval)
    prober.start()
    tally = Tally()
    fault: threading.Thread | None = None
    answered = threading.Event()

    def first_answer() -> None:
        if during is not None and not answered.is_set():
            answered.set()
            nonlocal fault
            fault = threading.Thread(target=during, daemon=True)
            fault.start()

    try:
        seconds = send_all(
            base_url=base_url,
            api_key=api_key,
            plan=plan,
            tally=tally,
            timeout=timeout,
            on_batch=first_answer,
        )
        if fault is not None:
            fault.join()
    finally:
        prober.done.set()
        prober.join()
    rows_sent = sum(body.count(b'"phase_id"') for _, bodies in plan.clients for body in bodies)
    figures = {
        "clients": clients,
        "race": race,
        "runs": len(plan.runs),
        "rows_sent": rows_sent,
        "rows_acknowledged": tally.rows_acknowledged,
        "rows_expected": len(plan.runs) * plan.rows_per_run,
        "rows_stored": rows_stored(base_url, api_key, plan.runs),
        "statuses": dict(sorted(tally.statuses.items())),
        # 503 database_unavailable is the promised answer to an outage; the rest is not.
        "responses_5xx": sum(n for code, n in tally.statuses.items() if code >= 500),
        "responses_5xx_not_503": sum(
            n for code, n in tally.statuses.items() if code >= 500 and code != 503
        ),
        "responses_other_non_2xx": sum(
            n for code, n in tally.statuses.items() if not 200 <= code < 300 and code < 500
        ),
        "retried_after_503": tally.retried_503,
        "unavailable_without_retry_after": tally.unavailable_without_retry_after,
        "lost_batches": tally.lost_batches,
        "seconds": seconds,
        "rows_per_second": tally.rows_acknowledged / seconds if seconds else None,
        "batch_ms": _quantiles(tally.batch_seconds),
        "probe_ms": {path: _quantiles(values) for path, values in prober.seconds.items()},
        "probe_failures": prober.failures,
    }
    if resend:
        again = Tally()
        send_all(base_url=base_url, api_key=api_key, plan=plan, tally=again, timeout=timeout)
        figures["resend_statuses"] = dict(sorted(again.statuses.items()))
        figures["rows_stored_after_resend"] = rows_stored(base_url, api_key, plan.runs)
    return figures


def _quantiles(seconds: list[float]) -> dict[str, float | None]:
    return {
        name: None if (value := percentile(seconds, share)) is None else round(value * 1000, 1)
        for name, share in (("p50", 0.50), ("p95", 0.95), ("p99", 0.99), ("max", 1.0))
    }


def report(figures: dict) -> str:
    lines = [
        f"clients {figures['clients']} (race {figures['race']}), runs {figures['runs']}",
        f"rows sent {figures['rows_sent']}, acknowledged {figures['rows_acknowledged']}, "
        f"stored {figures['rows_stored']} (expected {figures['rows_expected']})",
        f"answers {figures['statuses']}; 5xx {figures['responses_5xx']}, other non-2xx "
        f"{figures['responses_other_non_2xx']}; resent after 503 {figures['retried_after_503']}, "
        f"batches lost {figures['lost_batches']}",
        f"batch latency ms {figures['batch_ms']}",
        f"rows/s {figures['rows_per_second']:.0f} over {figures['seconds']:.1f} s"
        if figures["rows_per_second"]
        else "rows/s n/a",
    ]
    for path, quantiles in figures["probe_ms"].items():
        lines.append(f"probe {path} ms {quantiles}")
    lines.append(f"probe failures {figures['probe_failures']}")
    if "resend_statuses" in figures:
        lines.append(
            f"resend answers {figures['resend_statuses']}, stored after resend "
            f"{figures['rows_stored_after_resend']}"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--api-key", required=True, help="An ingest (or admin) key.")
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--rows-per-client", type=int, default=10_000)
    parser.add_argument("--batch-rows", type=int, default=10_000)
    parser.add_argument("--race", type=int, default=1, help="Clients sending each batch.")
    parser.add_argument("--resend", action="store_true")
    parser.add_argument("--probe-interval", type=float, default=0.2)
    parser.add_argument("--json", action="store_true")
    options = parser.parse_args(argv)
    for name in ("clients", "rows_per_client", "batch_rows", "race"):
        if getattr(options, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1")
    figures = run_load(
        base_url=options.base_url,
        api_key=options.api_key,
        clients=options.clients,
        rows_per_client=options.rows_per_client,
        batch_rows=options.batch_rows,
        race=options.race,
        resend=options.resend,
        probe_interval=options.probe_interval,
    )
    print(json.dumps(figures) if options.json else report(figures))  # noqa: T201
    return 0 if held(figures) else 1


def held(figures: dict) -> bool:
    """Every row stored exactly once, no batch lost, no 5xx but the promised 503."""
    stored = figures["rows_stored"]
    return (
        figures["responses_5xx_not_503"] == 0
        and figures["statuses"].get(0, 0) == 0
        and figures["lost_batches"] == 0
        and figures["unavailable_without_retry_after"] == 0
        and stored == figures["rows_expected"]
        and figures.get("rows_stored_after_resend", stored) == stored
    )


if __name__ == "__main__":
    sys.exit(main())
