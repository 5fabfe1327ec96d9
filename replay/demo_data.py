"""Demo replays: cleared before the demo runs are replaced (their attempts and A/B
pairs protect the originals)."""

from django.db import transaction

from abtests.models import ABTestResult
from metrics.models import Run
from replay.models import ReplayAttempt, ReplayCampaign

DEMO_RUN_PREFIX = "demo-"


@transaction.atomic
def demo_replays_clear() -> int:
    """Delete the campaigns that replayed demo runs, their replay runs and A/B pairs.
    Returns how many campaigns went."""
    campaign_ids = set(
        ReplayAttempt.objects.filter(original_run__id__startswith=DEMO_RUN_PREFIX).values_list(
            "campaign_id", flat=True
        )
    )
    replay_ids = list(
        ReplayAttempt.objects.filter(campaign_id__in=campaign_ids)
        .exclude(replay_run=None)
        .values_list("replay_run_id", flat=True)
    )
    ABTestResult.objects.filter(test_id__in=campaign_ids).delete()
    ReplayCampaign.objects.filter(pk__in=campaign_ids).delete()
    Run.objects.filter(pk__in=replay_ids).delete()
    return len(campaign_ids)
