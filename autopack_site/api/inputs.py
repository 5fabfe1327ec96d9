"""Request bodies take JSON types exactly as the published schema states them.

DRF converts between types: a string field takes 0 as "0", an integer field
"5", a boolean field 1 or "yes". Each such body is one the schema forbids, and
a client that sends one has a bug the API should name instead of guessing. Every
serializer of a request body derives from `InputSerializer`, which checks each
of its fields' JSON type before DRF parses the value (a nested body checks its
own fields the same way). Query strings are text by nature and are not checked.
"""

from collections.abc import Mapping

from django.http import QueryDict
from rest_framework import serializers
from rest_framework.exceptions import ValidationError

_TEXT_FIELDS = (
    serializers.CharField,  # RegexField, EmailField, SlugField, URLField, …
    serializers.DateField,
    serializers.DateTimeField,
    serializers.TimeField,
    serializers.DurationField,
    serializers.UUIDField,
)


def json_type_error(field: serializers.Field, value) -> str | dict | None:
    """Why `value` is not of the JSON type `field` takes, or None if it is.

    None (JSON null) is left to the field, which knows whether it allows it.
    """
    if value is None:
        return None
    if isinstance(field, serializers.BooleanField):
        return None if isinstance(value, bool) else "Must be a valid boolean."
    if isinstance(field, serializers.IntegerField):
        return None if _is_integer(value) else "A valid integer is required."
    if isinstance(field, (serializers.FloatField, serializers.DecimalField)):
        is_number = isinstance(value, (int, float)) and not isinstance(value, bool)
        return None if is_number else "A valid number is required."
    if isinstance(field, serializers.ChoiceField):  # MultipleChoiceField included
        return _choice_error(field, value)
    if isinstance(field, _TEXT_FIELDS):
        return None if isinstance(value, str) else "Not a valid string."
    if isinstance(field, serializers.ListField) and isinstance(value, list):
        return _item_errors(field.child, enumerate(value))
    if isinstance(field, serializers.DictField) and isinstance(value, dict):
        return _item_errors(field.child, value.items())
    return None  # JSON values, nested bodies (their own check), custom fields


def _is_integer(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _choice_error(field: serializers.ChoiceField, value) -> str | None:
    if isinstance(field, serializers.MultipleChoiceField):
        return None  # a list of choices: each is judged by the field
    kinds = {type(key) for key in field.choices}
    if kinds <= {str} and not isinstance(value, str):
        return f'"{value}" is not a valid choice.'
    if kinds <= {int} and not _is_integer(value):
        return f'"{value}" is not a valid choice.'
    return None


def _item_errors(child: serializers.Field, items) -> dict | None:
    errors = {}
    for key, item in items:
        error = json_type_error(child, item)
        if error is not None:
            errors[key] = error if isinstance(error, dict) else [error]
    return errors or None


class InputSerializer(serializers.Serializer):
    """A request body (or one object of it): JSON types checked before parsing."""

    def json_type_errors(self, data: Mapping) -> dict:
        """The fields of `data` whose JSON type is not the one their field takes."""
        errors = {}
        for name, field in self.fields.items():
            if field.read_only or name not in data:
                continue
            error = json_type_error(field, data[name])
            if error is not None:
                errors[name] = error if isinstance(error, dict) else [error]
        return errors

    def to_internal_value(self, data):
        if not isinstance(data, Mapping) or isinstance(data, QueryDict):
            return super().to_internal_value(data)
        type_errors = self.json_type_errors(data)
        try:
            value = super().to_internal_value(data)
        except ValidationError as refusal:
            # Every field's error at once, as DRF reports them; a field of the
            # wrong type is named for its type.
            raise ValidationError({**refusal.detail, **type_errors}) from None
        if type_errors:
            raise ValidationError(type_errors)
        return value
