"""OpenAPI generation: our authentication scheme, pagination on GET only, list
bounds, and the error answers every operation can give.

The schema is the contract schemathesis checks the live API against: what it
documents must be what the API does, errors included.
"""

from django.core.validators import RegexValidator
from drf_spectacular import openapi
from drf_spectacular.extensions import (
    OpenApiAuthenticationExtension,
    OpenApiSerializerFieldExtension,
)
from drf_spectacular.plumbing import get_lib_doc_excludes, is_list_serializer
from rest_framework import serializers

from autopack_site.api.fields import NOT_BLANK_PATTERN
from autopack_site.api.inputs import InputSerializer


def lib_doc_excludes() -> list[type]:
    """Base classes whose docstrings never describe a schema component: DRF's, and
    our InputSerializer's (about the mechanism, not the body)."""
    return [*get_lib_doc_excludes(), InputSerializer]


class ApiKeyAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "autopack_site.api.authentication.ApiKeyAuthentication"
    name = ["ApiKeyHeader", "BearerKey"]

    def get_security_definition(self, auto_schema):
        return [
            {"type": "apiKey", "in": "header", "name": "X-API-Key"},
            {"type": "http", "scheme": "bearer"},
        ]


class SafeJSONObjectFieldSchema(OpenApiSerializerFieldExtension):
    """The field takes a JSON object only (any other JSON value is a 400)."""

    target_class = "autopack_site.api.fields.SafeJSONObjectField"

    def map_serializer_field(self, auto_schema, direction):
        return {"type": "object", "additionalProperties": {}}


class ErrorSerializer(serializers.Serializer):
    """Every error but a validation error: `{"detail", "code"}`."""

    detail = serializers.CharField()
    code = serializers.CharField(required=False, help_text="Machine-readable reason.")
    fields = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        required=False,
        help_text="The inputs a refusal concerns, with their messages.",
    )


# A 400 or 422 names each refused field with its messages (nested for nested fields),
# or carries `detail` when the body could not be parsed at all.
VALIDATION_ERROR_SCHEMA = {
    "type": "object",
    "additionalProperties": {},
    "description": "Field name → messages; `non_field_errors` for the body as a whole.",
}

RETRY_AFTER_HEADER = {
    "Retry-After": {
        "schema": {"type": "integer", "minimum": 1},
        "description": "Seconds to wait before retrying.",
    }
}

ERROR_DESCRIPTIONS = {
    400: "Invalid input: the request wrote nothing.",
    401: "No API key, or a key that is unknown, revoked or expired.",
    403: "The key lacks the scope this operation needs (the scope is named).",
    404: "No such resource.",
    409: "The request conflicts with the resource's state: nothing was written.",
    413: "The body is larger than the server accepts.",
    414: "The URL is longer than the HTTP server reads (gunicorn's limit_request_line).",
    415: "The body is not JSON.",
    422: "A well-formed body whose values contradict each other or the contract.",
    503: "The database is unavailable, or the feature is switched off; retry later.",
}


# Answered by the HTTP server before the application runs: no JSON body.
ANSWERED_BEFORE_DJANGO = {414}


class AutoSchema(openapi.AutoSchema):
    """The project's schema generator.

    - Pagination is documented only where it happens: on GET (a batch POST that
      answers with a list is not paginated).
    - A list body states the bounds its ListSerializer enforces (minItems, maxItems).
    - Text that may not be blank states so with a pattern.
    - An optional query parameter may be sent empty: it then counts as not given.
    - Every operation documents the errors it can answer (see `error_statuses`);
      a view adds its own with `schema_error_statuses = {"POST": (422,)}`.
    """

    def _get_paginator(self):
        if self.method != "GET":
            return None
        return super()._get_paginator()

    def _map_serializer_field(self, field, direction, bypass_extensions=False):
        schema = super()._map_serializer_field(field, direction, bypass_extensions)
        if (
            direction == "request"
            and isinstance(field, serializers.CharField)
            and field.trim_whitespace
            and not field.allow_blank
            and isinstance(schema, dict)
            and schema.get("type") == "string"
            and "pattern" not in schema
            and not any(isinstance(v, RegexValidator) for v in field.validators)
        ):
            # DRF trims the value, then refuses it blank: only text with a character
            # other than whitespace is taken, which minLength alone does not say.
            schema["pattern"] = NOT_BLANK_PATTERN
        return schema

    def _unwrap_list_serializer(self, serializer, direction):
        schema = super()._unwrap_list_serializer(serializer, direction)
        if schema and is_list_serializer(serializer):
            if serializer.min_length is not None:
                schema["minItems"] = serializer.min_length
            elif not serializer.allow_empty:
                schema["minItems"] = 1
            if serializer.max_length is not None:
                schema["maxItems"] = serializer.max_length
        return schema

    def get_operation(self, path, path_regex, path_prefix, method, registry):
        operation = super().get_operation(path, path_regex, path_prefix, method, registry)
        if operation is None:
            return None
        for parameter in operation.get("parameters", []):
            # The API reads an empty query value as not given (`?to=&state=`, as an
            # HTML form sends them): say so, for every optional one.
            if parameter["in"] == "query" and not parameter.get("required"):
                parameter["allowEmptyValue"] = True
        responses = operation["responses"]
        error = self.resolve_serializer(ErrorSerializer, "response").ref
        declared = {int(code) for code in responses if code.isdigit() and 400 <= int(code) < 600}
        for status in sorted(declared | set(self.error_statuses(operation))):
            documented = responses.get(str(status), {})
            if "content" in documented:
                continue  # a view described this answer's body itself
            # A view may name an error with its reason; its body is always JSON.
            description = documented.get("description", "")
            if description in ("", "No response body"):
                description = ERROR_DESCRIPTIONS.get(status, "Error.")
            response = {"description": description}
            if status not in ANSWERED_BEFORE_DJANGO:
                schema = VALIDATION_ERROR_SCHEMA if status in (400, 422) else error
                response["content"] = {"application/json": {"schema": schema}}
            if status == 503:
                response["headers"] = RETRY_AFTER_HEADER
            responses[str(status)] = response
        return operation

    def error_statuses(self, operation: dict) -> list[int]:
        """The error answers this operation can give, from what it takes."""
        parameters = operation.get("parameters", [])
        statuses = {503}  # any request may find the database down
        if operation.get("security") != [{}]:
            statuses |= {401, 403}
        if "requestBody" in operation:
            # 404: a body may name what does not exist (a phase, a run, a pattern).
            statuses |= {400, 404, 413, 415}
        if any(parameter["in"] == "query" for parameter in parameters):
            statuses |= {400, 414}
        if any(parameter["in"] == "path" for parameter in parameters):
            statuses.add(404)
        if self.method in {"POST", "PUT", "PATCH", "DELETE"}:
            # A domain conflict or a protected row is a 409 on any write.
            statuses.add(409)
        declared = getattr(self.view, "schema_error_statuses", {})
        statuses.update(declared.get(self.method, ()))
        return sorted(statuses)
