"""The operators' dashboard pages: staff only, every figure the API's selectors
give, and a query count that does not grow with the data."""

import re
from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.utils import timezone

from autopack_site.tests.dashboard_support import queries_of
from metrics import selectors as metrics_selectors
from metrics.models import TOKEN_CATEGORIES, ApprovalRequest, Run
from metrics.tests.factories import PhaseFactory, PhaseMetricsFactory, RunFactory
from patterns.models import Pattern
from patterns.tests.factories import PatternFactory
from replay.tests.factories import failed_run, queued_campaign

pytestmark = pytest.mark.django_db

OVERVIEW = "/dashboard/"


def _days_ago(days: int, hour: int = 12):
    now = timezone.now()
    return now.replace(hour=hour, minute=0, second=0, microsecond=0) - timedelta(days=days)


def _estate(scale: int) -> dict:
    """Runs over the window (and one before it), ledger rows, patterns, an active
    campaign and pending approvals: `scale` sets how many of each."""
    made = {"succeeded": 0, "failed": 0, "in progress": 0}
    runs = []
    for index in range(3 * scale):
        kind = ("succeeded", "failed", "in progress")[index % 3]
        state = {
            "succeeded": Run.State.DONE_SUCCESS,
            "failed": Run.State.DONE_FAILED_ENVIRONMENT,
            "in progress": Run.State.PHASE_EXECUTION,
        }[kind]
        run = RunFactory(state=state, created_at=_days_ago(index % 29))
        made[kind] += 1
        runs.append(run)
        phase = PhaseFactory(run=run, tier__run=run)
        PhaseMetricsFactory(phase=phase, created_at=_days_ago(index % 29), base_tokens=1000 + index)
    RunFactory(state=Run.State.DONE_FAILED_ENVIRONMENT, created_at=_days_ago(45))  # outside
    for index in range(scale + 5):
        PatternFactory(occurrences=10 * index, run_ids=[run.id for run in runs[: index + 1]])
    # The campaign replays runs from before the window: they count in no bar.
    queued_campaign(*[failed_run(created_at=_days_ago(40)) for _ in range(scale)])
    for index in range(scale + 1):
        ApprovalRequest.objects.create(
            run=runs[0],
            phase=runs[0].phases.first(),
            context=f"delete {index} files",
            timeout_at=timezone.now() + timedelta(hours=index + 1),
        )
    return made


def _figure(page: str, name: str) -> str:
    found = re.search(rf'data-figure="{re.escape(name)}">([^<]*)<', page)
    assert found, f"no figure {name}"
    return found[1].strip()


def test_the_overview_needs_a_staff_login(client):
    response = client.get(OVERVIEW)
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/?next=/dashboard/")
    client.force_login(User.objects.create_user("visitor", password="x"))
    assert client.get(OVERVIEW).status_code == 302  # logged in, but not staff


def test_an_empty_store_shows_an_empty_overview(staff_client):
    response = staff_client.get(OVERVIEW)
    assert response.status_code == 200
    page = response.content.decode()
    assert "<title>Overview · Autopack Ops</title>" in page
    assert _figure(page, "failure-rate") == "—"
    assert "No patterns mined yet" in page and "Nothing awaits a decision" in page


def test_the_overview_shows_the_selectors_figures(staff_client):
    made = _estate(scale=3)
    page = staff_client.get(OVERVIEW).content.decode()
    assert _figure(page, "runs-succeeded") == str(made["succeeded"])
    assert _figure(page, "runs-failed") == str(made["failed"])  # the 45-day-old run is out
    assert _figure(page, "runs-in-progress") == str(made["in progress"])
    assert _figure(page, "failure-rate") == "50.0%"
    per_state = dict(re.findall(r'<tr data-state="([^"]+)">.*?class="number">(\d+)<', page))
    assert per_state == {
        Run.State.DONE_SUCCESS: str(made["succeeded"]),
        Run.State.DONE_FAILED_ENVIRONMENT: str(made["failed"]),
        Run.State.PHASE_EXECUTION: str(made["in progress"]),
    }
    # Token figures are the daily selector's, the API's one source of every total.
    start = timezone.now().date() - timedelta(days=29)
    days = metrics_selectors.daily_totals(date_from=start, date_to=timezone.now().date())
    for name in TOKEN_CATEGORIES:
        label = name.removesuffix("_tokens").replace("_", " ")
        assert _figure(page, label).replace(",", "") == str(sum(day[name] for day in days))
    # Each bar segment is one day's value with its title for screen readers.
    tokens_chart = page.split('data-chart="tokens-chart"')[1].split("</svg>")[0]
    base_values = [
        int(v) for v in re.findall(r'data-series="base" [^>]*data-value="(\d+)"', tokens_chart)
    ]
    assert sum(base_values) == sum(day["base_tokens"] for day in days)
    assert ">Tokens spent per day, by category</title>" in page
    runs_chart = page.split('data-chart="runs-chart"')[1].split("</svg>")[0]
    assert sum(map(int, re.findall(r'data-value="(\d+)"', runs_chart))) == sum(made.values())
    # Top five patterns, most frequent first, each with its runs per day.
    shown = re.findall(r'<tr data-pattern="([^"]+)">', page)
    assert len(shown) == 5
    top = Pattern.objects.order_by("-occurrences").values_list("pattern_id", flat=True)[:5]
    assert shown == list(top)
    trends = re.findall(r'data-trend="([^"]+)"', page)
    assert sum(map(int, trends[0].split(","))) == 8  # the top pattern names all 8 runs
    assert len(re.findall(r"<tr data-campaign=", page)) == 1
    assert _figure(page, "pending-approvals") == "(4)"
    deadlines = re.findall(r'<time datetime="([^"]+)"', page)
    assert deadlines == sorted(deadlines)


def test_the_overview_costs_the_same_queries_whatever_the_data(staff_client):
    def queries() -> int:
        return queries_of(staff_client, OVERVIEW)

    _estate(scale=1)
    small = queries()
    _estate(scale=6)
    assert queries() == small
    assert small <= 12


def test_the_json_routes_under_dashboard_still_answer_json(authed_client):
    response = authed_client.get("/dashboard/runs/missing/consolidated-metrics")
    assert response.status_code in (404, 503)
    assert response["Content-Type"] == "application/json"


RUNS = "/dashboard/runs/"


def _listed(page: str) -> list[str]:
    return re.findall(r'<tr data-run="([^"]+)">', page)


def test_the_run_list_filters_as_the_api_does_and_pages(staff_client):
    failed = [RunFactory(failed=True, created_at=_days_ago(days)) for days in (1, 2)]
    ok = [RunFactory(finished=True, created_at=_days_ago(days)) for days in (3, 10)]
    with_failed_phase = RunFactory(state=Run.State.PHASE_EXECUTION, created_at=_days_ago(4))
    PhaseFactory(run=with_failed_phase, tier__run=with_failed_phase, failed=True)

    def listed(query: str) -> list[str]:
        response = staff_client.get(f"{RUNS}?{query}")
        assert response.status_code == 200
        return _listed(response.content.decode())

    everything = [failed[0], failed[1], ok[0], with_failed_phase, ok[1]]
    assert listed("") == [
        run.id for run in sorted(everything, key=lambda r: -r.created_at.timestamp())
    ]
    assert set(listed("has_failures=true")) == {failed[0].id, failed[1].id, with_failed_phase.id}
    assert listed(f"state={Run.State.DONE_SUCCESS}") == [ok[0].id, ok[1].id]
    from_day = _days_ago(3).date().isoformat()
    to_day = _days_ago(1).date().isoformat()
    # Whole UTC days, both ends included: the runs of 3, 2 and 1 days ago.
    in_days = listed(f"created_from={from_day}&created_to={to_day}")
    assert in_days == [failed[0].id, failed[1].id, ok[0].id]
    assert listed(f"run_id={ok[1].id.upper()}") == [ok[1].id]
    # The API's filter gives the same runs for the same states and failures.
    from metrics.api.filters import RunFilter

    api = RunFilter({"has_failures": "true"}, queryset=Run.objects.all()).qs
    assert set(listed("has_failures=true")) == set(api.values_list("id", flat=True))


def test_a_bad_filter_is_a_400_page_naming_the_field(staff_client):
    response = staff_client.get(f"{RUNS}?created_from=yesterday&state=NOT_A_STATE")
    assert response.status_code == 400
    page = response.content.decode()
    assert 'role="alert"' in page and "created_from" in page and "state" in page
    assert _listed(page) == []


def test_the_run_list_pages_keep_their_filters(staff_client):
    for index in range(55):
        RunFactory(failed=True, created_at=_days_ago(0, hour=0) + timedelta(minutes=index))
    first = staff_client.get(f"{RUNS}?has_failures=true").content.decode()
    assert len(_listed(first)) == 50 and "Page 1 of 2" in first
    assert 'href="?has_failures=true&amp;page=2"' in first
    second = staff_client.get(f"{RUNS}?has_failures=true&page=2").content.decode()
    assert len(_listed(second)) == 5
    assert not set(_listed(first)) & set(_listed(second))


def test_the_run_list_costs_the_same_queries_whatever_the_data(staff_client):
    def queries() -> int:
        return queries_of(staff_client, f"{RUNS}?has_failures=true")

    _estate(scale=1)
    small = queries()
    _estate(scale=20)  # past one page
    assert queries() == small


def _detailed_run():
    run = RunFactory(failed=True, created_at=_days_ago(1))
    first = PhaseFactory(run=run, tier__run=run, complete=True)
    second = PhaseFactory(run=run, tier=first.tier, failed=True)
    for phase, attempt, base in ((first, 1, 500), (first, 2, 700), (second, 1, 40)):
        PhaseMetricsFactory(phase=phase, attempt=attempt, base_tokens=base, retrieval_tokens=10)
    from metrics.tests.factories import DashboardEventFactory

    DashboardEventFactory(run=run, phase=second, message="patch apply failed: hunk #2 FAILED")
    PatternFactory(pattern_id="patch_apply_failed", occurrences=9, run_ids=[run.id, "other"])
    PatternFactory(pattern_id="unrelated", occurrences=50, run_ids=["other"])
    replay = RunFactory(finished=True, replay_of=run)
    return run, first, second, replay


def test_the_run_detail_shows_phases_tokens_events_patterns_and_replays(staff_client):
    run, first, second, replay = _detailed_run()
    response = staff_client.get(f"{RUNS}{run.id}/")
    assert response.status_code == 200
    page = response.content.decode()
    totals = metrics_selectors.consolidated_totals(run.id)
    assert _figure(page, "total_tokens").replace(",", "") == str(totals["total_tokens"])
    assert _figure(page, "base_tokens").replace(",", "") == "1240"
    chart = page.split('data-chart="phase-tokens-chart"')[1].split("</svg>")[0]
    bases = dict(re.findall(r'data-series="base" data-label="([^"]+)" data-value="(\d+)"', chart))
    assert bases == {first.phase_id: "1200", second.phase_id: "40"}
    assert re.findall(r'<tr data-phase="([^"]+)">', page) == [first.phase_id, second.phase_id]
    assert "hunk #2 FAILED" in page
    assert re.findall(r'<li data-pattern="([^"]+)">', page) == ["patch_apply_failed"]
    assert f'data-replay="{replay.id}"' in page
    replay_page = staff_client.get(f"{RUNS}{replay.id}/").content.decode()
    assert f'data-original="{run.id}"' in replay_page


def test_an_unknown_run_is_a_404_page(staff_client):
    response = staff_client.get(f"{RUNS}no-such-run/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


def test_the_run_detail_costs_the_same_queries_whatever_the_run(staff_client):
    def queries(run_id: str) -> int:
        return queries_of(staff_client, f"{RUNS}{run_id}/")

    run, *_ = _detailed_run()
    small = queries(run.id)
    for _ in range(10):
        phase = PhaseFactory(run=run, tier__run=run, failed=True)
        for attempt in (1, 2, 3):
            PhaseMetricsFactory(phase=phase, attempt=attempt)
        RunFactory(replay_of=run)
        PatternFactory(run_ids=[run.id])
    assert queries(run.id) == small
