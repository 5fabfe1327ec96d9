"""Benchmark the token ledger at scale on the configured database and print the figures."""

from django.core.management.base import BaseCommand, CommandError

from metrics.benchmark import run_benchmark


class Command(BaseCommand):
    help = (
        "Build a synthetic ledger (runs named bench-*), then print consolidated-endpoint "
        "p50/p95 for a 100-row and a 10,000-row run, API ingestion rows/s, retention rows/s, "
        "and the endpoint figures with the ledger indexes dropped. Removes its data afterwards."
    )

    def add_arguments(self, parser):
        parser.add_argument("--rows", type=int, default=1_000_000, help="Ledger rows (default 1M).")
        parser.add_argument("--runs", type=int, default=10_000, help="Runs (default 10000).")
        parser.add_argument("--samples", type=int, default=50, help="Requests per latency figure.")
        parser.add_argument(
            "--ingest-rows", type=int, default=100_000, help="Rows posted through the API."
        )
        parser.add_argument("--keep", action="store_true", help="Keep the synthetic data.")

    def handle(self, *args, rows, runs, samples, ingest_rows, keep, **options):
        if samples < 1 or ingest_rows < 1:
            raise CommandError("--samples and --ingest-rows must be positive.")
        try:
            report = run_benchmark(
                rows=rows,
                runs=runs,
                samples=samples,
                ingest_rows=ingest_rows,
                keep=keep,
                progress=lambda message: self.stderr.write(message),
            )
        except ValueError as exc:
            raise CommandError(f"{exc}; pass larger --rows/--runs.") from None
        for line in report.lines():
            self.stdout.write(line)
