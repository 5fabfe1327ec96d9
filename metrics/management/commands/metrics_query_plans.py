"""Check that the ledger's hot queries use their indexes on this database."""

from django.core.management.base import BaseCommand, CommandError

from metrics.models import Run
from metrics.query_plans import HOT_QUERIES, plan_index_names, plan_text


class Command(BaseCommand):
    help = (
        "Print the plan of each hot ledger query for a run and check it uses the expected "
        "index; exit non-zero if one does not."
    )

    def add_arguments(self, parser):
        parser.add_argument("--run-id", required=True, help="A run with ledger rows.")
        parser.add_argument(
            "--force-index",
            action="store_true",
            help="PostgreSQL: price out sequential scans (for small staging tables).",
        )

    def handle(self, *args, run_id: str, force_index: bool, **options):
        if not Run.objects.filter(pk=run_id).exists():
            raise CommandError(f"Run {run_id!r} not found; pass an existing --run-id.")
        missing = []
        for label, (build, index) in HOT_QUERIES.items():
            queryset = build(run_id)
            used = plan_index_names(queryset, force_index=force_index)
            ok = index in used
            mark = self.style.SUCCESS("OK  ") if ok else self.style.ERROR("MISS")
            self.stdout.write(
                f"{mark} {label}: expects {index}; plan uses {sorted(used) or 'no index'}"
            )
            if options["verbosity"] >= 2:
                self.stdout.write(plan_text(queryset, force_index=force_index))
            if not ok:
                missing.append(label)
        if missing:
            raise CommandError(f"Queries not using their index: {', '.join(missing)}.")
        self.stdout.write(
            self.style.SUCCESS(f"All {len(HOT_QUERIES)} hot queries use their indexes.")
        )
