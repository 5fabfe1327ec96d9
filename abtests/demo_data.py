"""Demo A/B results over the demo runs, so the admin and API have something to show."""

from django.db import transaction

from abtests.models import ABTestResult
from abtests.services import ab_results_analyze_pairs
from metrics.demo_data import demo_run_id
from metrics.models import Run

DEMO_TEST_PREFIX = "demo-"
DEMO_TEST_ID = "demo-phase6-off-vs-on"


def demo_ab_results_clear() -> int:
    """Delete the demo A/B results (test ids `demo-*`), so the demo runs can be replaced."""
    deleted, _ = ABTestResult.objects.filter(test_id__startswith=DEMO_TEST_PREFIX).delete()
    return deleted


@transaction.atomic
def demo_ab_results_seed(*, seed: int = 7) -> list[ABTestResult]:
    """Replace the demo experiment: each finished demo run 2k+1 (Phase 6 off, control)
    against the finished demo run 2k (Phase 6 on, treatment).

    The demo runs share code and model mapping only mostly, so some pairs come out
    invalid, as they would in life.
    """
    demo_ab_results_clear()
    finished = set(
        Run.objects.terminal().filter(pk__startswith=f"demo-{seed}-").values_list("pk", flat=True)
    )
    indexes = sorted(int(run_id.rsplit("-", 1)[1]) for run_id in finished)
    pairs = [
        (demo_run_id(seed, index + 1), demo_run_id(seed, index))
        for index in indexes
        if index % 2 == 0 and demo_run_id(seed, index + 1) in finished
    ]
    return ab_results_analyze_pairs(test_id=DEMO_TEST_ID, pairs=pairs, created_by="seed_demo")
