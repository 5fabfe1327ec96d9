"""Request bodies take JSON types exactly as the schema states them, and every body
serializer is held to that (autopack_site.api.inputs)."""

import functools

import pytest
from drf_spectacular.generators import SchemaGenerator
from hypothesis import given, settings
from hypothesis import strategies as st
from rest_framework import serializers

from autopack_site.api.inputs import InputSerializer, json_type_error

JSON_SCALARS = {
    "string": st.text(max_size=5),
    "integer": st.integers(-(10**6), 10**6),
    "number": st.floats(allow_nan=False, allow_infinity=False).filter(lambda x: x != int(x)),
    "boolean": st.booleans(),
    "array": st.lists(st.integers(), max_size=2),
    "object": st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
}
# The JSON types each field takes (a float with no fraction is still a number).
TAKES = [
    (serializers.CharField(), {"string"}),
    (serializers.DateTimeField(), {"string"}),
    (serializers.IntegerField(), {"integer"}),
    (serializers.FloatField(), {"integer", "number"}),
    (serializers.BooleanField(), {"boolean"}),
    (serializers.ChoiceField(choices=["a", "b"]), {"string"}),
    (serializers.ChoiceField(choices=[1, 2]), {"integer"}),
    (serializers.JSONField(), set(JSON_SCALARS)),
]


@pytest.mark.parametrize("field, takes", TAKES, ids=[type(f).__name__ for f, _ in TAKES])
@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_each_field_takes_its_json_types_only(field, takes, data):
    kind = data.draw(st.sampled_from(sorted(JSON_SCALARS)))
    value = data.draw(JSON_SCALARS[kind])
    assert (json_type_error(field, value) is None) == (kind in takes), (kind, value)


def test_null_is_left_to_the_field_and_lists_name_the_bad_items():
    assert json_type_error(serializers.IntegerField(), None) is None
    strings = serializers.ListField(child=serializers.CharField())
    assert json_type_error(strings, ["a", 1, "c", True]) == {
        1: ["Not a valid string."],
        3: ["Not a valid string."],
    }
    counts = serializers.DictField(child=serializers.IntegerField())
    assert json_type_error(counts, {"a": 1, "b": "2"}) == {"b": ["A valid integer is required."]}


def _request_body_serializers() -> list[serializers.Serializer]:
    """Every serializer the published schema describes a request body with,
    nested bodies included."""
    generator = SchemaGenerator()
    schema = generator.get_schema(request=None, public=True)
    by_ref = {
        f"#/components/schemas/{name}": component.object
        for (name, kind), component in generator.registry._components.items()
        if kind == "schemas"
    }
    found, pending = {}, []

    def collect(node):
        if isinstance(node, dict):
            if isinstance(node.get("$ref"), str) and node["$ref"] not in found:
                found[node["$ref"]] = by_ref[node["$ref"]]
                pending.append(schema["components"]["schemas"][node["$ref"].rsplit("/", 1)[1]])
            for value in node.values():
                collect(value)
        elif isinstance(node, list):
            for value in node:
                collect(value)

    for path in schema["paths"].values():
        for operation in path.values():
            if isinstance(operation, dict) and "requestBody" in operation:
                collect(operation["requestBody"])
    while pending:
        collect(pending.pop())
    return [body for body in found.values() if isinstance(body, serializers.BaseSerializer)]


def test_every_request_body_checks_json_types():
    bodies = _request_body_serializers()
    assert len(bodies) > 15
    unchecked = sorted(
        type(body).__name__ for body in bodies if not isinstance(body, InputSerializer)
    )
    assert unchecked == []


@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_a_body_field_of_another_json_type_is_refused_by_name(data):
    """Property: whatever the body and the field, a value of a JSON type the field
    does not take is a field error naming it (never coerced, never accepted)."""
    body = data.draw(st.sampled_from(_typed_bodies()), label="body")
    name, takes = data.draw(st.sampled_from(_typed_fields(body)), label="field")
    kind = data.draw(st.sampled_from(sorted(set(JSON_SCALARS) - takes)), label="kind")
    value = data.draw(JSON_SCALARS[kind], label="value")
    serializer = type(body)(data={name: value})
    assert not serializer.is_valid()
    assert name in serializer.errors, (type(body).__name__, name, value, serializer.errors)


def _json_types_taken(field: serializers.Field) -> set[str] | None:
    """The JSON types a scalar field takes, or None for any other field."""
    if isinstance(field, serializers.BooleanField):
        return {"boolean"}
    if isinstance(field, serializers.IntegerField):
        return {"integer"}
    if isinstance(field, serializers.FloatField):
        return {"integer", "number"}
    if isinstance(field, serializers.MultipleChoiceField):
        return None
    if isinstance(field, serializers.ChoiceField):
        return {"string"} if all(isinstance(key, str) for key in field.choices) else None
    if isinstance(field, (serializers.CharField, serializers.DateTimeField, serializers.DateField)):
        return {"string"}
    return None


def _typed_fields(body: serializers.Serializer) -> list[tuple[str, set[str]]]:
    return [
        (name, takes)
        for name, field in body.fields.items()
        if not field.read_only and (takes := _json_types_taken(field)) is not None
    ]


@functools.cache
def _typed_bodies() -> list[serializers.Serializer]:
    return [body for body in _request_body_serializers() if _typed_fields(body)]


def test_the_not_blank_pattern_is_python_whitespace_exactly():
    import re
    import sys

    from autopack_site.api.fields import NOT_BLANK_PATTERN

    pattern = re.compile(NOT_BLANK_PATTERN)
    mismatched = [
        hex(code)
        for code in range(sys.maxunicode + 1)
        if (pattern.search(chr(code)) is None) != chr(code).isspace()
    ]
    assert mismatched == []


@settings(max_examples=300, deadline=None)
@given(
    text=st.text(alphabet=st.sampled_from(" \t\x1c\x1d\x85\u3000\ufeffa\u00e9\u200b"), max_size=6)
)
def test_schema_and_api_agree_on_what_text_is_blank(text):
    """A required text field takes exactly the strings its published pattern matches."""
    import re

    from autopack_site.api.fields import NOT_BLANK_PATTERN
    from metrics.api.approval_serializers import RejectionSerializer

    accepted = RejectionSerializer(data={"reason": text}).is_valid()
    assert accepted == (len(text) >= 1 and re.search(NOT_BLANK_PATTERN, text) is not None)


def test_every_text_field_that_may_not_be_blank_says_so_in_the_schema():
    """A trimmed text field that refuses blank text carries the not-blank pattern (or
    its own), so a client reading the schema knows "\\u001d" is refused."""
    generator = SchemaGenerator()
    schema = generator.get_schema(request=None, public=True)
    checked = 0
    for (name, kind), component in generator.registry._components.items():
        body = component.object
        if kind != "schemas" or not name.endswith("Request"):
            continue
        if not isinstance(body, serializers.Serializer):
            continue
        properties = schema["components"]["schemas"][name].get("properties", {})
        for field_name, field in body.fields.items():
            if (
                type(field) in (serializers.CharField, serializers.RegexField)
                and field.trim_whitespace
                and not field.allow_blank
                and not field.read_only
            ):
                assert "pattern" in properties[field_name], (name, field_name)
                checked += 1
    assert checked >= 10
