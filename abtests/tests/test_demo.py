"""Demo A/B results: seeded over the demo runs, replaceable, and they protect their runs."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from abtests.demo_data import DEMO_TEST_ID
from abtests.models import ABTestResult

pytestmark = pytest.mark.django_db


def run(*args) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_demo_experiment_has_valid_and_invalid_pairs_and_reseeds_identically():
    run("seed_demo", "--runs", "40")
    output = run("seed_demo_ab_results")
    results = ABTestResult.objects.filter(test_id=DEMO_TEST_ID)
    valid = results.filter(is_valid=True).count()
    assert results.count() >= 4 and 0 < valid < results.count()
    assert f"Seeded {results.count()} demo A/B pairs under {DEMO_TEST_ID}: {valid} valid" in output
    first = sorted(results.values_list("control_run_id", "treatment_run_id", "token_delta"))
    run("seed_demo_ab_results")
    assert sorted(results.values_list("control_run_id", "treatment_run_id", "token_delta")) == first


def test_demo_runs_cannot_be_replaced_under_their_results_until_cleared():
    run("seed_demo", "--runs", "40")
    run("seed_demo_ab_results")
    with pytest.raises(CommandError, match=r"still referenced by .* A/B test results"):
        run("seed_demo", "--runs", "40")
    assert ABTestResult.objects.exists()  # nothing was half-deleted
    assert "Deleted" in run("seed_demo_ab_results", "--clear")
    run("seed_demo", "--runs", "40")
    assert not ABTestResult.objects.exists()


def test_without_demo_runs_the_command_says_what_to_do():
    with pytest.raises(CommandError, match="run seed_demo first"):
        run("seed_demo_ab_results")
