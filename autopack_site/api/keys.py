"""Creating API keys with their scope (one place for the command, campaigns, benchmarks)."""

from django.db import transaction
from rest_framework_api_key.models import APIKey

from autopack_site.api.scopes import SCOPES
from autopack_site.models import ApiKeyScope


@transaction.atomic
def api_key_create(*, name: str, scope: str) -> tuple[APIKey, str]:
    """A key named `name` with `scope`; returns it and the secret (shown only now)."""
    if scope not in SCOPES:
        raise ValueError(f"unknown scope {scope!r}; one of {', '.join(SCOPES)}")
    api_key, secret = APIKey.objects.create_key(name=name)
    ApiKeyScope.objects.create(key=api_key, scope=scope)
    return api_key, secret
