"""Filter pieces shared by every app's list endpoints."""

from datetime import timezone

import django_filters
from django import forms
from django_filters.fields import IsoDateTimeField


class UTCIsoDateTimeField(IsoDateTimeField):
    """An ISO 8601 datetime normalised to UTC.

    PostgreSQL rejects UTC offsets beyond ±15:59 that Python accepts, so a
    client's exotic offset must not reach the database.
    """

    def to_python(self, value):
        value = super().to_python(value)
        if value is None:
            return None
        try:
            return value.astimezone(timezone.utc)
        except OverflowError:
            raise forms.ValidationError("Date is out of range.", code="overflow") from None


class UTCIsoDateTimeFilter(django_filters.IsoDateTimeFilter):
    field_class = UTCIsoDateTimeField
