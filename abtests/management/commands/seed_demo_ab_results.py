"""Analyse the demo runs as an A/B experiment (after `seed_demo`)."""

from django.core.management.base import BaseCommand, CommandError

from abtests.demo_data import DEMO_TEST_ID, demo_ab_results_clear, demo_ab_results_seed


class Command(BaseCommand):
    help = (
        f"Replace the demo A/B results ({DEMO_TEST_ID}): finished demo runs with Phase 6 off "
        "paired with finished demo runs with it on. --clear only removes them (run it "
        "before reseeding the demo runs, which the results protect)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--seed", type=int, default=7, help="The seed_demo seed (default 7).")
        parser.add_argument("--clear", action="store_true", help="Only delete demo results.")

    def handle(self, *args, seed: int, clear: bool, **options):
        if seed < 0:
            raise CommandError("--seed must be a non-negative integer.")
        if clear:
            deleted = demo_ab_results_clear()
            self.stdout.write(f"Deleted {deleted} demo A/B results.")
            return
        results = demo_ab_results_seed(seed=seed)
        if not results:
            raise CommandError(f"No finished demo runs for seed {seed}; run seed_demo first.")
        valid = sum(result.is_valid for result in results)
        self.stdout.write(
            self.style.SUCCESS(
                f"Seeded {len(results)} demo A/B pairs under {DEMO_TEST_ID}: {valid} valid, "
                f"{len(results) - valid} invalid."
            )
        )
