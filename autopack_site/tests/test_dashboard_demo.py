"""Every dashboard page on the demo data `make demo` loads: each answers, and the
overview's figures are the API's."""

import re
from datetime import timedelta
from io import StringIO

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.utils import timezone

from abtests.models import ABTestResult
from metrics import selectors
from metrics.models import Run
from patterns.models import Pattern
from replay.models import ReplayCampaign

# The demo's replays run through a real HTTP executor in threads of their own.
pytestmark = pytest.mark.django_db(transaction=True)


def load_demo() -> None:
    """The Makefile's `demo` data steps, in its order (patterns stored, no files)."""
    for command in ("seed_demo", "seed_demo_ab_results", "pattern_expansion", "seed_demo_replays"):
        call_command(command, stdout=StringIO(), stderr=StringIO())


@pytest.fixture
def demo_client(client, settings, tmp_path):
    settings.AUTOPACK_REPLAY_RESULTS_DIR = tmp_path
    load_demo()
    client.force_login(User.objects.create_user("operator", password="x", is_staff=True))
    return client


def test_every_page_answers_on_the_demo_data(demo_client):
    pages = ["/dashboard/", "/dashboard/runs/", "/dashboard/runs/?has_failures=true"]
    pages += ["/dashboard/patterns/", "/dashboard/ab/", "/dashboard/replays/"]
    pages += ["/dashboard/approvals/"]
    pages += [f"/dashboard/runs/{run_id}/" for run_id in Run.objects.values_list("pk", flat=True)]
    pages += [
        f"/dashboard/ab/{test_id}/"
        for test_id in ABTestResult.objects.values_list("test_id", flat=True).distinct()
    ]
    pages += [
        f"/dashboard/replays/{pk}/" for pk in ReplayCampaign.objects.values_list("pk", flat=True)
    ]
    assert Pattern.objects.exists() and ReplayCampaign.objects.exists()
    for page in pages:
        response = demo_client.get(page)
        assert response.status_code == 200, page
        assert b"<h1>" in response.content, page


def test_the_overview_shows_the_demo_figures_as_the_api_does(demo_client, authed_client):
    page = demo_client.get("/dashboard/").content.decode()
    today = timezone.now().date()
    days = authed_client.get(
        "/api/v1/metrics/daily/", {"from": (today - timedelta(days=29)).isoformat()}
    ).json()["results"]
    for name, label in [("base_tokens", "base"), ("retrieval_tokens", "retrieval")]:
        shown = re.search(rf'data-figure="{label}">([^<]*)<', page)[1].replace(",", "")
        assert int(shown) == sum(day[name] for day in days)
    in_window = selectors.runs_by_state_per_day(today - timedelta(days=29))
    chart = page.split('data-chart="runs-chart"')[1].split("</svg>")[0]
    drawn = sum(map(int, re.findall(r'data-value="(\d+)"', chart)))
    assert drawn == sum(row["runs"] for row in in_window) > 0
