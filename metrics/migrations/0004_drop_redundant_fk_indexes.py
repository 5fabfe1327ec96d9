"""Drop single-column foreign-key indexes now covered by 0003's composite indexes.

Runs after 0003 so the queries always have an index. Only the index is dropped
(concurrently on PostgreSQL); the foreign keys themselves are left untouched,
which AlterField(db_index=False) would not do.
"""

import django.db.models.deletion
from django.db import migrations, models

from autopack_site.migration_ops import create_column_index, drop_column_index

REDUNDANT = [
    # (model, field, related_name, target, table, column)
    ("dashboardevent", "run", "events", "metrics.run", "metrics_dashboardevent", "run_id"),
    ("phasemetrics", "phase", "metrics", "metrics.phase", "metrics_phasemetrics", "phase_id"),
    ("phasemetrics", "run", "phase_metrics", "metrics.run", "metrics_phasemetrics", "run_id"),
]


class Migration(migrations.Migration):
    atomic = False  # DROP INDEX CONCURRENTLY cannot run inside a transaction.

    dependencies = [
        ("metrics", "0003_query_indexes"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name=model,
                    name=field,
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name=related_name,
                        to=target,
                    ),
                ),
            ],
            database_operations=[
                migrations.RunPython(
                    drop_column_index(table, column), create_column_index(table, column)
                ),
            ],
        )
        for model, field, related_name, target, table, column in REDUNDANT
    ]
