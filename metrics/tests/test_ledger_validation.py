"""The fast ledger validator agrees with the published serializer, row for row."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
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
    {**VALID, "model": "claude-\ud800"},
    {**VALID, "model": "\udfff"},
    {**VALID, "retrieval_tokens": "7.0"},
    {**VALID, "retrieval_tokens": "+7"},
    {**VALID, "retrieval_tokens": "7_0"},
    {**VALID, "duration_seconds": True},
    {**VALID, "model": 5},
    "not an object",
    [1, 2],
]


@pytest.mark.parametrize("item", CASES, ids=[repr(case)[:60] for case in CASES])
def test_fast_validator_agrees_with_serializer(item):
    assert_validators_agree(item)


def assert_validators_agree(item) -> None:
    """The fast validator accepts `item` exactly when the serializer does, with the
    same values, or refuses it naming the same fields."""
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
        assert _error_shape(fast_errors[0]) == _error_shape(serializer.errors[0])


def _error_shape(errors) -> list[str]:
    """The fields in error, or for a row that is not an object at all, its messages."""
    return sorted(errors) if isinstance(errors, dict) else sorted(map(str, errors))


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


# Values a client could send for any field: every JSON type, edge numbers, and
# strings with the characters that trip encoders and databases.
_CHARS = st.one_of(
    st.characters(codec="utf-8"),
    st.sampled_from(["\ud800", "\udfff", "\x00", " ", "\t", "\n", "é", "-", "."]),
)
_JSON_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**64), max_value=2**64),
    st.sampled_from([0, 1, 10_000, 10_001, 10**15, 10**15 + 1, -1]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(_CHARS, max_size=210),
    st.sampled_from(["1", " 7 ", "1.5", "nan", "inf", "build130-phase0", "claude-sonnet"]),
    st.lists(st.integers(), max_size=2),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)
_FIELDS = (*VALID, "model", "duration_seconds")


@st.composite
def ledger_items(draw):
    """A row that starts valid and has some fields replaced, dropped or added."""
    item = {**VALID, "model": "claude-sonnet", "duration_seconds": 1.5}
    for field in draw(st.lists(st.sampled_from(_FIELDS), unique=True, max_size=4)):
        if draw(st.booleans()):
            item.pop(field)
        else:
            item[field] = draw(_JSON_VALUES)
    return item


@settings(max_examples=600, deadline=None)
@given(item=st.one_of(ledger_items(), _JSON_VALUES))
def test_fast_validator_accepts_and_rejects_exactly_what_the_serializer_does(item):
    assert_validators_agree(item)
