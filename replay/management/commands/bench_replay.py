"""Benchmark a replay campaign's overhead per replay, in-process and with Celery."""

import json
import tempfile
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand

from replay.benchmark import run_benchmark

DEFAULT_BROKER = "redis://127.0.0.1:6379/14"


class Command(BaseCommand):
    help = (
        "A campaign of --runs failed runs with an executor that returns at once; prints "
        "the total time and the overhead per replay (clone + dispatch + bookkeeping + "
        "report) for the in-process pool and for Celery with --workers worker processes."
    )

    def add_arguments(self, parser):
        parser.add_argument("--runs", type=int, default=200)
        parser.add_argument("--batch-size", type=int, default=5)
        parser.add_argument("--workers", type=int, default=2)
        parser.add_argument(
            "--broker",
            default=None,
            help=f"Celery broker (default: CELERY_BROKER_URL, else {DEFAULT_BROKER}); "
            "'none' skips the Celery figure.",
        )
        parser.add_argument("--json", action="store_true")

    def handle(self, *args, **options):
        broker = options["broker"] or settings.CELERY_BROKER_URL or DEFAULT_BROKER
        broker = None if broker == "none" else broker
        with tempfile.TemporaryDirectory(prefix="bench_replay_") as scratch:
            settings.AUTOPACK_REPLAY_RESULTS_DIR = Path(scratch) / "results"
            figures = run_benchmark(
                count=options["runs"],
                batch_size=options["batch_size"],
                workers=options["workers"],
                broker=broker,
                log_dir=Path(scratch),
                progress=self.stderr.write,
            )
        if options["json"]:
            self.stdout.write(json.dumps(figures))
            return
        self.stdout.write(
            f"replay benchmark: {figures['replays']} failed runs, batch size "
            f"{figures['batch_size']}, {figures['database']}"
        )
        for label, key in (
            ("in-process pool", "pool"),
            (f"celery ({options['workers']} workers)", "celery"),
        ):
            if key in figures:
                figure = figures[key]
                self.stdout.write(
                    f"{label}: total {figure['seconds']:.2f} s, "
                    f"{figure['ms_per_replay']:.1f} ms per replay "
                    f"({figure['succeeded']} succeeded, campaign {figure['status']})"
                )
