"""Indexes exist on both databases, the hot queries use them, migrations reverse."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection

from metrics import query_plans, selectors
from metrics.models import PhaseMetrics
from metrics.tests.factories import PhaseFactory, PhaseMetricsFactory

pytestmark = pytest.mark.django_db

EXPECTED_INDEXES = {
    # name: (table, leading columns)
    "metrics_ledger_run_created": (
        "metrics_phasemetrics",
        [
            "run_id",
            "created_at",
            "id",
            "retrieval_tokens",
            "second_opinion_tokens",
            "evidence_request_tokens",
            "base_tokens",
        ],
    ),
    "metrics_ledger_created": ("metrics_phasemetrics", ["created_at"]),
    "metrics_event_run_created": ("metrics_dashboardevent", ["run_id", "created_at"]),
    "metrics_event_type_created": ("metrics_dashboardevent", ["event_type", "created_at"]),
    "metrics_phase_run_state": ("metrics_phase", ["run_id", "state"]),
    "metrics_run_state_created": ("metrics_run", ["state", "created_at"]),
    "metrics_daily_date": ("metrics_dailytokensummary", ["date"]),
}


def table_constraints(table: str) -> dict:
    with connection.cursor() as cursor:
        return connection.introspection.get_constraints(cursor, table)


@pytest.mark.parametrize("name", sorted(EXPECTED_INDEXES))
def test_index_exists_with_its_columns(name):
    table, columns = EXPECTED_INDEXES[name]
    constraints = table_constraints(table)
    assert name in constraints, f"{name} missing on {table}"
    assert constraints[name]["index"] and constraints[name]["columns"] == columns


def test_descending_order_is_real_for_the_page_index():
    orders = table_constraints("metrics_phasemetrics")["metrics_ledger_run_created"]["orders"]
    assert orders[:3] == ["ASC", "DESC", "DESC"]


def test_redundant_foreign_key_indexes_are_gone_but_foreign_keys_stay():
    constraints = table_constraints("metrics_phasemetrics")
    single = [
        info["columns"]
        for info in constraints.values()
        if info["index"] and not info["unique"] and len(info["columns"]) == 1
    ]
    assert ["run_id"] not in single and ["phase_id"] not in single
    foreign_keys = {tuple(info["columns"]) for info in constraints.values() if info["foreign_key"]}
    assert {("run_id",), ("phase_id",)} <= foreign_keys


def plan_index_names(queryset) -> set[str]:
    # A tiny test table would be seq-scanned on PostgreSQL; ask for the plan a
    # table with millions of rows gets.
    return query_plans.plan_index_names(queryset, force_index=True)


@pytest.fixture
def ledger_rows():
    phase = PhaseFactory()
    for attempt in range(1, 30):
        PhaseMetricsFactory(phase=phase, attempt=attempt)
    return phase.run_id


def test_page_query_uses_the_run_created_index(ledger_rows):
    queryset = selectors.consolidated_page_query(ledger_rows)[0:100]
    assert "metrics_ledger_run_created" in plan_index_names(queryset)


def test_totals_queries_use_the_run_indexes(ledger_rows):
    assert "metrics_ledger_run_created" in plan_index_names(
        selectors.ledger_totals_query(ledger_rows)
    )
    assert "metrics_phase_run_state" in plan_index_names(
        selectors.run_phase_counts_query(ledger_rows)
    )


def test_retention_scan_uses_the_created_index(ledger_rows):
    from django.utils import timezone

    queryset = PhaseMetrics.objects.filter(created_at__lt=timezone.now()).order_by().values("pk")
    assert "metrics_ledger_created" in plan_index_names(queryset)


@pytest.mark.django_db(transaction=True)
def test_every_metrics_migration_reverses_cleanly():
    out = StringIO()
    try:
        call_command("migrate", "metrics", "zero", verbosity=0, stdout=out)
        assert "metrics_phasemetrics" not in connection.introspection.table_names()
    finally:
        call_command("migrate", verbosity=0, stdout=out)
    assert "metrics_ledger_run_created" in table_constraints("metrics_phasemetrics")
    assert "metrics_dailytokensummary" in connection.introspection.table_names()


def test_query_plan_command_passes_when_indexes_are_used(ledger_rows):
    out = StringIO()
    call_command("metrics_query_plans", "--run-id", ledger_rows, "--force-index", stdout=out)
    assert "All 4 hot queries use their indexes." in out.getvalue()


@pytest.mark.django_db(transaction=True)
def test_query_plan_command_fails_without_the_index(ledger_rows):
    from django.core.management import CommandError

    index = next(i for i in PhaseMetrics._meta.indexes if i.name == "metrics_ledger_created")
    with connection.schema_editor() as editor:
        editor.remove_index(PhaseMetrics, index)
    try:
        with pytest.raises(CommandError, match="retention scan"):
            call_command(
                "metrics_query_plans", "--run-id", ledger_rows, "--force-index", stdout=StringIO()
            )
    finally:
        with connection.schema_editor() as editor:
            editor.add_index(PhaseMetrics, index)
