"""Least-privilege keys: read, ingest (what an executor needs), admin (destructive
actions and decisions); 403 naming the scope missing; keys made before scopes are
admin keys."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from rest_framework.test import APIClient
from rest_framework_api_key.models import APIKey

from autopack_site.api.keys import api_key_create
from autopack_site.models import ApiKeyScope
from metrics.models import Run
from metrics.tests.factories import RunFactory

pytestmark = pytest.mark.django_db

START = {"run": {"run_id": "scoped-run"}, "tiers": [], "phases": []}


def client_with(scope: str | None) -> APIClient:
    if scope is None:  # a key made before scopes existed
        _, key = APIKey.objects.create_key(name="legacy")
    else:
        _, key = api_key_create(name=f"{scope}-key", scope=scope)
    client = APIClient()
    client.credentials(HTTP_X_API_KEY=key)
    return client


def refused(response, scope: str) -> bool:
    return response.status_code == 403 and response.json()["required_scope"] == scope


def test_a_read_key_reads_and_writes_nothing():
    reader = client_with("read")
    run = RunFactory()
    assert reader.get("/api/v1/runs/").status_code == 200
    assert reader.get(f"/runs/{run.pk}/status").status_code == 200
    response = reader.post("/runs/start", START, format="json")
    assert refused(response, "ingest")
    assert response.json()["code"] == "missing_scope" and "'ingest'" in response.json()["detail"]
    assert not Run.objects.filter(pk="scoped-run").exists()
    assert (
        reader.post("/api/v1/patterns/match/", {"message": "x"}, format="json").status_code == 200
    )


def test_an_ingest_key_does_what_an_executor_needs_and_no_more(phase6_on):
    executor = client_with("ingest")
    assert executor.post("/runs/start", START, format="json").status_code == 201
    assert (
        executor.patch(
            "/api/v1/runs/scoped-run/", {"git_branch": "main"}, format="json"
        ).status_code
        == 200
    )
    assert refused(executor.delete("/api/v1/runs/scoped-run/"), "admin")
    assert Run.objects.filter(pk="scoped-run").exists()
    assert refused(executor.post("/api/v1/approvals/1/approve/", {}, format="json"), "admin")
    assert refused(executor.post("/api/v1/replay-campaigns/", {}, format="json"), "admin")


@pytest.mark.parametrize("scope", ["admin", None])
def test_admin_keys_and_keys_from_before_scopes_may_delete(scope):
    run = RunFactory()
    assert client_with(scope).delete(f"/api/v1/runs/{run.pk}/").status_code == 204


def _operations(schema: dict):
    """Every write operation of the schema, its path parameters filled in."""
    for path, methods in schema["paths"].items():
        for method, operation in methods.items():
            if method in ("get", "head", "options", "parameters"):
                continue
            url = path
            for parameter in operation.get("parameters", []):
                if parameter["in"] == "path":  # "1" is a valid id of every kind
                    url = url.replace("{" + parameter["name"] + "}", "1")
            yield method, url


def test_every_write_in_the_published_api_refuses_a_read_key_and_ingest_reaches_only_its_own(
    admin_client,
):
    schema = admin_client.get("/api/schema/", {"format": "json"}).json()
    reader, executor = client_with("read"), client_with("ingest")
    reads_by_post = {("post", "/api/v1/patterns/match/")}
    writes = [operation for operation in _operations(schema) if operation not in reads_by_post]
    assert len(writes) > 20
    for method, url in writes:
        response = getattr(reader, method)(url, {}, format="json")
        assert response.status_code == 403, (method, url, response.status_code)
    admin_only = {
        (method, url)
        for method, url in writes
        if refused(getattr(executor, method)(url, {}, format="json"), "admin")
    }
    assert admin_only == {
        ("delete", "/api/v1/runs/1/"),
        ("post", "/api/v1/approvals/1/approve/"),
        ("post", "/api/v1/approvals/1/reject/"),
        ("post", "/api/v1/approvals/1/answer/"),
        ("post", "/api/v1/replay-campaigns/"),
        ("post", "/api/v1/replay-campaigns/1/cancel/"),
        ("post", "/api/v1/replay-campaigns/1/resume/"),
        ("post", "/api/v1/patterns/merge-suggestions/answers/"),
    }


def test_signed_in_staff_are_admins_and_other_users_readers(admin_client, django_user_model):
    run = RunFactory()
    assert admin_client.delete(f"/api/v1/runs/{run.pk}/").status_code == 204
    user = django_user_model.objects.create_user("reader", password="pw")
    client = APIClient()
    client.force_login(user)
    assert client.get("/api/v1/runs/").status_code == 200
    assert refused(client.post("/runs/start", START, format="json"), "ingest")


def test_create_api_key_stores_the_scope_it_is_given():
    out, err = StringIO(), StringIO()
    call_command("create_api_key", "ci-reader", "--scope", "read", stdout=out, stderr=err)
    key = out.getvalue().strip()
    stored = APIKey.objects.get_from_key(key)
    assert ApiKeyScope.objects.get(key=stored).scope == "read"
    assert "read API key 'ci-reader'" in err.getvalue()
    call_command("create_api_key", "executor", stdout=StringIO(), stderr=StringIO())
    assert ApiKeyScope.objects.get(key__name="executor").scope == "ingest"  # the default
    with pytest.raises(CommandError):
        call_command("create_api_key", "x", "--scope", "root", stdout=StringIO())


@pytest.mark.django_db
@pytest.mark.parametrize(
    "headers, status",
    [
        ({"HTTP_AUTHORIZATION": "0@i"}, 401),  # unreadable credentials are refused
        ({"HTTP_AUTHORIZATION": "Bearer"}, 401),
        ({"HTTP_AUTHORIZATION": "Basic dXNlcjpwYXNz"}, 200),  # a proxy's, left alone
        ({"HTTP_AUTHORIZATION": "Bearer someone-else.key"}, 401),  # two different keys
    ],
)
def test_an_authorization_header_beside_the_key_must_be_readable_and_agree(
    api_client, api_key, headers, status
):
    response = api_client.get("/api/v1/runs/", HTTP_X_API_KEY=api_key, **headers)
    assert response.status_code == status, response.content
