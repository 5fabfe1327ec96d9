"""Time the dashboard's pages on a benchmark-sized store and print the figures."""

from django.core.management.base import BaseCommand, CommandError

from autopack_site.dashboard.benchmark import run_dashboard_benchmark


class Command(BaseCommand):
    help = (
        "Build the ledger benchmark's data (runs named bench-*) plus patterns, A/B pairs, "
        "a campaign and approvals, then print each dashboard page's server-side p50 and "
        "query count. Removes its data afterwards."
    )

    def add_arguments(self, parser):
        parser.add_argument("--rows", type=int, default=1_000_000, help="Ledger rows (default 1M).")
        parser.add_argument("--runs", type=int, default=10_000, help="Runs (default 10000).")
        parser.add_argument("--samples", type=int, default=20, help="Requests per page.")
        parser.add_argument("--keep", action="store_true", help="Keep the synthetic data.")

    def handle(self, *args, rows, runs, samples, keep, **options):
        if samples < 1:
            raise CommandError("--samples must be positive.")
        if runs < 2 * 40 + 3 or rows < 10_100:
            raise CommandError("need at least 83 runs and 10,100 rows (--runs, --rows).")
        lines = run_dashboard_benchmark(
            rows=rows, runs=runs, samples=samples, keep=keep, progress=self.stderr.write
        )
        for line in lines:
            self.stdout.write(line)
