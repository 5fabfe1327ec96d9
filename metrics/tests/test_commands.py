"""Management commands of the run store."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from metrics.models import DashboardEvent, Phase, PhaseMetrics, Run

pytestmark = pytest.mark.django_db


def test_seed_demo_is_deterministic_and_realistic():
    out = StringIO()
    call_command("seed_demo", "--runs", "40", "--seed", "3", stdout=out)
    assert "Seeded demo data: 40 runs" in out.getvalue()

    def snapshot():
        return (
            list(Run.objects.order_by("id").values_list("id", "state", "git_commit_sha")),
            list(
                Phase.objects.order_by("run_id", "phase_id").values_list(
                    "phase_id", "state", "last_failure_reason"
                )
            ),
            list(
                PhaseMetrics.objects.order_by("phase__phase_id", "attempt").values_list(
                    "retrieval_tokens",
                    "second_opinion_tokens",
                    "evidence_request_tokens",
                    "base_tokens",
                )
            ),
        )

    first = snapshot()
    call_command("seed_demo", "--runs", "40", "--seed", "3", stdout=StringIO())
    assert snapshot() == first
    # Every run state, all four token categories, and each failure family appear.
    assert set(Run.objects.values_list("state", flat=True)) == set(Run.State.values)
    for category in (
        "retrieval_tokens",
        "second_opinion_tokens",
        "evidence_request_tokens",
        "base_tokens",
    ):
        assert PhaseMetrics.objects.filter(**{f"{category}__gt": 0}).exists()
    messages = "\n".join(DashboardEvent.objects.values_list("message", flat=True))
    assert "Hunk #" in messages or "patch does not apply" in messages
    assert "max_tokens" in messages or "passed in" in messages
    shas = set(Run.objects.values_list("git_commit_sha", flat=True))
    assert len(shas - {None}) >= 2 and None in shas  # matching, mismatching and missing


def test_seed_demo_rejects_bad_counts():
    with pytest.raises(CommandError, match="--runs"):
        call_command("seed_demo", "--runs", "0", stdout=StringIO())
