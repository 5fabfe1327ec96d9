"""Indexes for the consolidated metrics, retention, run list and event queries.

The ledger and events are the big tables, so every index is built CONCURRENTLY on
PostgreSQL (writes keep flowing during the build); SQLite gets plain indexes.
"""

from django.db import migrations, models

from autopack_site.migration_ops import AddIndexConcurrentlyOnPostgres


class Migration(migrations.Migration):
    atomic = False  # CREATE INDEX CONCURRENTLY cannot run inside a transaction.

    dependencies = [
        ("metrics", "0002_daily_token_summary"),
    ]

    operations = [
        AddIndexConcurrentlyOnPostgres(
            model_name="phasemetrics",
            index=models.Index(
                fields=[
                    "run",
                    "-created_at",
                    "-id",
                    "retrieval_tokens",
                    "second_opinion_tokens",
                    "evidence_request_tokens",
                    "base_tokens",
                ],
                name="metrics_ledger_run_created",
            ),
        ),
        AddIndexConcurrentlyOnPostgres(
            model_name="phasemetrics",
            index=models.Index(fields=["created_at"], name="metrics_ledger_created"),
        ),
        AddIndexConcurrentlyOnPostgres(
            model_name="dashboardevent",
            index=models.Index(fields=["run", "-created_at"], name="metrics_event_run_created"),
        ),
        AddIndexConcurrentlyOnPostgres(
            model_name="dashboardevent",
            index=models.Index(
                fields=["event_type", "created_at"], name="metrics_event_type_created"
            ),
        ),
        AddIndexConcurrentlyOnPostgres(
            model_name="phase",
            index=models.Index(fields=["run", "state"], name="metrics_phase_run_state"),
        ),
        AddIndexConcurrentlyOnPostgres(
            model_name="run",
            index=models.Index(fields=["state", "-created_at"], name="metrics_run_state_created"),
        ),
    ]
