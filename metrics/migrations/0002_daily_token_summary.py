import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("metrics", "0001_initial"),
    ]

    operations = [
        migrations.CreateModel(
            name="DailyTokenSummary",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("date", models.DateField()),
                ("retrieval_tokens", models.BigIntegerField(default=0)),
                ("second_opinion_tokens", models.BigIntegerField(default=0)),
                ("evidence_request_tokens", models.BigIntegerField(default=0)),
                ("base_tokens", models.BigIntegerField(default=0)),
                ("row_count", models.PositiveBigIntegerField(default=0)),
                (
                    "run",
                    models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="daily_token_summaries",
                        to="metrics.run",
                    ),
                ),
            ],
            options={
                "ordering": ["date", "run_id"],
                "indexes": [models.Index(fields=["date"], name="metrics_daily_date")],
                "constraints": [
                    models.UniqueConstraint(
                        fields=("run", "date"), name="metrics_daily_one_per_run_day"
                    ),
                    models.CheckConstraint(
                        condition=models.Q(
                            ("retrieval_tokens__gte", 0),
                            ("second_opinion_tokens__gte", 0),
                            ("evidence_request_tokens__gte", 0),
                            ("base_tokens__gte", 0),
                        ),
                        name="metrics_daily_tokens_non_negative",
                    ),
                ],
            },
        ),
    ]
