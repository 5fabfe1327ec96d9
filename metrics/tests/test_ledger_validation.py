"""The fast ledger validator agrees with the published serializer, row for row."""

import io
import json

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rest_framework.exceptions import ParseError, ValidationError

from metrics.api.ledger_validation import (
    LedgerBatchParser,
    ledger_batch_fast_decode,
    ledger_batch_validate,
)
from metrics.api.serializers import LedgerRowInputSerializer, batch_serializer
from metrics.models import PhaseMetrics
from metrics.services import LedgerRow, phase_metrics_ingest
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
        assert {key: getattr(rows[0], key) for key in expected} == expected
    else:
        assert _error_shape(fast_errors[0]) == _error_shape(serializer.errors[0])


def parse_body(body: bytes):
    """What the ingestion route's parser makes of a body, then its validation:
    ("rows", rows), ("invalid", errors) or ("unparsable", None)."""
    try:
        data = LedgerBatchParser().parse(io.BytesIO(body), "application/json", {})
    except ParseError:
        return "unparsable", None
    try:
        return "rows", ledger_batch_validate(data)
    except ValidationError as exc:
        return "invalid", exc.detail


def assert_body_paths_agree(batch: list, *, ensure_ascii: bool) -> None:
    """The route's own path from bytes (the one-pass decoder, else the JSON parser
    and the Python rules) agrees with the serializer on the parsed body."""
    text = json.dumps(batch, ensure_ascii=ensure_ascii)
    body = text.encode("utf-8", "surrogatepass")
    outcome, value = parse_body(body)
    try:
        parsed = json.loads(body, parse_constant=_refuse_constant)
    except ValueError:  # not strict UTF-8 JSON: the parser must have refused it
        assert outcome == "unparsable"
        return
    serializer = batch_serializer(LedgerRowInputSerializer(), data=parsed)
    if serializer.is_valid():
        assert outcome == "rows", value
        assert [msgspec.structs.asdict(row) for row in value] == [
            {**msgspec.structs.asdict(LedgerRow(**dict(row)))} for row in serializer.validated_data
        ]
    else:
        assert outcome == "invalid"
        assert _errors_by_row(value) == _errors_by_row(serializer.errors)
    fast = ledger_batch_fast_decode(body)
    if fast is not None:  # the one-pass decoder only ever takes a valid batch
        assert outcome == "rows" and fast == value


def _refuse_constant(name):
    raise ValueError(name)


def _errors_by_row(errors) -> dict:
    """Row position → its fields in error; a refusal of the batch as a whole (not a
    list, empty, too long) as one entry, however worded."""
    if isinstance(errors, dict):
        if "non_field_errors" in errors:
            return {"batch": "refused"}
        return {str(key): _error_shape(value) for key, value in errors.items()}
    return {str(index): _error_shape(value) for index, value in enumerate(errors) if value}


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
        LedgerRow(**{**VALID, "phase_id": "p0", "attempt": index + 1, "model": name})
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


@settings(max_examples=400, deadline=None)
@given(
    batch=st.one_of(
        st.lists(st.one_of(ledger_items(), _JSON_VALUES), max_size=4),
        st.lists(ledger_items(), min_size=1, max_size=4),
        _JSON_VALUES,
    ),
    ensure_ascii=st.booleans(),
)
def test_the_body_path_accepts_and_rejects_exactly_what_the_serializer_does(batch, ensure_ascii):
    assert_body_paths_agree(batch, ensure_ascii=ensure_ascii)


@pytest.mark.parametrize(
    "text",
    [
        '[{"phase_id": "p1\\n", "attempt": 1, "retrieval_tokens": 0, "second_opinion_tokens": 0,'
        ' "evidence_request_tokens": 0, "base_tokens": 0}]',
        '[{"phase_id": "p1", "attempt": 1, "retrieval_tokens": 0, "second_opinion_tokens": 0,'
        ' "evidence_request_tokens": 0, "base_tokens": 0, "model": "a\\u0000"}]',
        '[{"phase_id": "p1", "attempt": 1, "retrieval_tokens": 0, "second_opinion_tokens": 0,'
        ' "evidence_request_tokens": 0, "base_tokens": 0, "model": "\\ud800"}]',
        '[{"phase_id": "p1", "attempt": 1e0, "retrieval_tokens": 0, "second_opinion_tokens": 0,'
        ' "evidence_request_tokens": 0, "base_tokens": 0}]',
    ],
    ids=["final newline", "NUL", "lone surrogate", "exponent integer"],
)
def test_values_the_decoder_leaves_to_the_full_rules(text):
    """A trailing newline to trim, NUL, an escaped lone surrogate, `1e0`: the
    one-pass decoder declines each, and the full rules answer as the serializer."""
    assert ledger_batch_fast_decode(text.encode()) is None
    assert_body_paths_agree(json.loads(text), ensure_ascii=True)
