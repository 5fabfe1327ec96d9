"""Exercise every critical endpoint of a deployed instance and report each check."""

from django.core.management.base import BaseCommand, CommandError

from autopack_site.ops.smoke import SmokeClient, SmokeResult, run_smoke_checks

MAX_TIMEOUT_SECONDS = 600


class Command(BaseCommand):
    help = (
        "Smoke-check a deployed instance over HTTP: one line per check, a summary, "
        "and a non-zero exit if any check fails."
    )

    def add_arguments(self, parser):
        parser.add_argument("--base-url", required=True, help="e.g. https://ops.example.com")
        parser.add_argument("--api-key", default=None, help="Key for the authenticated checks.")
        parser.add_argument("--timeout", type=float, default=10.0, help="Seconds per request.")

    def handle(self, *args, base_url: str, api_key: str | None, timeout: float, **options):
        if not base_url.startswith(("http://", "https://")):
            raise CommandError("--base-url must start with http:// or https://.")
        if not 0 < timeout <= MAX_TIMEOUT_SECONDS:  # also refuses nan
            raise CommandError(
                f"--timeout must be more than 0 and at most {MAX_TIMEOUT_SECONDS} seconds."
            )

        def report(result: SmokeResult) -> None:
            mark = self.style.SUCCESS("PASS") if result.passed else self.style.ERROR("FAIL")
            self.stdout.write(f"{mark} {result.name}: {result.detail}")

        try:
            results = run_smoke_checks(SmokeClient(base_url, api_key, timeout), report)
        except OSError as exc:
            raise CommandError(f"Could not reach {base_url}: {exc}.") from None
        failed = sum(not result.passed for result in results)
        summary = f"Smoke check: {len(results) - failed} passed, {failed} failed."
        if failed:
            raise CommandError(summary)
        self.stdout.write(self.style.SUCCESS(summary))
