"""Prepared statements side by side and JSON text built by the database, on the
real database."""

import pytest
from django.db import connection
from django.db.models import F, Value

from autopack_site.db.json_text import JSONObjectText
from autopack_site.db.prepared import JSONArrayPage, PreparedSideBySide
from metrics.models import Run
from metrics.tests.factories import RunFactory

pytestmark = pytest.mark.django_db


def _runs_named(run_id: str):
    return Run.objects.filter(pk=run_id).order_by().values(name=F("id"))


def _states_of(run_id: str):
    return Run.objects.filter(pk=run_id).order_by().values(run_state=F("state"))


def _json_rows(run_id: str):
    body = JSONObjectText(id="id", state="state", answer=Value(42))
    return Run.objects.filter(pk__gte=run_id).order_by("id").annotate(body=body).values("body")


def test_a_parameter_a_lookup_changed_is_refused_not_left_unreplaced():
    def starting_with(run_id: str):
        return Run.objects.filter(pk__startswith=run_id).values("id")

    with pytest.raises(ValueError, match="a lookup changed"):
        PreparedSideBySide([_runs_named, starting_with], "run_id").first_row(run_id="x")


def test_a_json_page_comes_beside_the_other_parts_in_one_row():
    for number in range(3):
        RunFactory(id=f"side-{number}")
    statement = PreparedSideBySide(
        [_runs_named, _states_of, JSONArrayPage(_json_rows, "page_json")], "run_id"
    )
    row = statement.first_row(run_id="side-1", limit=1, offset=0)
    assert (row["name"], row["run_state"]) == ("side-1", "RUN_CREATED")
    assert row["page_json"] == '[{"id":"side-1","state":"RUN_CREATED","answer":42}]'
    # No row of the first part: no row at all.
    assert statement.first_row(run_id="none", limit=5, offset=0) is None


def test_a_json_page_keeps_the_querysets_order_and_may_be_empty():
    for number in (2, 0, 1):
        RunFactory(id=f"order-{number}")
    statement = PreparedSideBySide([_runs_named, JSONArrayPage(_json_rows, "page_json")], "run_id")
    row = statement.first_row(run_id="order-0", limit=2, offset=1)
    assert row["page_json"] == (
        '[{"id":"order-1","state":"RUN_CREATED","answer":42},'
        '{"id":"order-2","state":"RUN_CREATED","answer":42}]'
    )
    assert statement.first_row(run_id="order-0", limit=2, offset=3)["page_json"] == "[]"


def test_a_paged_statement_needs_its_page_and_only_it():
    statement = PreparedSideBySide([_runs_named, JSONArrayPage(_json_rows, "p")], "run_id")
    with pytest.raises(ValueError, match="limit goes with a paged query"):
        statement.first_row(run_id="x")
    unpaged = PreparedSideBySide([_runs_named, _states_of], "run_id")
    with pytest.raises(ValueError, match="limit goes with a paged query"):
        unpaged.first_row(run_id="x", limit=1)


@pytest.mark.parametrize(
    "parts",
    [[_runs_named], [JSONArrayPage(_json_rows, "p"), _runs_named]],
    ids=["one part", "page not last"],
)
def test_side_by_side_refuses_a_shape_it_cannot_join(parts):
    with pytest.raises(ValueError, match="two parts or more"):
        PreparedSideBySide(parts, "run_id")


def test_json_text_takes_text_and_integers_only():
    query = Run.objects.annotate(body=JSONObjectText(created="created_at")).values("body")
    with pytest.raises(TypeError, match="cannot render a DateTimeField"):
        list(query)
    with pytest.raises(ValueError, match="at least one field"):
        JSONObjectText()


def test_json_text_writes_null_for_null():
    RunFactory(id="nullable", failure_reason="")
    query = Run.objects.filter(pk="nullable").annotate(
        body=JSONObjectText(id="id", missing=Value(None, output_field=Run._meta.pk))
    )
    assert query.values_list("body", flat=True).get() == '{"id":"nullable","missing":null}'


def _wide(run_id: str):
    """A statement past the length SQLite's cursor caches by itself, with a `%`."""
    columns = {f"column_{number}": Value(number) for number in range(300)}
    body = JSONObjectText(**{"100%": "id"})
    return Run.objects.filter(pk=run_id).order_by().values(**columns, body=body)


def test_a_long_prepared_statement_runs_with_its_placeholders_and_percent_signs():
    RunFactory(id="long")
    statement = PreparedSideBySide([_wide, _states_of], "run_id")
    row = statement.first_row(run_id="long")
    assert (int(row["column_299"]), row["body"], row["run_state"]) == (
        299,
        '{"100%":"long"}',
        "RUN_CREATED",
    )
    if connection.vendor == "sqlite":  # converted to `?` once, kept for the next run
        from autopack_site.db.sqlite3 import base

        sql = statement.sql()[0]
        assert len(sql) > base._CACHED_QUERY_MAX_LENGTH
        assert base._prepared_statements[sql] == sql.replace("%s", "?").replace("%%", "%")
