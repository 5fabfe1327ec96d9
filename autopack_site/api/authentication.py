"""API-key authentication: `X-API-Key: KEY` or `Authorization: Bearer KEY`.

Keys are stored hashed by djangorestframework-api-key; this class only reads the
two header styles the Autopack executor and operators use, and answers 401
(with a WWW-Authenticate challenge) when a key is missing or wrong.
"""

from dataclasses import dataclass

from django.db.models import BooleanField, ExpressionWrapper, F, Q, QuerySet
from django.db.models.functions import Now
from rest_framework import authentication, exceptions
from rest_framework_api_key.models import APIKey

from autopack_site.api.scopes import ADMIN
from autopack_site.db.prepared import PreparedQuery


@dataclass(frozen=True)
class ApiKeyClient:
    """The caller behind a valid API key (a machine, not a Django user)."""

    name: str
    scope: str = ADMIN
    is_authenticated: bool = True
    is_staff: bool = False
    is_active: bool = True
    pk: None = None


def caller_name(request) -> str:
    """Who made an API request, for audit fields: "api key NAME"."""
    return f"api key {getattr(request.auth, 'name', '')}".strip()


# Authorization schemes of a proxy or SSO in front of the service: left to them.
OTHER_SCHEMES = frozenset({"basic", "digest", "negotiate"})


def _usable_key_query(prefix: str) -> QuerySet:
    """The unrevoked key of a prefix with its scope (None: an admin key) and
    whether it has expired, by the database's clock: the library's
    get_from_key, has_expired and the scope's join, in one query."""
    expired = ExpressionWrapper(Q(expiry_date__lt=Now()), output_field=BooleanField())
    return (
        APIKey.objects.get_usable_keys()
        .filter(prefix=prefix)
        .annotate(expired=expired, scope_name=F("scope__scope"))
        .values("hashed_key", "name", "expired", "scope_name")
    )


# Every request runs it: compiled once (the ORM takes ~0.5 ms to build it).
_USABLE_KEY = PreparedQuery(_usable_key_query, "prefix")


class ApiKeyAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request):
        key = self._read_key(request)
        if key is None:
            return None
        prefix, _, _ = key.partition(".")
        found = _USABLE_KEY.first_row(prefix=prefix)
        if found is None or not APIKey.objects.key_generator.verify(key, found["hashed_key"]):
            raise exceptions.AuthenticationFailed("Invalid API key.")
        if found["expired"]:
            raise exceptions.AuthenticationFailed("API key has expired.")
        client = ApiKeyClient(name=found["name"], scope=found["scope_name"] or ADMIN)
        return client, client

    def authenticate_header(self, request) -> str:
        return self.keyword

    def _read_key(self, request) -> str | None:
        header_key = request.META.get("HTTP_X_API_KEY", "").strip()
        if header_key and not request.META.get("HTTP_AUTHORIZATION"):
            return header_key
        if header_key:
            # Both headers: a Bearer key must be the same key.
            bearer = self._bearer(request)
            if bearer is not None and bearer != header_key:
                raise exceptions.AuthenticationFailed(
                    "X-API-Key and Authorization name different keys; send one."
                )
            return header_key
        return self._bearer(request)

    def _bearer(self, request) -> str | None:
        authorization = request.META.get("HTTP_AUTHORIZATION", "")
        if not authorization:
            return None
        scheme, _, credentials = authorization.partition(" ")
        if scheme.lower() == self.keyword.lower() and credentials.strip():
            return credentials.strip()
        if scheme.lower() in OTHER_SCHEMES and credentials.strip():
            return None  # a proxy's credentials in front of the service, not ours
        # Credentials the API cannot read are refused, not ignored.
        raise exceptions.AuthenticationFailed("Authorization must be 'Bearer <API key>'.")
