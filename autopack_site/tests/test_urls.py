"""The URL map: one module per surface, each answering where it always has."""

import pytest

pytestmark = pytest.mark.django_db


def test_the_admin_carries_the_products_name(admin_client):
    page = admin_client.get("/admin/").content.decode()
    assert "Autopack Ops" in page and "Django administration" not in page


@pytest.mark.parametrize("path", ["/health", "/health/", "/health/ready", "/health/live/"])
def test_health_answers_with_and_without_a_trailing_slash(client, path):
    assert client.get(path).status_code in (200, 503)


@pytest.mark.parametrize(
    "path", ["/dashboard/ab-results", "/dashboard/runs/missing/consolidated-metrics/"]
)
def test_dashboard_routes_need_a_key(client, path):
    assert client.get(path).status_code in (401, 403)
