"""OpenAPI generation tweaks: our authentication scheme and pagination on GET only."""

from drf_spectacular import openapi
from drf_spectacular.extensions import OpenApiAuthenticationExtension


class ApiKeyAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "autopack_site.api.authentication.ApiKeyAuthentication"
    name = ["ApiKeyHeader", "BearerKey"]

    def get_security_definition(self, auto_schema):
        return [
            {"type": "apiKey", "in": "header", "name": "X-API-Key"},
            {"type": "http", "scheme": "bearer"},
        ]


class AutoSchema(openapi.AutoSchema):
    """Document pagination only where it happens: on GET.

    A batch POST that answers with a list (e.g. created events) is not paginated,
    but drf-spectacular would describe it with the view's paginator.
    """

    def _get_paginator(self):
        if self.method != "GET":
            return None
        return super()._get_paginator()
