"""Time bounds, one rule for every filter, selector and command: a date stands for
its whole UTC day, a moment is compared in UTC, and a bound beyond what the
databases hold is an error, never a crash."""

from datetime import UTC, date, datetime, time, timedelta

from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime


class BoundError(ValueError):
    """A date or time that cannot bound a query; the message says why, in one line."""


def utc_day_start(day: date) -> datetime:
    """The first moment of `day`, UTC: the inclusive start of that day."""
    return datetime.combine(day, time.min, tzinfo=UTC)


def utc_day_end(day: date) -> datetime | None:
    """The first moment after `day`, UTC: the exclusive end of that day. None after
    the last representable day (9999-12-31 has no next day): no bound then."""
    if day == date.max:
        return None
    return utc_day_start(day + timedelta(days=1))


def as_utc(moment: datetime, *, label: str = "Date") -> datetime:
    """`moment` in UTC (a naive one is read in the default time zone).

    PostgreSQL rejects UTC offsets beyond ±15:59 that Python accepts, and an offset
    can push a moment past the first or last representable day; either is refused
    here, before a query."""
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment, timezone.get_default_timezone())
    try:
        return moment.astimezone(UTC)
    except OverflowError:
        raise BoundError(f"{label} is out of range") from None


def parse_bound(value: str, *, end_of_day: bool) -> datetime | None:
    """A date (`YYYY-MM-DD`: its whole UTC day, so as an end bound the next day's
    start) or an ISO 8601 time, in UTC. None: an end after the last day, no bound."""
    try:
        # A date first: parse_datetime also reads `2026-11-01`, as midnight, which
        # would make an end bound of 2026-11-01 leave that day out. Well-formed but
        # impossible values (month 13, offset +25:00) raise ValueError.
        day = parse_date(value)
        moment = None if day else parse_datetime(value)
    except ValueError as error:
        raise BoundError(f"{value!r} is not a valid date or time: {error}") from None
    if day:
        return utc_day_end(day) if end_of_day else utc_day_start(day)
    if moment is None:
        raise BoundError(f"{value!r} is not a date (YYYY-MM-DD) or ISO 8601 time")
    return as_utc(moment, label=repr(value))
