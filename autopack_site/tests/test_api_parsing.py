"""Bodies every JSON endpoint must refuse with a 400, never a 500 (both databases)."""

import pytest

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
