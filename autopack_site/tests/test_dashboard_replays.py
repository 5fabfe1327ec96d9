"""The dashboard's replay pages: campaigns with progress, a dry run from a form
that clones nothing, and a campaign's attempts with their reports."""

import json
import re

import pytest
from django.test import Client

from autopack_site.tests.dashboard_support import queries_of
from metrics.models import Run
from replay.models import ReplayAttempt, ReplayCampaign
from replay.tests.factories import failed_run, queued_campaign

pytestmark = pytest.mark.django_db
PAGE = "/dashboard/replays/"


def _finish(attempt: ReplayAttempt, tmp_path, *, recovered: bool, patterns=(), delta=0):
    report = {
        "recovered": recovered,
        "deltas": {"tokens": {"total_tokens": delta}},
        "replay_failure_patterns": list(patterns),
    }
    path = tmp_path / f"attempt-{attempt.pk}.json"
    path.write_text(json.dumps(report), encoding="utf-8")
    attempt.status = ReplayAttempt.Status.SUCCEEDED if recovered else ReplayAttempt.Status.FAILED
    attempt.report_path = str(path)
    attempt.save()


def test_the_campaign_list_shows_progress_and_recovery_rate(staff_client, tmp_path):
    campaign = queued_campaign(*[failed_run() for _ in range(4)])
    attempts = list(campaign.attempts.order_by("id"))
    _finish(attempts[0], tmp_path, recovered=True)
    _finish(attempts[1], tmp_path, recovered=False)
    page = staff_client.get(PAGE).content.decode()
    row = re.search(rf'<tr data-campaign="{campaign.pk}">(.*?)</tr>', page, re.S)[1]
    assert "2 of 4" in row
    assert re.search(r"data-recovery-rate>50%<", row)


def test_a_dry_run_shows_the_selection_and_clones_nothing(staff_client):
    chosen, other = failed_run(), failed_run()
    Run.objects.create(id="succeeded-run", state=Run.State.DONE_SUCCESS)
    runs_before, campaigns_before = Run.objects.count(), ReplayCampaign.objects.count()

    page = staff_client.post(f"{PAGE}dry-run/", {"state": "FAILED"}).content.decode()
    assert set(re.findall(r'data-selected="([^"]+)"', page)) == {chosen.id, other.id}
    assert "2 runs would be replayed" in page and "Nothing has been cloned" in page
    page = staff_client.post(
        f"{PAGE}dry-run/", {"state": "FAILED", "run_ids": f"{chosen.id},\n"}
    ).content.decode()
    assert re.findall(r'data-selected="([^"]+)"', page) == [chosen.id]
    assert (Run.objects.count(), ReplayCampaign.objects.count()) == (runs_before, campaigns_before)


@pytest.mark.parametrize(
    "body, message",
    [
        ({"state": "FAILED", "run_ids": "no-such-run"}, "No such run: no-such-run."),
        ({"state": "FAILED", "run_ids": "bad/id"}, "Not a run id: bad/id."),
        ({"state": "NOPE"}, "Select a valid choice"),
        ({"state": "FAILED", "from_date": "soon"}, "Enter a valid date"),
    ],
)
def test_a_bad_dry_run_is_a_400_naming_the_field(staff_client, body, message):
    response = staff_client.post(f"{PAGE}dry-run/", body)
    assert response.status_code == 400
    assert message in response.content.decode()


def test_the_dry_run_needs_csrf_and_a_post(staff):
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(staff)
    assert strict.post(f"{PAGE}dry-run/", {"state": "FAILED"}).status_code == 403
    assert strict.get(f"{PAGE}dry-run/").status_code == 405
    page = strict.get(PAGE).content.decode()
    assert 'name="csrfmiddlewaretoken"' in page


def test_a_campaign_page_shows_attempts_reports_and_still_failing_patterns(staff_client, tmp_path):
    campaign = queued_campaign(*[failed_run() for _ in range(3)])
    first, second, third = campaign.attempts.order_by("id")
    _finish(first, tmp_path, recovered=True, delta=-120)
    _finish(second, tmp_path, recovered=False, patterns=["no_module_named", "ci_failed"])
    third.report_path = str(tmp_path / "gone.json")  # a report that went missing
    third.save()
    page = staff_client.get(f"{PAGE}{campaign.pk}/").content.decode()
    assert len(re.findall(r"<tr data-attempt=", page)) == 3
    assert "-120" in page
    assert re.findall(r'data-still-failing="([^"]+)"', page) == ["ci_failed", "no_module_named"]
    assert staff_client.get(f"{PAGE}no-such-campaign/").status_code == 404
    # Each report, as written, one link away; none for an attempt whose file is gone.
    report = staff_client.get(f"{PAGE}{campaign.pk}/attempts/{second.pk}/report/")
    assert report.status_code == 200 and "no_module_named" in report.content.decode()
    assert f"/attempts/{second.pk}/report/" in page
    assert staff_client.get(f"{PAGE}{campaign.pk}/attempts/{third.pk}/report/").status_code == 404
    other = queued_campaign(failed_run())
    assert staff_client.get(f"{PAGE}{other.pk}/attempts/{second.pk}/report/").status_code == 404


def test_the_replay_pages_cost_the_same_queries_whatever_the_data(staff_client, tmp_path):
    def queries(url: str) -> int:
        return queries_of(staff_client, url)

    campaign = queued_campaign(failed_run())
    small = queries(PAGE), queries(f"{PAGE}{campaign.pk}/")
    for attempt in queued_campaign(*[failed_run() for _ in range(3)]).attempts.all():
        _finish(attempt, tmp_path, recovered=False)
    campaign.attempts.update(status=ReplayAttempt.Status.SUCCEEDED)
    more = queued_campaign(*[failed_run() for _ in range(6)])
    assert (queries(PAGE), queries(f"{PAGE}{more.pk}/")) == small
