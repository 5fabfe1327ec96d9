"""Exit 0 when the service is ready, non-zero otherwise (for container HEALTHCHECKs)."""

from django.core.management.base import BaseCommand, CommandError

from autopack_site.ops import health


class Command(BaseCommand):
    help = "Run the readiness checks; exit 0 on pass or warn, 1 on fail."

    def handle(self, *args, **options):
        checks = health.readiness_checks()
        for check in checks:
            line = (
                f"{check.status.upper():4} {check.key} = "
                f"{check.observed_value} {check.observed_unit}"
            )
            if check.output:
                line += f" ({check.output})"
            style = self.style.SUCCESS if check.status == health.PASS else self.style.WARNING
            if options["verbosity"] >= 1:
                self.stdout.write(style(line.rstrip()))
        status = health.overall_status(checks)
        if status == health.FAIL:
            failed = ", ".join(c.key for c in checks if c.status == health.FAIL and c.required)
            raise CommandError(f"Not ready: {failed} failing; see the lines above.")
        if options["verbosity"] >= 1:
            self.stdout.write(self.style.SUCCESS(f"Ready: status {status}."))
