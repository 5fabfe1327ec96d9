"""Roll ledger rows older than the retention window into daily summaries."""

import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from metrics.retention import metrics_retention_run

# A century: beyond it the cutoff date leaves the calendar datetime can hold.
MAX_RETENTION_DAYS = 36_500


class Command(BaseCommand):
    help = (
        "Roll token-ledger rows older than N days into per-run daily summaries, then "
        "delete them, in primary-key batches (one transaction each). Totals are unchanged."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--days",
            type=int,
            default=None,
            help="Keep raw rows this many days (default AUTOPACK_METRICS_RETENTION_DAYS, 30).",
        )
        parser.add_argument("--dry-run", action="store_true", help="Report, write nothing.")
        parser.add_argument(
            "--batch-size",
            type=int,
            default=50_000,
            help="Rows per transaction (default 50000; each batch commits on its own).",
        )

    def handle(self, *args, days: int | None, dry_run: bool, batch_size: int, **options):
        days = settings.AUTOPACK_METRICS_RETENTION_DAYS if days is None else days
        if not 1 <= days <= MAX_RETENTION_DAYS:
            raise CommandError(
                f"--days must be between 1 and {MAX_RETENTION_DAYS}; pass the number of days "
                "to keep."
            )
        if not 1 <= batch_size <= 1_000_000:
            raise CommandError("--batch-size must be between 1 and 1000000.")
        started = time.perf_counter()
        last_report = [0.0]

        def progress(done: int, total: int) -> None:
            now = time.perf_counter()
            # About every 5 seconds, and always at the end.
            if done == total or now - last_report[0] >= 5 or options["verbosity"] >= 2:
                last_report[0] = now
                self.stderr.write(f"rolled up {done:,} / {total:,} rows")

        result = metrics_retention_run(
            days=days, batch_size=batch_size, dry_run=dry_run, progress=progress
        )
        cutoff = result.cutoff.date().isoformat()
        if dry_run:
            self.stdout.write(
                self.style.NOTICE(
                    f"DRY RUN: would roll up {result.rows:,} ledger rows older than {cutoff} "
                    f"into {result.run_days:,} run-day summaries."
                )
            )
            return
        elapsed = time.perf_counter() - started
        for run_id, day, reason in result.skipped:
            self.stderr.write(
                self.style.WARNING(
                    f"kept run {run_id} on {day} raw: the database refused its roll-up ({reason})"
                )
            )
        if options["verbosity"] >= 1:
            self.stdout.write(
                self.style.SUCCESS(
                    f"Rolled up {result.rows:,} ledger rows older than {cutoff} into "
                    f"{result.run_days:,} run-day summaries in {result.batches} batches "
                    f"({elapsed:.1f} s)."
                )
            )
