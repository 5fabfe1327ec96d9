"""The database itself refuses a result marked valid that breaks the strict rules."""

import pytest
from django.db import IntegrityError, transaction

from abtests.models import ABTestResult
from abtests.tests.factories import ABTestResultFactory

pytestmark = pytest.mark.django_db


def test_a_consistent_valid_row_is_accepted():
    result = ABTestResultFactory()
    assert ABTestResult.objects.filter(pk=result.pk, is_valid=True).exists()


@pytest.mark.parametrize(
    "forged",
    [
        {"treatment_commit_sha": "f" * 40},
        {"treatment_model_hash": "models-v2"},
        {"control_commit_sha": None},
        {"treatment_commit_sha": None},
        {"control_commit_sha": "", "treatment_commit_sha": ""},
        {"control_model_hash": None, "treatment_model_hash": None},
        {"control_model_hash": "", "treatment_model_hash": ""},
    ],
    ids=[
        "sha-mismatch",
        "hash-mismatch",
        "control-sha-null",
        "treatment-sha-null",
        "both-sha-empty",
        "both-hash-null",
        "both-hash-empty",
    ],
)
def test_database_refuses_forged_valid_row(forged):
    # save() does not run model validation: only the CHECK constraint stands in the way.
    row = ABTestResultFactory.build(**forged)
    row.control_run.save()
    row.treatment_run.save()
    with pytest.raises(IntegrityError), transaction.atomic():
        row.save()
    assert not ABTestResult.objects.exists()


def test_database_refuses_same_run_on_both_sides():
    row = ABTestResultFactory.build()
    row.control_run.save()
    row.treatment_run = row.control_run
    with pytest.raises(IntegrityError), transaction.atomic():
        row.save()
    assert not ABTestResult.objects.exists()


def test_database_refuses_flipping_an_invalid_row_to_valid_by_update():
    row = ABTestResultFactory(invalid=True)
    with pytest.raises(IntegrityError), transaction.atomic():
        ABTestResult.objects.filter(pk=row.pk).update(is_valid=True)
    row.refresh_from_db()
    assert row.is_valid is False


def test_invalid_rows_may_carry_any_metadata():
    row = ABTestResultFactory(invalid=True, control_commit_sha=None, control_model_hash="")
    assert ABTestResult.objects.get(pk=row.pk).is_valid is False
