"""Load the deterministic demo data set (see metrics.demo_data)."""

from django.core.management.base import BaseCommand, CommandError

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
        counts = demo_data_seed(runs=runs, seed=seed)
        summary = ", ".join(f"{count} {name.replace('_', ' ')}" for name, count in counts.items())
        self.stdout.write(self.style.SUCCESS(f"Seeded demo data: {summary}."))
