"""Drive one run through the executor routes as Autopack's executor does (a demo executor)."""

import os

from django.core.management.base import BaseCommand, CommandError

from autopack_site.ops.http import JsonClient
from replay.simulator import SimulationError, simulate_run


def _rate(value: str) -> float:
    rate = float(value)
    if not 0.0 <= rate <= 1.0:
        raise ValueError(value)
    return rate


class Command(BaseCommand):
    help = (
        "Execute RUN_ID against a server's executor routes as Autopack's executor would: "
        "phase updates, builder and auditor results, ledger rows, failure events. "
        "Deterministic for a --seed. The key comes from --api-key or AUTOPACK_API_KEY."
    )

    def add_arguments(self, parser):
        parser.add_argument("run_id")
        parser.add_argument(
            "--api-url", required=True, help="The server, e.g. http://127.0.0.1:8000"
        )
        parser.add_argument("--api-key", default=None, help="Default: $AUTOPACK_API_KEY.")
        parser.add_argument("--seed", type=int, default=0)
        parser.add_argument(
            "--recover-rate",
            type=_rate,
            default=0.5,
            help="Chance (0…1) that the run succeeds; otherwise one phase fails.",
        )

    def handle(self, *args, **options):
        api_key = options["api_key"] or os.environ.get("AUTOPACK_API_KEY", "")
        if not api_key:
            raise CommandError("No API key: pass --api-key or set AUTOPACK_API_KEY.")
        client = JsonClient(options["api_url"], api_key, timeout=30)
        try:
            result = simulate_run(
                client,
                options["run_id"],
                seed=options["seed"],
                recover_rate=options["recover_rate"],
                report=self.stdout.write,
            )
        except (SimulationError, OSError) as error:
            raise CommandError(f"run {options['run_id']}: {error}") from None
        verdict = "recovered" if result.recovered else f"failed at {result.failed_phase}"
        self.stdout.write(f"{result.run_id}: {result.phases} phases, {verdict}")
