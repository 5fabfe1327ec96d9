"""The fast ledger validator agrees with the published serializer, row for row."""

import pytest
from rest_framework.exceptions import ValidationError

from metrics.api.ledger_validation import ledger_batch_validate
from metrics.api.serializers import LedgerRowInputSerializer, batch_serializer
from metrics.models import PhaseMetrics
from metrics.services import phase_metrics_ingest
from metrics.tests.factories import PhaseFactory

VALID = {
    "phase_id": "build130-phase0",
    "attempt": 1,
    "retrieval_tokens": 10,
    "second_opinion_tokens": 0,
    "evidence_request_tokens": 3,
    "base_tokens": 4,
}

CASES = [
    VALID,
    {**VALID, "model": "claude-sonnet", "duration_seconds": 1.5},
    {**VALID, "duration_seconds": None},
    {**VALID, "duration_seconds": 3},
    {**VALID, "attempt": "2"},
    {**VALID, "base_tokens": "7"},
    {**VALID, "model": "  padded  "},
    {**VALID, "attempt": 0},
    {**VALID, "attempt": 10_001},
    {**VALID, "attempt": True},
    {**VALID, "attempt": 1.5},
    {**VALID, "attempt": None},
    {**VALID, "base_tokens": -1},
    {**VALID, "base_tokens": 10**15 + 1},
    {**VALID, "retrieval_tokens": "lots"},
    {**VALID, "retrieval_tokens": []},
    {**VALID, "phase_id": ""},
    {**VALID, "phase_id": None},
    {**VALID, "phase_id": "has space"},
    {**VALID, "phase_id": "x" * 201},
    {**VALID, "model": None},
    {**VALID, "model": "m" * 101},
    {**VALID, "duration_seconds": -1},
    {**VALID, "duration_seconds": "fast"},
    {**VALID, "duration_seconds": 10**10},
    {key: value for key, value in VALID.items() if key != "base_tokens"},
    {key: value for key, value in VALID.items() if key != "phase_id"},
    {**VALID, "unknown_field": "ignored"},
    "not an object",
    [1, 2],
]


@pytest.mark.parametrize("item", CASES, ids=[repr(case)[:60] for case in CASES])
def test_fast_validator_agrees_with_serializer(item):
    serializer = batch_serializer(LedgerRowInputSerializer(), data=[item])
    serializer_ok = serializer.is_valid()
    try:
        rows = ledger_batch_validate([item])
        fast_ok, fast_errors = True, {}
    except ValidationError as exc:
        fast_ok, fast_errors = False, exc.detail
    assert fast_ok == serializer_ok
    if serializer_ok:
        expected = dict(serializer.validated_data[0])
        assert {key: rows[0].get(key) for key in expected} == expected
    else:
        assert set(fast_errors[0]) == set(serializer.errors[0])


@pytest.mark.parametrize(
    "body, message",
    [({}, "Expected a list"), ([], "may not be empty"), ([VALID] * 10_001, "no more than 10000")],
)
def test_batch_shape_errors(body, message):
    with pytest.raises(ValidationError, match=message):
        ledger_batch_validate(body)


@pytest.mark.django_db
def test_awkward_model_names_round_trip_through_the_bulk_path():
    """Tabs, newlines and backslashes must survive (COPY escaping on PostgreSQL)."""
    phase = PhaseFactory(phase_id="p0")
    names = ["tab\there", "new\nline", "back\\slash", "cr\rhere", "\\N", ""]
    rows = [
        {**VALID, "phase_id": "p0", "attempt": index + 1, "model": name, "duration_seconds": None}
        for index, name in enumerate(names)
    ]
    result = phase_metrics_ingest(run=phase.run, rows=rows)
    assert result.created == len(names)
    stored = dict(PhaseMetrics.objects.values_list("attempt", "model"))
    assert [stored[index + 1] for index in range(len(names))] == names
    assert set(PhaseMetrics.objects.values_list("duration_seconds", flat=True)) == {None}
    # Resending the same rows changes nothing.
    assert phase_metrics_ingest(run=phase.run, rows=rows).unchanged == len(names)
