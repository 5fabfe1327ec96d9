"""Admin pages render for staff and keep telemetry read-only."""

import pytest

from metrics.tests.factories import DashboardEventFactory, PhaseMetricsFactory

pytestmark = pytest.mark.django_db

MODELS = ["run", "tier", "phase", "phasemetrics", "dashboardevent"]


@pytest.fixture
def telemetry():
    row = PhaseMetricsFactory()
    event = DashboardEventFactory(run=row.run, phase=row.phase)
    return row, event


@pytest.mark.parametrize("model", MODELS)
def test_changelist_and_search_render(admin_client, telemetry, model):
    row, _ = telemetry
    url = f"/admin/metrics/{model}/"
    response = admin_client.get(url)
    assert response.status_code == 200
    assert admin_client.get(url, {"q": row.run_id}).status_code == 200


def test_run_change_page_shows_tiers_and_phases_inline(admin_client, telemetry):
    row, _ = telemetry
    response = admin_client.get(f"/admin/metrics/run/{row.run_id}/change/")
    assert response.status_code == 200
    assert row.phase.phase_id in response.content.decode()


def test_ledger_rows_are_read_only(admin_client, telemetry):
    row, _event = telemetry
    assert admin_client.get("/admin/metrics/phasemetrics/add/").status_code == 403
    page = admin_client.get(f"/admin/metrics/phasemetrics/{row.pk}/change/")
    assert page.status_code == 200 and b'name="_save"' not in page.content
    assert admin_client.get("/admin/metrics/dashboardevent/add/").status_code == 403


def test_ledger_changelist_shows_sql_total(admin_client, telemetry):
    response = admin_client.get("/admin/metrics/phasemetrics/")
    assert "1123" in response.content.decode()  # 100 + 20 + 3 + 1000
