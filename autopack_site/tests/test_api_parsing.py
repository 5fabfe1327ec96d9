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


# --- The schema documents what the API answers ---------------------------------------


@pytest.fixture(scope="module")
def published_schema() -> dict:
    from drf_spectacular.generators import SchemaGenerator

    return SchemaGenerator().get_schema(request=None, public=True)


def _operations(schema: dict):
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            yield path, method.upper(), operation


def test_every_operation_documents_the_errors_it_can_answer(published_schema):
    for path, method, operation in _operations(published_schema):
        documented = set(operation["responses"])
        expected = {"401", "403", "503"}
        if "requestBody" in operation:
            expected |= {"400", "404", "413", "415"}
        if any(p["in"] == "path" for p in operation.get("parameters", [])):
            expected.add("404")
        if method != "GET":
            expected.add("409")
        assert expected <= documented, (method, path, sorted(expected - documented))
        unavailable = operation["responses"]["503"]
        assert "Retry-After" in unavailable["headers"], (method, path)


def test_a_list_body_states_its_bounds(published_schema):
    for path in ("/api/v1/runs/{id}/metrics/", "/api/v1/runs/{id}/events/"):
        body = published_schema["paths"][path]["post"]["requestBody"]
        array = body["content"]["application/json"]["schema"]
        assert (array["minItems"], array["maxItems"]) == (1, 10_000), path


def test_the_list_filters_are_the_schema_array_parameters(published_schema, settings):
    arrays = {
        parameter["name"]
        for _, _, operation in _operations(published_schema)
        for parameter in operation.get("parameters", [])
        if parameter["in"] == "query" and parameter["schema"].get("type") == "array"
    }
    assert arrays == settings.AUTOPACK_LIST_QUERY_PARAMETERS


def test_every_optional_query_parameter_may_be_empty(published_schema, authed_client, monkeypatch):
    """The schema says an optional query parameter may be sent empty; the API then
    reads it as not given, for every one of them."""
    from metrics.tests.factories import PhaseFactory

    monkeypatch.setenv("AUTOPACK_ENABLE_CONSOLIDATED_METRICS", "1")
    phase = PhaseFactory()
    tried = 0
    for path, method, operation in _operations(published_schema):
        if method != "GET" or "{" in path.replace("{id}", "").replace("{run_id}", ""):
            continue
        url = path.replace("{id}", phase.run_id).replace("{run_id}", phase.run_id)
        for parameter in operation.get("parameters", []):
            if parameter["in"] != "query" or parameter.get("required"):
                continue
            assert parameter["allowEmptyValue"] is True, (path, parameter["name"])
            response = authed_client.get(url, {parameter["name"]: ""})
            assert response.status_code == 200, (path, parameter["name"], response.content)
            tried += 1
    assert tried > 20


@pytest.mark.parametrize(
    "query, refused",
    [
        ("limit=5&limit=x", ["limit"]),
        ("limit=5&limit=5", ["limit"]),
        ("created_after=2026-01-01T00:00:00Z&created_after=&has_failures=1", ["created_after"]),
    ],
)
def test_a_repeated_scalar_parameter_is_a_400_naming_it(authed_client, query, refused):
    response = authed_client.get(f"/api/v1/runs/?{query}")
    assert response.status_code == 400
    assert sorted(response.json()) == refused


def test_a_list_filter_may_repeat_and_ignores_empty_values(authed_client):
    from metrics.tests.factories import RunFactory

    RunFactory(id="queued-run", state=Run.State.QUEUED)
    RunFactory(id="done-run", state=Run.State.DONE_SUCCESS)
    listed = authed_client.get("/api/v1/runs/?state=QUEUED&state=DONE_SUCCESS&state=")
    assert listed.status_code == 200
    assert sorted(run["id"] for run in listed.json()["results"]) == ["done-run", "queued-run"]
    only = authed_client.get("/api/v1/runs/?state=QUEUED&state=")
    assert [run["id"] for run in only.json()["results"]] == ["queued-run"]
    assert authed_client.get("/api/v1/runs/?state=NOPE").status_code == 400
