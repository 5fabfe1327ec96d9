"""One rule for time bounds: a date is its whole UTC day; moments compare in UTC."""

import re
from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from autopack_site.dates import BoundError, as_utc, parse_bound, utc_day_end, utc_day_start


@given(st.dates(max_value=date.max - timedelta(days=1)))
def test_a_day_is_its_utc_start_up_to_the_next_days_start(day):
    start, end = utc_day_start(day), utc_day_end(day)
    assert start.tzinfo is UTC and start.date() == day and start.time().isoformat() == "00:00:00"
    assert end - start == timedelta(days=1)
    assert parse_bound(day.isoformat(), end_of_day=False) == start
    assert parse_bound(day.isoformat(), end_of_day=True) == end


def test_the_last_day_has_no_end_bound():
    assert utc_day_end(date.max) is None
    assert parse_bound("9999-12-31", end_of_day=True) is None


# Fixed offsets, as ISO 8601 carries them (a zone's DST fold makes `==` ambiguous).
OFFSETS = st.builds(
    timezone,
    st.timedeltas(
        min_value=timedelta(hours=-23, minutes=-59), max_value=timedelta(hours=23, minutes=59)
    ),
)


@given(st.datetimes(timezones=OFFSETS))
@example(datetime(1, 1, 1, 0, 10, tzinfo=timezone(timedelta(hours=21))))
@example(datetime(9999, 12, 31, 23, 0, tzinfo=timezone(timedelta(hours=-2))))
def test_any_moment_is_utc_or_refused_with_a_reason(moment):
    try:
        converted = as_utc(moment)
    except BoundError as error:
        assert str(error) == "Date is out of range"
    else:
        assert converted.utcoffset() == timedelta(0) and converted == moment


def test_a_naive_moment_is_read_in_the_default_time_zone():
    assert as_utc(datetime(2026, 11, 1, 12)) == datetime(2026, 11, 1, 12, tzinfo=UTC)


@pytest.mark.parametrize(
    "value, reason",
    [
        ("yesterday", "not a date (YYYY-MM-DD) or ISO 8601 time"),
        ("2026-13-01", "not a valid date or time: month must be in 1..12"),
        ("2026-01-01T00:00:00+25:00", "not a valid date or time"),
        ("0001-01-01T00:10:00+21:52", "out of range"),
    ],
)
def test_bad_bounds_say_why(value, reason):
    with pytest.raises(BoundError, match=re.escape(reason)):
        parse_bound(value, end_of_day=False)


def test_a_moment_bound_keeps_its_instant():
    offset = timezone(timedelta(hours=-5))
    expected = datetime(2026, 11, 1, 7, tzinfo=offset).astimezone(UTC)
    assert parse_bound("2026-11-01T07:00:00-05:00", end_of_day=True) == expected
