"""Resolve approvals and clarifications no one decided by their deadline."""

from django.conf import settings
from django.core.management.base import BaseCommand

from metrics.services import approvals_expire


class Command(BaseCommand):
    help = (
        "Resolve pending approvals past their deadline to AUTOPACK_APPROVAL_DEFAULT_ON_TIMEOUT "
        "(reject unless 'approve') and pending clarifications to rejected, so the executor's "
        "poll ends. Reads apply the same rule; run this periodically (cron, a Celery beat) "
        "so requests no one polls are resolved too."
    )

    def handle(self, *args, **options):
        resolved = approvals_expire()
        self.stdout.write(
            f"Resolved {resolved} request(s) past their deadline "
            f"(approvals to {settings.AUTOPACK_APPROVAL_DEFAULT_ON_TIMEOUT}, "
            "clarifications to rejected)."
        )
