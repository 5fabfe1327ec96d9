"""Site-wide records: the scope of each API key."""

from django.db import models
from rest_framework_api_key.models import APIKey

from autopack_site.api.scopes import SCOPES


class ApiKeyScope(models.Model):
    """What a key may do (autopack_site.api.scopes); a key without one is an admin key."""

    key = models.OneToOneField(
        APIKey, on_delete=models.CASCADE, primary_key=True, related_name="scope"
    )
    scope = models.CharField(max_length=10, choices=[(scope, scope) for scope in SCOPES])

    class Meta:
        verbose_name = "API key scope"

    def __str__(self) -> str:
        return f"{self.key.name}: {self.scope}"
