"""bench_metrics runs end to end on a small ledger and leaves the database as it found it."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from metrics.benchmark import LEDGER_INDEXES
from metrics.models import PhaseMetrics, Run

# VACUUM cannot run inside the test's transaction on PostgreSQL.
pytestmark = pytest.mark.django_db(transaction=True)

FIGURES = [
    "database:",
    "machine:",
    "build seconds:",
    "ledger rows in table: 10,500",
    "consolidated p50 ms (10,000-row run):",
    "consolidated p95 ms (100-row run):",
    "consolidated floor p50 ms (10,000-row run, raw SQL):",
    "ingestion rows/s (API, 10,000-row batches):",
    "ingestion request body KiB (one batch):",
    "ingestion peak allocation KiB (tracemalloc):",
    "no ledger indexes: consolidated p50 ms (10,000-row run):",
    "retention rows rolled up:",
    "retention rows/s:",
]


RATIOS = [
    "consolidated p50 (10,000-row run)",
    "consolidated p50 (100-row run)",
    "ingestion rows/s",
    "ingestion memory (peak / body)",
]


def ledger_index_names() -> set[str]:
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, PhaseMetrics._meta.db_table)
    return {name for name in constraints if name in LEDGER_INDEXES}


def test_prints_every_figure_and_cleans_up():
    out, err = StringIO(), StringIO()
    call_command(
        "bench_metrics",
        "--rows",
        "10500",
        "--runs",
        "6",
        "--samples",
        "2",
        "--ingest-rows",
        "300",
        stdout=out,
        stderr=err,
    )
    for figure in FIGURES:
        assert figure in out.getvalue(), figure
    # Each ratio on a line of its own, as a positive number.
    ratios = {
        line.removeprefix("ratio ").rpartition(": ")[0]: float(line.rpartition(": ")[2])
        for line in out.getvalue().splitlines()
        if line.startswith("ratio ")
    }
    assert sorted(ratios) == sorted(RATIOS)
    assert all(value > 0 for value in ratios.values())
    floor = (
        "ingestion floor rows/s (COPY)"
        if connection.vendor == "postgresql"
        else ("ingestion floor rows/s (executemany)")
    )
    assert floor in out.getvalue()
    assert "measured retention" in err.getvalue()
    assert not Run.objects.filter(id__startswith="bench-").exists()
    assert not PhaseMetrics.objects.exists()
    assert ledger_index_names() == set(LEDGER_INDEXES)  # dropped for a figure, then restored


def test_too_small_a_ledger_is_refused():
    with pytest.raises(CommandError, match="need at least 3 runs and 10,100 rows"):
        call_command("bench_metrics", "--rows", "500", "--runs", "6", stdout=StringIO())
