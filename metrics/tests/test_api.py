"""The v1 API over real HTTP through the test client."""

from datetime import timedelta

import pytest
from django.utils import timezone

from metrics.models import DailyTokenSummary, DashboardEvent, Phase, PhaseMetrics, Run, Tier
from metrics.tests.factories import (
    DashboardEventFactory,
    PhaseFactory,
    PhaseMetricsFactory,
    RunFactory,
)

pytestmark = pytest.mark.django_db

RUNS_URL = "/api/v1/runs/"


def ledger_row(phase_id="p0", attempt=1, **tokens):
    return {
        "phase_id": phase_id,
        "attempt": attempt,
        "retrieval_tokens": tokens.get("retrieval_tokens", 10),
        "second_opinion_tokens": tokens.get("second_opinion_tokens", 20),
        "evidence_request_tokens": tokens.get("evidence_request_tokens", 30),
        "base_tokens": tokens.get("base_tokens", 40),
        "model": "claude-sonnet",
    }


# --- Authentication ---------------------------------------------------------------


def test_no_key_is_401_with_challenge(api_client):
    response = api_client.get(RUNS_URL)
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Bearer"


@pytest.mark.parametrize(
    "headers",
    [{"HTTP_X_API_KEY": "nope.wrong"}, {"HTTP_AUTHORIZATION": "Bearer nope.wrong"}],
)
def test_wrong_key_is_401(api_client, api_key, headers):
    response = api_client.get(RUNS_URL, **headers)
    assert response.status_code == 401
    assert response.json() == {"detail": "Invalid API key."}


@pytest.mark.parametrize("header", ["HTTP_X_API_KEY", "HTTP_AUTHORIZATION"])
def test_both_header_styles_are_accepted(api_client, api_key, header):
    value = api_key if header == "HTTP_X_API_KEY" else f"Bearer {api_key}"
    response = api_client.get(RUNS_URL, **{header: value})
    assert response.status_code == 200


def test_revoked_key_is_401(api_client):
    from rest_framework_api_key.models import APIKey

    record, key = APIKey.objects.create_key(name="old")
    record.revoked = True
    record.save()
    assert api_client.get(RUNS_URL, HTTP_X_API_KEY=key).status_code == 401


@pytest.mark.parametrize(
    "expires_in, status, detail",
    [
        (timedelta(seconds=-1), 401, "API key has expired."),
        (timedelta(days=-400), 401, "API key has expired."),
        (timedelta(minutes=5), 200, None),
        (None, 200, None),
    ],
)
def test_a_key_works_until_it_expires(api_client, expires_in, status, detail):
    """Expiry is compared with the database's clock, at second resolution or finer."""
    from rest_framework_api_key.models import APIKey

    expiry = None if expires_in is None else timezone.now() + expires_in
    _, key = APIKey.objects.create_key(name="dated", expiry_date=expiry)
    response = api_client.get(RUNS_URL, HTTP_X_API_KEY=key)
    assert response.status_code == status
    if detail:
        assert response.json() == {"detail": detail}


def test_a_key_with_a_known_prefix_and_a_wrong_secret_is_401(api_client, api_key):
    prefix, _, _ = api_key.partition(".")
    response = api_client.get(RUNS_URL, HTTP_X_API_KEY=f"{prefix}.not-the-secret")
    assert response.status_code == 401


def test_schema_and_docs_need_no_key(api_client):
    assert api_client.get("/api/schema/").status_code == 200
    assert api_client.get("/api/docs/").status_code == 200


# --- Runs -------------------------------------------------------------------------


NESTED_RUN = {
    "id": "telemetry-collection-v7",
    "git_commit_sha": "3f9a2c1",
    "model_mapping_hash": "mm-1",
    "tiers": [
        {
            "tier_id": "T1",
            "tier_index": 0,
            "name": "Foundation",
            "phases": [
                {"phase_id": "p0", "phase_index": 0, "name": "Plan"},
                {"phase_id": "p1", "phase_index": 1, "scope": {"paths": ["src/"]}},
            ],
        }
    ],
}


def test_create_run_with_nested_tiers_and_phases(authed_client):
    response = authed_client.post(RUNS_URL, NESTED_RUN, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["id"] == "telemetry-collection-v7"
    assert body["state"] == "RUN_CREATED"
    assert body["feature_flags"] == {"phase6_metrics": False, "consolidated_metrics": False}
    assert [tier["tier_id"] for tier in body["tiers"]] == ["T1"]
    assert [(p["phase_id"], p["tier_id"]) for p in body["phases"]] == [("p0", "T1"), ("p1", "T1")]
    assert body["phases"][1]["scope"] == {"paths": ["src/"]}


def test_create_existing_run_is_409(authed_client):
    RunFactory(id="telemetry-collection-v7")
    response = authed_client.post(RUNS_URL, NESTED_RUN, format="json")
    assert response.status_code == 409
    assert "already exists" in response.json()["detail"]


@pytest.mark.parametrize(
    "body, field",
    [
        ({"id": "bad id with spaces"}, "id"),
        ({"id": "ok", "state": "NOT_A_STATE"}, "state"),
        ({"id": "ok", "token_cap": -5}, "token_cap"),
        (
            {"id": "ok", "tiers": [{"tier_id": "T1", "phases": [{"phase_id": "p", "scope": []}]}]},
            "tiers",
        ),
        ({"id": "ok", "tiers": [{"tier_id": "T1"}, {"tier_id": "T1"}]}, "tiers"),
    ],
)
def test_create_run_with_bad_fields_is_400_and_writes_nothing(authed_client, body, field):
    response = authed_client.post(RUNS_URL, body, format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert not Run.objects.exists() and not Tier.objects.exists()


def test_create_run_with_non_object_body_is_400(authed_client):
    response = authed_client.post(RUNS_URL, [1, 2], format="json")
    assert response.status_code == 400


def test_run_detail_has_tiers_and_phases(authed_client, django_assert_num_queries):
    phase = PhaseFactory(phase_id="build130-phase0-circuit-breaker")
    PhaseFactory(tier=phase.tier)
    with django_assert_num_queries(6):  # 2 auth + run, tiers, phases (with tier) + savepoints
        response = authed_client.get(f"{RUNS_URL}{phase.run_id}/")
    assert response.status_code == 200
    body = response.json()
    assert body["tiers"][0]["tier_id"] == phase.tier.tier_id
    assert body["phases"][0]["phase_id"] == "build130-phase0-circuit-breaker"


def test_unknown_run_is_404(authed_client):
    assert authed_client.get(f"{RUNS_URL}missing/").status_code == 404


def test_delete_run_cascades(authed_client):
    row = PhaseMetricsFactory()
    response = authed_client.delete(f"{RUNS_URL}{row.run_id}/")
    assert response.status_code == 204
    assert not Run.objects.exists() and not PhaseMetrics.objects.exists()


def test_list_filters_by_state_and_created_range(authed_client):
    now = timezone.now()
    old = RunFactory(state=Run.State.DONE_SUCCESS, created_at=now - timedelta(days=10))
    new = RunFactory(state=Run.State.QUEUED, created_at=now)
    body = authed_client.get(RUNS_URL, {"state": "DONE_SUCCESS"}).json()
    assert [r["id"] for r in body["results"]] == [old.id]
    since = (now - timedelta(days=1)).isoformat()
    body = authed_client.get(RUNS_URL, {"created_after": since}).json()
    assert [r["id"] for r in body["results"]] == [new.id]
    body = authed_client.get(RUNS_URL, {"created_before": since}).json()
    assert [r["id"] for r in body["results"]] == [old.id]


def test_list_accepts_offsets_postgresql_would_reject(authed_client):
    """Python allows UTC offsets up to ±23:59, PostgreSQL only ±15:59: normalise to UTC."""
    run = RunFactory(created_at=timezone.now() - timedelta(days=1))
    response = authed_client.get(RUNS_URL, {"created_before": "2999-01-01T00:00:00-21:52"})
    assert response.status_code == 200
    assert [r["id"] for r in response.json()["results"]] == [run.id]


def test_list_filters_has_failures(authed_client):
    failed_run = RunFactory(failed=True)
    phase_failed = PhaseFactory(failed=True).run
    clean = PhaseFactory(complete=True).run
    ids = lambda body: sorted(r["id"] for r in body["results"])  # noqa: E731
    assert ids(authed_client.get(RUNS_URL, {"has_failures": "true"}).json()) == sorted(
        [failed_run.id, phase_failed.id]
    )
    assert ids(authed_client.get(RUNS_URL, {"has_failures": "false"}).json()) == [clean.id]
    assert ids(authed_client.get(RUNS_URL, {"has_failures": "FALSE"}).json()) == [clean.id]
    assert ids(authed_client.get(RUNS_URL, {"has_failures": "1"}).json()) == sorted(
        [failed_run.id, phase_failed.id]
    )
    assert len(authed_client.get(RUNS_URL, {"has_failures": ""}).json()["results"]) == 3


@pytest.mark.parametrize(
    "params, field",
    [
        ({"state": "BOGUS"}, "state"),
        ({"created_after": "yesterday"}, "created_after"),
        ({"created_after": "0001-01-01T00:10:00+21:52"}, "created_after"),
        ({"limit": "0"}, "limit"),
        ({"limit": "10001"}, "limit"),
        ({"limit": "ten"}, "limit"),
        ({"offset": "-1"}, "offset"),
        ({"has_failures": "perhaps"}, "has_failures"),
    ],
)
def test_list_bad_query_is_400_naming_the_parameter(authed_client, params, field):
    response = authed_client.get(RUNS_URL, params)
    assert response.status_code == 400
    assert field in response.json()


def test_limit_error_names_the_bound(authed_client):
    response = authed_client.get(RUNS_URL, {"limit": "10001"})
    assert response.json() == {"limit": ["limit must be an integer between 1 and 10000."]}


def test_list_paginates_newest_first(authed_client):
    now = timezone.now()
    runs = [RunFactory(created_at=now - timedelta(minutes=i)) for i in range(3)]
    body = authed_client.get(RUNS_URL, {"limit": 2}).json()
    assert body["count"] == 3
    assert [r["id"] for r in body["results"]] == [runs[0].id, runs[1].id]
    assert "offset=2" in body["next"]


def test_list_query_count_is_constant(authed_client, django_assert_max_num_queries):
    RunFactory.create_batch(30)
    with django_assert_max_num_queries(6):
        response = authed_client.get(RUNS_URL, {"has_failures": "true", "limit": 50})
    assert response.status_code == 200


# --- Phases -----------------------------------------------------------------------


def test_patch_phase_updates_state_and_rolls_up(authed_client):
    phase = PhaseFactory(phase_id="p0")
    url = f"{RUNS_URL}{phase.run_id}/phases/p0/"
    response = authed_client.patch(url, {"state": "COMPLETE", "builder_attempts": 2}, format="json")
    assert response.status_code == 200
    assert response.json()["state"] == "COMPLETE"
    assert Run.objects.get(pk=phase.run_id).state == Run.State.DONE_SUCCESS


def test_patch_phase_bad_state_is_400(authed_client):
    phase = PhaseFactory(phase_id="p0")
    response = authed_client.patch(
        f"{RUNS_URL}{phase.run_id}/phases/p0/", {"state": "DONE"}, format="json"
    )
    assert response.status_code == 400 and "state" in response.json()


def test_unknown_phase_is_404(authed_client):
    run = RunFactory()
    assert authed_client.get(f"{RUNS_URL}{run.id}/phases/nope/").status_code == 404


# --- Ledger ingestion -------------------------------------------------------------


def metrics_url(run_id):
    return f"{RUNS_URL}{run_id}/metrics/"


def test_ingestion_refused_when_phase6_is_off(authed_client):
    phase = PhaseFactory(phase_id="p0")
    response = authed_client.post(metrics_url(phase.run_id), [ledger_row()], format="json")
    assert response.status_code == 503
    assert "AUTOPACK_ENABLE_PHASE6_METRICS=1" in response.json()["detail"]
    assert not PhaseMetrics.objects.exists()


def test_ingestion_creates_then_is_idempotent(authed_client, phase6_on):
    phase = PhaseFactory(phase_id="p0")
    url = metrics_url(phase.run_id)
    rows = [ledger_row(attempt=1), ledger_row(attempt=2, base_tokens=99)]
    first = authed_client.post(url, rows, format="json")
    assert first.status_code == 201
    assert first.json() == {"created": 2, "updated": 0, "unchanged": 0}
    again = authed_client.post(url, rows, format="json")
    assert again.json() == {"created": 0, "updated": 0, "unchanged": 2}
    rows[1]["base_tokens"] = 100
    changed = authed_client.post(url, rows, format="json")
    assert changed.json() == {"created": 0, "updated": 1, "unchanged": 1}
    assert PhaseMetrics.objects.count() == 2
    assert PhaseMetrics.objects.get(attempt=2).base_tokens == 100


def test_ingestion_holds_each_run_under_its_token_cap(authed_client, phase6_on):
    """A run may hold MAX_RUN_TOKENS of a category, raw and rolled up together; a
    batch that would take it past is refused whole, and so is a resend that
    raises a row past it (every per-run total then fits a BIGINT)."""
    phase = PhaseFactory(phase_id="p0")
    url = metrics_url(phase.run_id)
    DailyTokenSummary.objects.create(
        run=phase.run, date=timezone.now().date() - timedelta(days=40), base_tokens=10**14
    )
    at_the_cap = [
        ledger_row(attempt=n, base_tokens=10**14, retrieval_tokens=0) for n in range(1, 10)
    ]
    assert authed_client.post(url, at_the_cap, format="json").status_code == 201

    # The request is within bounds; the run's state refuses it: a conflict.
    past_it = authed_client.post(url, [ledger_row(attempt=10, base_tokens=1)], format="json")
    assert past_it.status_code == 409
    assert "at most 1000000000000000" in past_it.json()["fields"]["base_tokens"][0]
    raised = [*at_the_cap[:-1], {**at_the_cap[-1], "base_tokens": 10**14 + 1}]
    assert authed_client.post(url, raised, format="json").status_code == 409
    assert sorted(PhaseMetrics.objects.values_list("attempt", "base_tokens")) == [
        (n, 10**14) for n in range(1, 10)
    ]
    # Other categories and a lowered row are still welcome.
    lowered = [{**at_the_cap[0], "base_tokens": 0, "retrieval_tokens": 10**15 - 1}]
    assert authed_client.post(url, lowered, format="json").status_code == 200


def test_executor_tokens_used_is_held_under_the_run_cap(authed_client):
    phase = PhaseFactory(builder_attempts=1)
    route = f"/runs/{phase.run_id}/phases/{phase.phase_id}/update_status"
    PhaseMetricsFactory(phase=phase, attempt=2, base_tokens=10**15, retrieval_tokens=0)
    body = {"state": "EXECUTING", "tokens_used": 1}
    response = authed_client.post(route, body, format="json")
    assert response.status_code == 409
    assert "base_tokens" in response.json()["fields"]["tokens_used"][0]
    assert not PhaseMetrics.objects.filter(attempt=1).exists()
    phase.refresh_from_db()
    assert phase.state == Phase.State.QUEUED  # the whole update was refused


def test_ingestion_unknown_phase_rejects_whole_batch(authed_client, phase6_on):
    phase = PhaseFactory(phase_id="p0")
    response = authed_client.post(
        metrics_url(phase.run_id), [ledger_row("p0"), ledger_row("ghost")], format="json"
    )
    # A phase the body names that the run does not have: not found, naming the row.
    message = f"Row 1: run '{phase.run_id}' has no phase 'ghost'."
    assert response.status_code == 404
    assert response.json() == {
        "detail": message,
        "code": "not_found",
        "fields": {"phase_id": [message]},
    }
    assert not PhaseMetrics.objects.exists()


@pytest.mark.parametrize(
    "change",
    [
        {"base_tokens": -1},
        {"attempt": 0},
        {"retrieval_tokens": "many"},
        {"duration_seconds": -3},
    ],
)
def test_ingestion_bad_row_is_400_with_field_errors(authed_client, phase6_on, change):
    phase = PhaseFactory(phase_id="p0")
    row = {**ledger_row(), **change}
    response = authed_client.post(
        metrics_url(phase.run_id), [ledger_row(attempt=5), row], format="json"
    )
    assert response.status_code == 400
    errors = response.json()
    # Errors are keyed by the row's position, so the client knows which row to fix.
    assert set(errors) == {"1"} and set(errors["1"]) == set(change)
    assert not PhaseMetrics.objects.exists()


def test_ingestion_missing_category_is_400(authed_client, phase6_on):
    phase = PhaseFactory(phase_id="p0")
    row = ledger_row()
    del row["evidence_request_tokens"]
    response = authed_client.post(metrics_url(phase.run_id), [row], format="json")
    assert response.status_code == 400
    assert response.json() == {"0": {"evidence_request_tokens": ["This field is required."]}}


@pytest.mark.parametrize("body", [[], {"phase_id": "p0"}, "text"])
def test_ingestion_body_must_be_a_non_empty_list(authed_client, phase6_on, body):
    phase = PhaseFactory(phase_id="p0")
    response = authed_client.post(metrics_url(phase.run_id), body, format="json")
    assert response.status_code == 400


def test_ingestion_unknown_run_is_404(authed_client, phase6_on):
    response = authed_client.post(metrics_url("ghost-run"), [ledger_row()], format="json")
    assert response.status_code == 404


def test_ledger_list_is_newest_first_with_totals(authed_client):
    now = timezone.now()
    older = PhaseMetricsFactory(attempt=1, created_at=now - timedelta(hours=1))
    newer = PhaseMetricsFactory(phase=older.phase, attempt=2, created_at=now)
    body = authed_client.get(metrics_url(older.run_id)).json()
    assert [r["attempt"] for r in body["results"]] == [newer.attempt, older.attempt]
    assert body["results"][0]["total_tokens"] == 100 + 20 + 3 + 1000


# --- Events -----------------------------------------------------------------------


def events_url(run_id):
    return f"{RUNS_URL}{run_id}/events/"


def test_events_batch_and_list(authed_client):
    phase = PhaseFactory(phase_id="p0")
    response = authed_client.post(
        events_url(phase.run_id),
        [
            {"event_type": "PATCH_FAILED", "phase_id": "p0", "message": "Hunk #2 FAILED at 88"},
            {"event_type": "RUN_FAILED", "message": "giving up", "payload": {"attempts": 3}},
        ],
        format="json",
    )
    assert response.status_code == 201
    assert [e["phase_id"] for e in response.json()] == ["p0", None]
    listed = authed_client.get(events_url(phase.run_id), {"event_type": "PATCH_FAILED"}).json()
    assert [e["message"] for e in listed["results"]] == ["Hunk #2 FAILED at 88"]


def test_a_replay_of_a_run_that_does_not_exist_is_404(authed_client):
    response = authed_client.post(RUNS_URL, {"id": "clone-1", "replay_of": "ghost"}, format="json")
    assert response.status_code == 404
    assert response.json()["fields"] == {"replay_of": ["Run 'ghost' not found."]}
    assert not Run.objects.filter(pk="clone-1").exists()
    original = RunFactory(id="original-1")
    created = authed_client.post(RUNS_URL, {"id": "clone-2", "replay_of": original.id})
    assert created.status_code == 201 and created.json()["replay_of"] == original.id


def test_events_unknown_phase_rejects_batch(authed_client):
    run = RunFactory()
    response = authed_client.post(
        events_url(run.id),
        [{"event_type": "CI_FAILED"}, {"event_type": "CI_FAILED", "phase_id": "ghost"}],
        format="json",
    )
    assert response.status_code == 404
    assert "Item 1" in response.json()["fields"]["phase_id"][0]
    assert not DashboardEvent.objects.exists()


@pytest.mark.parametrize(
    "event, field",
    [
        ({"event_type": "NOPE"}, "event_type"),
        ({"event_type": "CI_FAILED", "payload": [1]}, "payload"),
        ({"event_type": "CI_FAILED", "payload": {"k": "nul\u0000"}}, "payload"),
        ({"event_type": "CI_FAILED", "message": "nul\u0000"}, "message"),
    ],
)
def test_events_bad_fields_are_400(authed_client, event, field):
    run = RunFactory()
    response = authed_client.post(events_url(run.id), [event], format="json")
    assert response.status_code == 400
    assert field in response.json()["0"]


def test_events_list_bad_filter_is_400(authed_client):
    event = DashboardEventFactory()
    response = authed_client.get(events_url(event.run_id), {"event_type": "BOGUS"})
    assert response.status_code == 400


def test_serializer_text_limits_are_the_models():
    from metrics.api import executor_serializers as es
    from metrics.api import serializers as s
    from metrics.models import Phase

    mirrors = [
        (s.RunInputSerializer, Run),
        (es.ExecutorRunCreateSerializer, Run),
        (s.TierInputSerializer, Tier),
        (es.ExecutorTierCreateSerializer, Tier),
        (s.PhaseFieldsSerializer, Phase),
        (s.PhaseUpdateSerializer, Phase),
        (es.ExecutorPhaseCreateSerializer, Phase),
        (s.LedgerRowInputSerializer, PhaseMetrics),
    ]
    compared = 0
    for serializer, model in mirrors:
        limits = {f.name: f.max_length for f in model._meta.fields if f.max_length}
        for name, field in serializer().fields.items():
            if getattr(field, "max_length", None) and name in limits:
                assert field.max_length == limits[name], (serializer.__name__, name)
                compared += 1
    assert compared >= 20


def test_an_executor_reports_what_it_really_runs_with_until_the_run_ends(authed_client):
    run = RunFactory(state=Run.State.PHASE_EXECUTION)
    url = f"{RUNS_URL}{run.pk}/"
    response = authed_client.patch(
        url, {"git_commit_sha": "b" * 40, "model_mapping_hash": None}, format="json"
    )
    assert response.status_code == 200 and response.json()["git_commit_sha"] == "b" * 40
    run.refresh_from_db()
    assert (run.git_commit_sha, run.model_mapping_hash, run.git_branch) == ("b" * 40, None, "main")
    too_long = authed_client.patch(url, {"git_commit_sha": "c" * 65}, format="json")
    assert too_long.status_code == 400 and "git_commit_sha" in too_long.json()
    Run.objects.filter(pk=run.pk).update(state=Run.State.DONE_SUCCESS)
    closed = authed_client.patch(url, {"git_commit_sha": "d" * 40}, format="json")
    assert closed.status_code == 409 and closed.json()["code"] == "conflict"
    run.refresh_from_db()
    assert run.git_commit_sha == "b" * 40
    assert authed_client.patch(f"{RUNS_URL}missing/", {}, format="json").status_code == 404
