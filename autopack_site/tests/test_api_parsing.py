"""Bodies every JSON endpoint must refuse with a 400, never a 500 (both databases)."""

import pytest

from metrics.models import Run

pytestmark = pytest.mark.django_db

DEEP = '{"message": "x", "context": ' + "[" * 100_000 + "]" * 100_000 + "}"
ENDPOINTS = [
    "/api/v1/runs/",
    "/api/v1/patterns/match",
    "/api/v1/patterns/merge-suggestions/answers",
    "/runs/start",
]


@pytest.mark.parametrize("url", ENDPOINTS)
@pytest.mark.parametrize(
    "body, detail",
    [
        (DEEP, "JSON parse error - nested too deeply"),
        ("{bad", "JSON parse error - Expecting property name"),
    ],
)
def test_unparseable_json_is_a_400_with_the_reason(authed_client, url, body, detail):
    response = authed_client.post(url, data=body, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["detail"].startswith(detail)


@pytest.mark.parametrize("url", ENDPOINTS)
def test_a_body_over_the_upload_limit_is_a_json_413(authed_client, settings, url):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    body = '{"message": "' + "x" * 2000 + '"}'
    response = authed_client.post(url, data=body, content_type="application/json")
    assert response.status_code == 413
    assert response.json() == {
        "detail": "Request body exceeds 1,000 bytes.",
        "code": "request_too_large",
    }


MULTIPART_RUN = '--xyz\r\nContent-Disposition: form-data; name="id"\r\n\r\nform-run\r\n--xyz--\r\n'


@pytest.mark.parametrize(
    "content_type, body",
    [
        ("application/x-www-form-urlencoded", "id=form-run&git_commit_sha=null"),
        (
            "multipart/form-data; boundary=xyz",
            '--xyz\r\nContent-Disposition: form-data; name="id"\r\n\r\nform-run\r\n--xyz--\r\n',
        ),
        ("text/plain", '{"id": "form-run"}'),
    ],
)
def test_the_api_takes_json_only(authed_client, content_type, body):
    response = authed_client.generic("POST", "/api/v1/runs/", body, content_type=content_type)
    assert response.status_code == 415
    assert "Unsupported media type" in response.json()["detail"]
    assert not Run.objects.exists()


def test_the_schema_states_the_bounds_the_api_enforces(admin_client):
    """Paging and test-id parameters: the schema allows only what the API takes."""
    schema = admin_client.get("/api/schema/", {"format": "json"}).json()

    def query(path: str) -> dict:
        operation = schema["paths"][path]["get"]
        return {p["name"]: p["schema"] for p in operation["parameters"] if p["in"] == "query"}

    for path in (
        "/api/v1/runs/{id}/metrics/",
        "/api/v1/runs/{run_id}/consolidated-metrics/",
        "/api/v1/ab-results/",
        "/api/v1/runs/",
    ):
        parameters = query(path)
        assert parameters["limit"] == {"type": "integer", "minimum": 1, "maximum": 10_000}, path
        assert parameters["offset"] == {"type": "integer", "minimum": 0}, path
    assert query("/api/v1/ab-results/summary/")["test_id"]["minLength"] == 1
    assert "minLength" not in query("/api/v1/ab-results/")["test_id"]  # blank: every test


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/ab-results/?limit=0",
        "/api/v1/ab-results/?limit=10001",
        "/api/v1/ab-results/?offset=-1",
        "/api/v1/ab-results/summary/?test_id=",
    ],
)
def test_what_the_schema_forbids_the_api_refuses(authed_client, path):
    assert authed_client.get(path).status_code == 400
