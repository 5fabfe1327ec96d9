"""Which indexes the database's planner uses for the ledger's hot queries.

Used by `manage.py metrics_query_plans` (the rollout playbook's plan check) and
by the index tests, so both read plans the same way.
"""

import json

from django.db import connection, transaction
from django.db.models import QuerySet
from django.utils import timezone

from metrics import selectors
from metrics.models import PhaseMetrics

# query label → (queryset builder, index the plan must use)
HOT_QUERIES = {
    "consolidated page": (
        lambda run_id: selectors.consolidated_page_query(run_id)[:1000],
        "metrics_ledger_run_created",
    ),
    "consolidated ledger totals": (selectors.ledger_totals_query, "metrics_ledger_run_created"),
    "consolidated phase counts": (selectors.run_phase_counts_query, "metrics_phase_run_state"),
    "retention scan": (
        lambda run_id: (
            PhaseMetrics.objects.filter(created_at__lt=timezone.now()).order_by().values("pk")
        ),
        "metrics_ledger_created",
    ),
}


def plan_text(queryset: QuerySet, *, force_index: bool = False) -> str:
    """Return the database's plan for a queryset as text.

    With `force_index` on PostgreSQL, sequential scans are priced out for this
    transaction only, showing the plan the table will get once it is large.
    """
    sql, params = queryset.query.sql_with_params()
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            if force_index:
                cursor.execute("SET LOCAL enable_seqscan = off")
            cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
            plan = cursor.fetchone()[0]
            return json.dumps(json.loads(plan) if isinstance(plan, str) else plan, indent=1)
        cursor.execute(f"EXPLAIN QUERY PLAN {sql}", params)
        return "\n".join(str(row[-1]) for row in cursor.fetchall())


def plan_index_names(queryset: QuerySet, *, force_index: bool = False) -> set[str]:
    """Return the names of the indexes a queryset's plan uses."""
    text = plan_text(queryset, force_index=force_index)
    if connection.vendor == "postgresql":
        found: set[str] = set()

        def walk(node: dict) -> None:
            if "Index Name" in node:
                found.add(node["Index Name"])
            for child in node.get("Plans", []):
                walk(child)

        walk(json.loads(text)[0]["Plan"])
        return found
    return {word for word in text.replace("(", " ").split() if word.startswith("metrics_")}
