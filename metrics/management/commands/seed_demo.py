"""Load the deterministic demo data set (see metrics.demo_data)."""

from django.core.management.base import BaseCommand, CommandError
from django.db.models import ProtectedError

from autopack_site.errors import protected_summary
from metrics.demo_data import demo_data_seed


class Command(BaseCommand):
    help = "Replace the demo runs with a deterministic, realistic data set."

    def add_arguments(self, parser):
        parser.add_argument("--runs", type=int, default=40, help="How many runs (default 40).")
        parser.add_argument("--seed", type=int, default=7, help="Random seed (default 7).")

    def handle(self, *args, runs: int, seed: int, **options):
        if not 1 <= runs <= 100_000:
            raise CommandError("--runs must be between 1 and 100000.")
        if seed < 0:
            raise CommandError("--seed must be a non-negative integer.")
        try:
            counts = demo_data_seed(runs=runs, seed=seed)
        except ProtectedError as exc:
            raise CommandError(
                f"The demo runs are {protected_summary(exc)}; remove those first "
                "(for demo A/B results: manage.py seed_demo_ab_results --clear)."
            ) from None
        summary = ", ".join(f"{count} {name.replace('_', ' ')}" for name, count in counts.items())
        self.stdout.write(self.style.SUCCESS(f"Seeded demo data: {summary}."))
