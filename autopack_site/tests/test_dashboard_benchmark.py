"""bench_dashboard runs end to end on a small store and leaves it as it found it."""

from io import StringIO

import pytest
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command

from abtests.models import ABTestResult
from metrics.models import ApprovalRequest, Run
from patterns.models import Pattern
from replay.models import ReplayCampaign

pytestmark = pytest.mark.django_db(transaction=True)  # VACUUM on PostgreSQL

PAGES = [
    "overview",
    "runs",
    "runs, failed only, last 30 days",
    "run detail (10,000-row run)",
    "patterns",
    "A/B tests",
    "A/B test",
    "replays",
    "replay campaign",
    "approvals",
]


def _counts() -> tuple[int, ...]:
    models = (Run, ABTestResult, ReplayCampaign, ApprovalRequest, Pattern, User)
    return tuple(model.objects.count() for model in models)


def test_bench_dashboard_prints_every_page_and_removes_its_data():
    before = _counts()
    out = StringIO()
    call_command("bench_dashboard", rows=10_500, runs=100, samples=2, stdout=out, stderr=StringIO())
    lines = out.getvalue().splitlines()
    for page in PAGES:
        timing = next(line for line in lines if line.startswith(f"{page} p50 ms: "))
        assert float(timing.rsplit(": ", 1)[1].replace(",", "")) > 0
        queries = next(line for line in lines if line.startswith(f"{page} queries: "))
        assert 0 < int(queries.rsplit(": ", 1)[1]) <= 15
    assert _counts() == before


def test_bench_dashboard_refuses_a_store_too_small_for_its_pages():
    with pytest.raises(CommandError, match="at least 83 runs"):
        call_command("bench_dashboard", rows=10_500, runs=10)
