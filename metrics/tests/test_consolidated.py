"""Consolidated token metrics and the daily view, over HTTP on the real database."""

import json
from datetime import UTC, date, datetime, timedelta, timezone

import msgspec
import pytest
from django.db.models import F
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from metrics.models import TOKEN_CATEGORIES, DailyTokenSummary, Phase, PhaseMetrics, Run
from metrics.tests.factories import PhaseFactory, PhaseMetricsFactory, RunFactory

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def consolidated_on(monkeypatch):
    monkeypatch.setenv("AUTOPACK_ENABLE_CONSOLIDATED_METRICS", "1")


def url(run_id, **params):
    query = "&".join(f"{key}={value}" for key, value in params.items())
    return f"/api/v1/runs/{run_id}/consolidated-metrics/" + (f"?{query}" if query else "")


@pytest.fixture
def ledger_run():
    """A run with 3 phases (complete, failed, queued) and 5 ledger rows on two of them."""
    run = RunFactory(id="telemetry-collection-v7")
    complete = PhaseFactory(
        run=run, tier__run=run, phase_id="p-complete", state=Phase.State.COMPLETE
    )
    failed = PhaseFactory(
        run=run, tier=complete.tier, phase_id="p-failed", state=Phase.State.FAILED
    )
    PhaseFactory(run=run, tier=complete.tier, phase_id="p-queued")
    for attempt in (1, 2, 3):
        PhaseMetricsFactory(
            phase=complete,
            attempt=attempt,
            created_at=T0 + timedelta(hours=attempt),
            retrieval_tokens=10,
            second_opinion_tokens=20,
            evidence_request_tokens=30,
            base_tokens=40,
        )
    for attempt in (1, 2):
        PhaseMetricsFactory(
            phase=failed,
            attempt=attempt,
            created_at=T0 + timedelta(hours=attempt),
            retrieval_tokens=1,
            second_opinion_tokens=2,
            evidence_request_tokens=3,
            base_tokens=4,
        )
    return run


def test_switch_off_is_503_before_parameter_validation(authed_client):
    response = authed_client.get(url("no-such-run", limit="abc"))
    assert response.status_code == 503
    assert "AUTOPACK_ENABLE_CONSOLIDATED_METRICS=1" in response.json()["detail"]


@pytest.mark.parametrize(
    "params, field, message",
    [
        ({"limit": 0}, "limit", "between 1 and 10000"),
        ({"limit": 10001}, "limit", "between 1 and 10000"),
        ({"limit": "x"}, "limit", "between 1 and 10000"),
        ({"offset": -1}, "offset", "greater than or equal to 0"),
        ({"offset": "1.5"}, "offset", "greater than or equal to 0"),
    ],
)
def test_bad_paging_is_400_naming_the_bound(authed_client, consolidated_on, params, field, message):
    # Validation comes before the run lookup: an unknown run still gets the 400.
    response = authed_client.get(url("no-such-run", **params))
    assert response.status_code == 400
    assert message in response.json()[field][0]


@pytest.mark.parametrize(
    "switch, params, status",
    [("1", {"limit": 0}, 400), ("1", {}, 404), ("0", {}, 503)],
)
def test_a_refusal_outside_the_request_transaction_marks_no_other(
    authed_client, monkeypatch, switch, params, status
):
    """The view runs without a request transaction (one statement, one snapshot):
    its refusals must not mark an enclosing one (here the test's) for rollback,
    as DRF's handler would, or the next query fails."""
    monkeypatch.setenv("AUTOPACK_ENABLE_CONSOLIDATED_METRICS", switch)
    run = RunFactory()
    target = run.id if status != 404 else "no-such-run"
    assert authed_client.get(url(target, **params)).status_code == status
    assert Run.objects.filter(pk=run.id).exists()


def test_unknown_run_is_404(authed_client, consolidated_on):
    assert authed_client.get(url("no-such-run")).status_code == 404


def test_totals_cover_the_whole_run_and_the_page_is_newest_first(
    authed_client, consolidated_on, ledger_run
):
    body = authed_client.get(url(ledger_run.id, limit=2)).json()
    assert body["run_id"] == ledger_run.id
    assert body["totals"] == {
        "retrieval_tokens": 32,
        "second_opinion_tokens": 64,
        "evidence_request_tokens": 96,
        "base_tokens": 128,
        "total_tokens": 320,
    }
    assert (body["total_phases"], body["completed_phases"], body["failed_phases"]) == (3, 1, 1)
    assert (body["phases_with_metrics"], body["rolled_up_rows"]) == (2, 0)
    assert (body["count"], body["limit"], body["offset"]) == (5, 2, 0)
    assert body["previous"] is None and "offset=2" in body["next"]
    # Newest first; equal timestamps are ordered by id (newest id first).
    assert [(r["phase_id"], r["attempt"]) for r in body["results"]] == [
        ("p-complete", 3),
        ("p-failed", 2),
    ]
    assert body["results"][0]["total_tokens"] == 100
    assert set(body["results"][0]) == {
        "phase_id",
        "attempt",
        "retrieval_tokens",
        "second_opinion_tokens",
        "evidence_request_tokens",
        "base_tokens",
        "total_tokens",
        "model",
        "created_at",
    }


def test_every_negotiated_rendering_answers_the_same_document(
    authed_client, consolidated_on, ledger_run
):
    """JSON is rendered by the view itself, the browsable API through DRF's
    Response: both, and an indented JSON, carry the same document and headers."""
    plain = authed_client.get(url(ledger_run.id), HTTP_ACCEPT="application/json")
    indented = authed_client.get(url(ledger_run.id), HTTP_ACCEPT="application/json; indent=2")
    html = authed_client.get(url(ledger_run.id), HTTP_ACCEPT="text/html")
    assert plain["Content-Type"] == indented["Content-Type"] == "application/json"
    assert b"\n  " in indented.content and b"\n" not in plain.content
    assert json.loads(indented.content) == json.loads(plain.content)
    assert html.status_code == 200 and html["Content-Type"].startswith("text/html")
    assert "p-complete" in html.content.decode()
    assert plain["Vary"] == "Accept" and "Accept" in html["Vary"]
    assert plain["Allow"] == html["Allow"] == "GET, HEAD, OPTIONS"


def test_pages_never_overlap_and_cover_every_row(authed_client, consolidated_on, ledger_run):
    seen = []
    for offset in range(0, 6, 2):
        body = authed_client.get(url(ledger_run.id, limit=2, offset=offset)).json()
        seen += [(r["phase_id"], r["attempt"]) for r in body["results"]]
        assert body["totals"]["total_tokens"] == 320  # never just the page
    assert len(seen) == len(set(seen)) == 5


@pytest.mark.parametrize("offset", [5, 50, 2**63, 10**30])
def test_offset_past_the_end_is_an_empty_page(authed_client, consolidated_on, ledger_run, offset):
    body = authed_client.get(url(ledger_run.id, offset=offset)).json()
    assert body["results"] == [] and body["count"] == 5 and body["next"] is None
    assert body["offset"] == offset


def test_dashboard_path_serves_the_same_view(authed_client, consolidated_on, ledger_run):
    api = authed_client.get(url(ledger_run.id)).json()
    dashboard = authed_client.get(f"/dashboard/runs/{ledger_run.id}/consolidated-metrics").json()
    assert dashboard["totals"] == api["totals"] and dashboard["count"] == api["count"]


def test_run_without_metrics_has_zero_totals(authed_client, consolidated_on):
    run = RunFactory()
    body = authed_client.get(url(run.id)).json()
    assert body["totals"]["total_tokens"] == 0 and body["results"] == [] and body["count"] == 0


def test_rolled_up_days_count_in_totals_not_in_rows(authed_client, consolidated_on, ledger_run):
    DailyTokenSummary.objects.create(
        run=ledger_run,
        date=date(2026, 9, 1),
        retrieval_tokens=1000,
        second_opinion_tokens=0,
        evidence_request_tokens=0,
        base_tokens=5,
        row_count=7,
    )
    body = authed_client.get(url(ledger_run.id)).json()
    assert body["totals"]["retrieval_tokens"] == 1032
    assert body["totals"]["total_tokens"] == 320 + 1005
    assert (body["count"], body["rolled_up_rows"]) == (5, 7)


@pytest.mark.parametrize("rows", [3, 40])
def test_query_count_is_constant_whatever_the_run_size(
    authed_client, consolidated_on, django_assert_num_queries, rows
):
    phase = PhaseFactory()
    for attempt in range(1, rows + 1):
        PhaseMetricsFactory(phase=phase, attempt=attempt)
    # The API key, then the whole document (the run's roll-up beside its ledger
    # aggregate and the page), outside a request transaction (on PostgreSQL each
    # an EXECUTE of a prepared statement)
    with django_assert_num_queries(2):
        response = authed_client.get(url(phase.run_id, limit=10))
    assert response.json()["count"] == rows


# --- Daily view ---------------------------------------------------------------------


def test_daily_groups_raw_and_rolled_up_rows_oldest_first(authed_client, ledger_run):
    other = PhaseMetricsFactory(
        created_at=T0 + timedelta(days=1),
        base_tokens=1000,
        retrieval_tokens=0,
        second_opinion_tokens=0,
        evidence_request_tokens=0,
    )
    DailyTokenSummary.objects.create(
        run=ledger_run, date=date(2026, 11, 1), base_tokens=60, row_count=4
    )
    body = authed_client.get("/api/v1/metrics/daily/").json()
    assert body["results"] == [
        {
            "date": "2026-11-01",
            "retrieval_tokens": 32,
            "second_opinion_tokens": 64,
            "evidence_request_tokens": 96,
            "base_tokens": 188,
            "total_tokens": 380,
            "rows": 9,
        },
        {
            "date": "2026-11-02",
            "retrieval_tokens": 0,
            "second_opinion_tokens": 0,
            "evidence_request_tokens": 0,
            "base_tokens": 1000,
            "total_tokens": 1000,
            "rows": 1,
        },
    ]
    only_run = authed_client.get("/api/v1/metrics/daily/", {"run_id": other.run_id}).json()
    assert [d["date"] for d in only_run["results"]] == ["2026-11-02"]
    window = authed_client.get("/api/v1/metrics/daily/", {"from": "2026-11-02", "to": "2026-11-02"})
    assert [d["date"] for d in window.json()["results"]] == ["2026-11-02"]
    backwards = authed_client.get(
        "/api/v1/metrics/daily/", {"from": "2026-11-02", "to": "2026-11-01"}
    )
    assert backwards.status_code == 200 and backwards.json()["results"] == []  # an empty window
    widest = authed_client.get("/api/v1/metrics/daily/", {"from": "0001-01-01", "to": "9999-12-31"})
    assert widest.status_code == 200 and widest.json() == body


@pytest.mark.parametrize(
    "params, field",
    [
        ({"from": "yesterday"}, "from"),
        ({"to": "2026-13-01"}, "to"),
    ],
)
def test_daily_bad_dates_are_400(authed_client, params, field):
    response = authed_client.get("/api/v1/metrics/daily/", params)
    assert response.status_code == 400 and field in response.json()


def _serializer_page(run_id: str) -> list[dict]:
    """The page as the published serializer renders the ORM's rows."""
    from metrics.api.consolidated_views import ConsolidatedRowSerializer
    from metrics.models import total_tokens_expression

    rows = (
        PhaseMetrics.objects.filter(run_id=run_id)
        .order_by("-created_at", "-id")
        .annotate(phase_key=F("phase__phase_id"), total_tokens=total_tokens_expression())
    )
    return [dict(row) for row in ConsolidatedRowSerializer(rows, many=True).data]


def _fast_page(run_id: str, limit: int = 1000, offset: int = 0) -> list[dict]:
    """The page as the endpoint sends it: JSON text built by the database."""
    from metrics import selectors

    document = selectors.consolidated_metrics(run_id, limit=limit, offset=offset)
    return msgspec.json.decode(document["results"])


def test_page_rows_are_shaped_exactly_as_the_serializer_documents(ledger_run):
    assert _fast_page(ledger_run.id) == _serializer_page(ledger_run.id)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    stamps=st.lists(
        st.datetimes(
            min_value=datetime(1000, 1, 1),
            max_value=datetime(9999, 12, 31),
            timezones=st.sampled_from([UTC, timezone(timedelta(hours=5, minutes=30))]),
        ).map(lambda stamp: stamp.replace(microsecond=0) if stamp.second % 3 == 0 else stamp),
        min_size=1,
        max_size=8,
    )
)
def test_the_database_formats_timestamps_as_the_serializer_does(stamps):
    """Timestamps are formatted by SQL (UTCTimestampText): with and without
    microseconds, from any zone, any four-digit year, on both databases."""
    phase = PhaseFactory()
    PhaseMetrics.objects.bulk_create(
        PhaseMetrics(run_id=phase.run_id, phase=phase, attempt=n + 1, created_at=stamp)
        for n, stamp in enumerate(stamps)
    )
    assert _fast_page(phase.run_id) == _serializer_page(phase.run_id)


# Text a client may store (no NUL: no supported database holds it; no lone
# surrogates: not UTF-8), quotes, backslashes, controls and line separators included.
_stored_text = st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=12
)
_tokens = st.integers(min_value=0, max_value=2**60)  # a row's four sum below 2**63


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    rows=st.lists(
        st.tuples(_stored_text, st.integers(0, 3), st.tuples(*[_tokens] * 4)),
        min_size=0,
        max_size=12,
    ),
    phase_names=st.lists(_stored_text, min_size=1, max_size=3),
    limit=st.integers(1, 15),
    offset=st.integers(0, 14),
)
def test_the_database_renders_any_page_as_the_serializer_does(rows, phase_names, limit, offset):
    """The page's JSON, built by the database, against the published serializer:
    any stored text, integers up to 2**62, equal timestamps (ties by id), any page
    of the run, keys in the documented order."""
    run = RunFactory()
    phases = [
        PhaseFactory(run=run, tier__run=run, phase_id=f"{number}{name}")
        for number, name in enumerate(phase_names)
    ]
    PhaseMetrics.objects.bulk_create(
        PhaseMetrics(
            run=run,
            phase=phases[number % len(phases)],
            attempt=number + 1,
            model=model,
            created_at=T0 + timedelta(seconds=tie),
            **dict(zip(TOKEN_CATEGORIES, tokens, strict=True)),
        )
        for number, (model, tie, tokens) in enumerate(rows)
    )
    expected = _serializer_page(run.id)[offset : offset + limit]
    page = _fast_page(run.id, limit=limit, offset=offset)
    assert page == expected
    assert [list(row) for row in page] == [list(row) for row in expected]


def test_the_page_of_json_text_is_sent_as_valid_json(authed_client, consolidated_on):
    """Quotes, backslashes, controls and U+2028 in stored text arrive intact; the
    line separators escaped, as the renderer escapes them everywhere."""
    model = 'q"b\\s\n\t\x01\u2028\u2029é'
    metrics = PhaseMetricsFactory(model=model)
    response = authed_client.get(url(metrics.run_id))
    assert response.status_code == 200
    assert b"\xe2\x80\xa8" not in response.content and b"\\u2028" in response.content
    assert json.loads(response.content)["results"][0]["model"] == model


def test_prepared_totals_answer_for_each_run_after_compiling_once(ledger_run):
    from metrics import selectors

    other = PhaseMetricsFactory(
        base_tokens=7, retrieval_tokens=0, second_opinion_tokens=0, evidence_request_tokens=0
    )
    assert selectors.consolidated_totals(ledger_run.id)["total_tokens"] == 320
    assert selectors.consolidated_totals(other.run_id)["total_tokens"] == 7
    assert selectors.consolidated_totals("no-such-run") is None
    assert selectors.consolidated_totals(ledger_run.id)["phases_with_metrics"] == 2


# --- Totals no legal input can overflow ---------------------------------------------


def test_reads_stay_exact_past_64_bits(authed_client, consolidated_on):
    """Sums past 2**63 (where SQLite's SUM() raises "integer overflow") are exact:
    each run is capped at ingestion, but a day's total across runs is not, and
    a run's ledger may predate the cap."""
    run = RunFactory(id="huge-run")
    phases = [PhaseFactory(run=run, tier__run=run, phase_id=f"p{n}") for n in range(100)]
    PhaseMetrics.objects.bulk_create(
        PhaseMetrics(run=run, phase=phase, attempt=attempt, base_tokens=10**15, created_at=T0)
        for phase in phases
        for attempt in range(1, 101)
    )
    # Rolled-up days each near the BIGINT limit, whose sum is past it too.
    for day in (1, 2, 3):
        DailyTokenSummary.objects.create(
            run=run, date=date(2026, 10, day), base_tokens=4 * 10**18, row_count=1
        )
    expected = 10**19 + 12 * 10**18

    consolidated = authed_client.get(url(run.id, limit=1))
    assert consolidated.status_code == 200, consolidated.content
    assert consolidated.json()["totals"]["base_tokens"] == expected
    assert consolidated.json()["totals"]["total_tokens"] == expected

    daily = authed_client.get("/api/v1/metrics/daily/", {"run_id": run.id})
    assert daily.status_code == 200, daily.content
    days = daily.json()["results"]
    assert [d["base_tokens"] for d in days] == [4 * 10**18] * 3 + [10**19]
    assert sum(d["total_tokens"] for d in days) == expected


# --- Daily totals: per-day sums by the database equal the definition ---------------

_MIDNIGHT = datetime(2026, 11, 10, tzinfo=UTC)
_moments = st.integers(min_value=-3, max_value=3).flatmap(
    lambda day: st.sampled_from(
        [
            _MIDNIGHT + timedelta(days=day),  # exactly midnight: that day
            _MIDNIGHT + timedelta(days=day, microseconds=-1),  # the day before
            _MIDNIGHT + timedelta(days=day, hours=12, microseconds=250_000),
        ]
    )
)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    rows=st.lists(st.tuples(_moments, st.integers(0, 10**15), st.booleans()), max_size=12),
    window=st.tuples(*[st.one_of(st.none(), st.integers(-4, 4))] * 2),  # None: no bound
    by_run=st.booleans(),
)
def test_daily_totals_equal_the_definition(db, rows, window, by_run):
    from metrics import selectors

    PhaseMetrics.objects.all().delete()
    runs = [RunFactory(), RunFactory()]
    phases = [PhaseFactory(run=run, tier__run=run) for run in runs]
    PhaseMetrics.objects.bulk_create(
        PhaseMetrics(
            run=runs[second], phase=phases[second], attempt=n + 1, base_tokens=tokens, created_at=at
        )
        for n, (at, tokens, second) in enumerate(rows)
    )
    first, last = (
        None if offset is None else _MIDNIGHT.date() + timedelta(days=offset) for offset in window
    )
    run_id = runs[0].id if by_run else None
    expected: dict[date, list[int]] = {}
    for at, tokens, second in rows:
        day = at.astimezone(UTC).date()
        inside = (first is None or first <= day) and (last is None or day <= last)
        if inside and (run_id is None or not second):
            totals = expected.setdefault(day, [0, 0])
            totals[0] += tokens
            totals[1] += 1
    found = selectors.daily_totals(date_from=first, date_to=last, run_id=run_id)
    assert {d["date"]: [d["base_tokens"], d["rows"]] for d in found} == expected
    assert [d["date"] for d in found] == sorted(expected)


def test_a_wide_daily_window_sums_only_the_days_the_ledger_spans(db):
    """`from=0001-01-01&to=9999-12-31` must not generate 3.6 million days."""
    from django.db import connection

    from metrics import selectors

    run = RunFactory()
    PhaseMetricsFactory(phase__run=run, phase__tier__run=run, created_at=T0)
    PhaseMetricsFactory(created_at=T0 + timedelta(days=2))

    def generated(first, last, run_id=None) -> list:
        sql = selectors._ledger_window_sql(with_run=bool(run_id)) + "SELECT d FROM days"
        with connection.cursor() as cursor:
            cursor.execute(sql, selectors._ledger_window_params(first, last, run_id))
            return [str(day) for (day,) in cursor.fetchall()]

    spanned = ["2026-11-01", "2026-11-02", "2026-11-03"]
    assert generated(date.min, date.max) == spanned
    assert generated(date(2026, 11, 2), date.max) == spanned[1:]
    assert generated(date.min, date.max, run.id) == ["2026-11-01"]
    assert generated(date.min, date.max, "no-such-run") == []
    days = selectors.daily_totals(date_from=date(1, 1, 1), date_to=date(9999, 12, 31))
    assert [day["date"] for day in days] == [T0.date(), T0.date() + timedelta(days=2)]
