"""Smoke-check a deployed instance over real HTTP (used by `manage.py smoke_check`).

Only the standard library is used, so the check runs anywhere the project does.
Each check returns a line; a throwaway run is created for the ledger check and
deleted afterwards, whatever happens in between.
"""

import uuid
from collections.abc import Callable
from dataclasses import dataclass

from autopack_site.ops.http import HttpReply, JsonClient

SmokeClient = JsonClient  # the name `smoke_check` and its callers know


@dataclass(frozen=True)
class SmokeResult:
    name: str
    passed: bool
    detail: str


def _expect(name: str, reply: HttpReply, expected: int, note: str = "") -> SmokeResult:
    passed = reply.status == expected
    detail = f"HTTP {reply.status} (expected {expected}) in {reply.elapsed_ms} ms"
    return SmokeResult(name, passed, f"{detail}{'; ' + note if note else ''}")


def run_smoke_checks(
    client: SmokeClient, report: Callable[[SmokeResult], None] = lambda result: None
) -> list[SmokeResult]:
    """Exercise every critical endpoint; call `report` as each result arrives."""
    results: list[SmokeResult] = []

    def record(result: SmokeResult) -> SmokeResult:
        results.append(result)
        report(result)
        return result

    health = client.request("GET", "/health")
    healthy = isinstance(health.body, dict) and health.body.get("status") == "healthy"
    record(_expect("health", health, 200, "healthy" if healthy else "not healthy"))
    switches = health.body.get("kill_switches", {}) if isinstance(health.body, dict) else {}
    record(_expect("health/ready", client.request("GET", "/health/ready"), 200))
    record(_expect("health/live", client.request("GET", "/health/live"), 200))
    record(_expect("openapi schema", client.request("GET", "/api/schema/"), 200))

    if not client.api_key:
        record(
            _expect(
                "runs (auth enforced)",
                client.request("GET", "/api/v1/runs/?limit=1"),
                401,
                "no --api-key: authenticated checks skipped",
            )
        )
        return results
    record(_expect("runs list", client.request("GET", "/api/v1/runs/?limit=1"), 200))
    record(_expect("A/B results list", client.request("GET", "/api/v1/ab-results/?limit=1"), 200))
    record(
        _expect(
            "A/B results summary",
            client.request("GET", "/api/v1/ab-results/summary/?test_id=smoke-check"),
            200,
        )
    )
    record(_expect("A/B dashboard", client.request("GET", "/dashboard/ab-results"), 200))
    record(_expect("patterns list", client.request("GET", "/api/v1/patterns/?limit=1"), 200))
    match = client.request("POST", "/api/v1/patterns/match/", {"message": "smoke check"})
    if match.status == 200 and not isinstance((match.body or {}).get("matches"), list):
        match = HttpReply(-1, match.body, match.elapsed_ms)
    record(_expect("patterns match", match, 200, "answers with a list of matches"))
    record(
        _expect(
            "patterns merge suggestions",
            client.request("GET", "/api/v1/patterns/merge-suggestions?limit=1"),
            200,
        )
    )

    run_id = f"smoke-check-{uuid.uuid4().hex[:12]}"
    created = client.request(
        "POST",
        "/api/v1/runs/",
        {"id": run_id, "tiers": [{"tier_id": "T1", "phases": [{"phase_id": "smoke-phase"}]}]},
    )
    record(_expect("runs create (throwaway run)", created, 201))
    if created.status != 201:
        return results
    try:
        record(_expect("executor run view", client.request("GET", f"/runs/{run_id}"), 200))
        record(_expect("run status", client.request("GET", f"/runs/{run_id}/status"), 200))
        phase6_on = bool(switches.get("phase6_metrics"))
        row = {
            "phase_id": "smoke-phase",
            "attempt": 1,
            "retrieval_tokens": 1,
            "second_opinion_tokens": 1,
            "evidence_request_tokens": 1,
            "base_tokens": 1,
        }
        ingest = client.request("POST", f"/api/v1/runs/{run_id}/metrics/", [row])
        record(
            _expect(
                "ledger ingestion",
                ingest,
                201 if phase6_on else 503,
                f"phase6_metrics {'on' if phase6_on else 'off'} per /health",
            )
        )
        record(_expect("events list", client.request("GET", f"/api/v1/runs/{run_id}/events/"), 200))
        consolidated_on = bool(switches.get("consolidated_metrics"))
        consolidated = client.request("GET", f"/api/v1/runs/{run_id}/consolidated-metrics/")
        note = f"consolidated_metrics {'on' if consolidated_on else 'off'} per /health"
        if consolidated_on and consolidated.status == 200:
            expected_total = 4 if phase6_on else 0
            total = (consolidated.body or {}).get("totals", {}).get("total_tokens")
            note += f"; total_tokens {total} (expected {expected_total})"
            if total != expected_total:
                consolidated = HttpReply(-1, consolidated.body, consolidated.elapsed_ms)
        record(_expect("consolidated metrics", consolidated, 200 if consolidated_on else 503, note))
        record(_expect("daily metrics", client.request("GET", "/api/v1/metrics/daily/"), 200))
    finally:
        record(
            _expect(
                "runs delete (cleanup)", client.request("DELETE", f"/api/v1/runs/{run_id}/"), 204
            )
        )
    return results
