"""Filter pieces shared by every app's list endpoints."""

import django_filters
from django import forms
from django_filters.fields import IsoDateTimeField

from autopack_site.dates import BoundError, as_utc


class UTCIsoDateTimeField(IsoDateTimeField):
    """An ISO 8601 datetime normalised to UTC (a client's exotic offset must not
    reach the database: `autopack_site.dates.as_utc`)."""

    def to_python(self, value):
        value = super().to_python(value)
        if value is None:
            return None
        try:
            return as_utc(value)
        except BoundError as error:
            raise forms.ValidationError(f"{error}.", code="overflow") from None


class UTCIsoDateTimeFilter(django_filters.IsoDateTimeFilter):
    field_class = UTCIsoDateTimeField


class StrictBooleanField(forms.NullBooleanField):
    """true/false (and 1/0, yes/no, on/off, any case); anything else is an error.

    django-filter's BooleanFilter reads its value through a select widget that turns
    an unknown value into "not given", so `?has_failures=perhaps` would silently
    list everything.
    """

    widget = forms.TextInput
    TRUE = frozenset({"true", "1", "yes", "on"})
    FALSE = frozenset({"false", "0", "no", "off"})

    def to_python(self, value):
        if value in (None, ""):
            return None
        text = str(value).strip().lower()
        if text in self.TRUE:
            return True
        if text in self.FALSE:
            return False
        raise forms.ValidationError("Must be a valid boolean (true or false).", code="invalid")


class StrictBooleanFilter(django_filters.BooleanFilter):
    field_class = StrictBooleanField


class ListChoiceField(django_filters.fields.MultipleChoiceField):
    """Choices given as a repeated parameter; an empty value is not given
    (`?state=` lists everything, as an HTML form's empty select sends it)."""

    def clean(self, value):
        return super().clean([item for item in value or () if item != ""])


class ListChoiceFilter(django_filters.MultipleChoiceFilter):
    field_class = ListChoiceField
