"""Serializer fields shared by every app's API."""

import json
import re

from rest_framework import serializers


def model_char_field(model, name: str, *, field_class=serializers.CharField, **kwargs):
    """A serializer CharField limited as the model's field is: the limit lives in the
    model, once, and a serializer that mirrors it cannot drift."""
    return field_class(max_length=model._meta.get_field(name).max_length, **kwargs)


# PostgreSQL jsonb rejects NUL characters, and no encoder accepts lone surrogates;
# refuse both with a 400 instead of failing at the database.
_FORBIDDEN_IN_JSON = ("\\u0000",)


# Text that is not blank: at least one character Python does not count as
# whitespace (str.isspace, which DRF's trimming strips). Spelled out rather than
# `\S`, whose meaning differs between Python and the ECMA regexes of JSON Schema
# (U+001C…U+001F, U+0085, U+FEFF), so the schema's pattern and the API agree.
NOT_BLANK_PATTERN = (
    "[^\\t\\n\\u000b\\u000c\\r\\u001c-\\u0020\\u0085\\u00a0\\u1680"
    "\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]"
)


class SafeJSONObjectField(serializers.JSONField):
    """A JSON object (dict) that every supported database can store."""

    default_error_messages = {
        "not_a_dict": "Expected a JSON object.",
        "unstorable": "Must not contain NUL characters or unpaired surrogates.",
    }

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        if not isinstance(value, dict):
            self.fail("not_a_dict")
        try:
            encoded = json.dumps(value, ensure_ascii=False)
            encoded.encode("utf-8")
        except (UnicodeEncodeError, ValueError):
            self.fail("unstorable")
        if any(marker in json.dumps(value) for marker in _FORBIDDEN_IN_JSON):
            self.fail("unstorable")
        return value


_WHOLE_NUMBER_TEXT = re.compile(r"^\s*-?\d+\s*$")


def whole_number(value) -> int | None:
    """An integer as a JSON client may send it: a number without a fraction, or plain
    digits as text (an optional '-', no '+', '_', decimals or exponent); None
    otherwise. Booleans are not numbers. DRF's IntegerField also takes "7.0", "+7"
    and "7_0" (70); the API does not."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value) if value.is_integer() else None
    if isinstance(value, str) and len(value) < 50 and _WHOLE_NUMBER_TEXT.match(value):
        return int(value)
    return None


class WholeNumberField(serializers.IntegerField):
    """An integer field read by whole_number (one rule for the serializers and the
    fast ledger validator)."""

    def to_internal_value(self, data):
        number = whole_number(data)
        if number is None:
            self.fail("invalid")
        return number


class TokenCountField(WholeNumberField):
    """A non-negative token count small enough for every database's BIGINT."""

    MAX_TOKENS = 10**15

    def __init__(self, **kwargs):
        kwargs.setdefault("min_value", 0)
        kwargs.setdefault("max_value", self.MAX_TOKENS)
        super().__init__(**kwargs)


class BlankIfNullCharField(serializers.CharField):
    """A text field that accepts JSON null (as older clients send) and stores ''."""

    def __init__(self, **kwargs):
        kwargs.setdefault("allow_null", True)
        kwargs.setdefault("allow_blank", True)
        kwargs.setdefault("required", False)
        kwargs.setdefault("default", "")
        super().__init__(**kwargs)

    def validate_empty_values(self, data):
        if data is None:
            return (True, "")
        return super().validate_empty_values(data)


class NumberField(serializers.FloatField):
    """A JSON number (or its text); DRF's FloatField takes true and false as 1 and 0."""

    def to_internal_value(self, data):
        if isinstance(data, bool):
            self.fail("invalid")
        return super().to_internal_value(data)
