"""A rerunnable benchmark of the dashboard's pages on a benchmark-sized store
(see `manage.py bench_dashboard`).

It builds the token-ledger benchmark's data (metrics.benchmark: runs named
`bench-*`, their phases and ledger rows over 60 days), adds what the other pages
show (failed runs, patterns naming bench runs, A/B pairs, a queued replay
campaign, pending approvals), then times each page's server side: the whole
Django stack in-process, a logged-in staff session, DEBUG off. It removes its
data afterwards unless asked to keep it.
"""

import statistics
import time
from collections.abc import Callable
from datetime import timedelta

from django.contrib.auth.models import User
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext, override_settings
from django.utils import timezone

from abtests.models import ABTestResult
from abtests.services import ab_results_analyze_pairs
from metrics.benchmark import PREFIX, bench_data_build, bench_data_delete
from metrics.models import ApprovalRequest, Phase, Run
from patterns.models import Pattern
from replay.models import ReplayAttempt, ReplayCampaign
from replay.services import replay_campaign_create

STAFF = "bench-dashboard-operator"
TEST_ID = "bench-dashboard"
PATTERNS = 50
RUNS_PER_PATTERN = 200
AB_PAIRS = 40
CAMPAIGN_RUNS = 20
APPROVALS = 20


def _extras_delete() -> None:
    """What this benchmark adds beside the ledger benchmark's data (the runs it
    names are deleted with that data; these rows protect or point at them)."""
    runs = Run.objects.filter(pk__startswith=PREFIX)
    ABTestResult.objects.filter(test_id=TEST_ID).delete()
    campaigns = ReplayCampaign.objects.filter(attempts__original_run__in=runs).distinct()
    ReplayAttempt.objects.filter(campaign__in=list(campaigns)).delete()
    ReplayCampaign.objects.filter(pk__in=[campaign.pk for campaign in campaigns]).delete()
    ApprovalRequest.objects.filter(run__in=runs).delete()
    Pattern.objects.filter(pattern_id__startswith="bench_").delete()
    User.objects.filter(username=STAFF).delete()


def _extras_build(big_run: str, progress: Callable[[str], None]) -> None:
    run_ids = list(
        Run.objects.filter(pk__startswith=PREFIX).order_by("pk").values_list("pk", flat=True)
    )
    now = timezone.now()
    # Outcomes over the overview's window: every tenth run failed, every tenth
    # in flight, creation spread over 45 days.
    for offset, state in ((3, Run.State.DONE_FAILED_ENVIRONMENT), (7, Run.State.PHASE_EXECUTION)):
        Run.objects.filter(pk__in=run_ids[offset::10]).update(state=state)
    for day in range(45):
        Run.objects.filter(pk__in=run_ids[day::45]).update(created_at=now - timedelta(days=day))
    Run.objects.filter(pk__in=run_ids).update(git_commit_sha="b" * 40, model_mapping_hash="m" * 16)
    Phase.objects.filter(run_id__in=run_ids[3::10], phase_index=0).update(state=Phase.State.FAILED)
    Pattern.objects.bulk_create(
        Pattern(
            pattern_id=f"bench_pattern_{index:03d}",
            template=f"bench failure number {index}",
            regex=f"bench failure number {index}",
            occurrences=1000 - index,
            run_ids=run_ids[index : index + RUNS_PER_PATTERN * 7 : 7],
            run_count=RUNS_PER_PATTERN,
        )
        for index in range(PATTERNS)
    )
    pairs = list(
        zip(run_ids[2 : 2 + AB_PAIRS], run_ids[2 + AB_PAIRS : 2 + 2 * AB_PAIRS], strict=True)
    )
    ab_results_analyze_pairs(test_id=TEST_ID, pairs=pairs)
    replay_campaign_create(
        runs=list(Run.objects.filter(pk__in=run_ids[3 : 3 + CAMPAIGN_RUNS * 10 : 10])),
        filters={},
        executor_name=ReplayCampaign.Executor.LOCAL,
        batch_size=5,
        timeout_seconds=60,
    )
    phase = Phase.objects.filter(run_id=big_run).first()
    ApprovalRequest.objects.bulk_create(
        ApprovalRequest(
            run_id=big_run,
            phase=phase,
            context=f"bench approval {index}",
            timeout_at=now + timedelta(hours=index + 1),
        )
        for index in range(APPROVALS)
    )
    progress("added failed runs, patterns, A/B pairs, a campaign and approvals")


def _pages(big_run: str) -> dict[str, str]:
    campaign = ReplayCampaign.objects.filter(attempts__original_run__pk__startswith=PREFIX).first()
    return {
        "overview": "/dashboard/",
        "runs": "/dashboard/runs/",
        "runs, failed only, last 30 days": "/dashboard/runs/?has_failures=true&created_from="
        + (timezone.now().date() - timedelta(days=29)).isoformat(),
        "run detail (10,000-row run)": f"/dashboard/runs/{big_run}/",
        "patterns": "/dashboard/patterns/",
        "A/B tests": "/dashboard/ab/",
        "A/B test": f"/dashboard/ab/{TEST_ID}/",
        "replays": "/dashboard/replays/",
        "replay campaign": f"/dashboard/replays/{campaign.pk}/",
        "approvals": "/dashboard/approvals/",
    }


def _page_ms(client: Client, url: str, samples: int) -> tuple[float, int]:
    """(p50 ms, queries) of GET url, after two warming requests."""
    for _ in range(2):
        response = client.get(url, secure=True)
        if response.status_code != 200:
            raise RuntimeError(f"GET {url} answered {response.status_code}")
    timings = []
    for _ in range(samples):
        started = time.perf_counter()
        client.get(url, secure=True)
        timings.append((time.perf_counter() - started) * 1000)
    with CaptureQueriesContext(connection) as captured:  # counted outside the timings
        client.get(url, secure=True)
    return statistics.median(timings), len(captured)


def run_dashboard_benchmark(
    *, rows: int, runs: int, samples: int, keep: bool, progress: Callable[[str], None]
) -> list[str]:
    """The figures, one line each: `<page> p50 ms: …` and `<page> queries: …`."""
    _extras_delete()
    bench_data_delete()
    lines = [f"database: {connection.vendor}", f"ledger rows: {rows:,}", f"runs: {runs:,}"]
    try:
        with override_settings(DEBUG=False):
            big, _small = bench_data_build(rows, runs, progress)
            _extras_build(big, progress)
            # As a browser behind the production settings sends it: HTTPS, a known host.
            client = Client(raise_request_exception=True, HTTP_HOST="localhost")
            client.force_login(User.objects.create_user(STAFF, is_staff=True))
            for name, url in _pages(big).items():
                p50, queries = _page_ms(client, url, samples)
                lines.append(f"{name} p50 ms: {p50:,.1f}")
                lines.append(f"{name} queries: {queries}")
                progress(f"measured {name}")
            client.logout()  # its session row goes too
    finally:
        if not keep:
            _extras_delete()
            bench_data_delete()
    return lines
