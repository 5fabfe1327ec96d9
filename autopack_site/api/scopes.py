"""API key scopes, least privilege first: `read` (GET and the like), `ingest` (what an
executor needs: create runs, report phases, results, ledger rows and events, ask for
approvals) and `admin` (everything: deleting, deciding, running campaigns). Each
scope includes the ones before it. A key without a scope is an admin key, as every
key was before scopes existed.

A view names the scope its writes need (`write_scope`, or per action
`write_scopes`); reads need `read`, and a write not named needs `admin`.
"""

from rest_framework import permissions
from rest_framework.exceptions import PermissionDenied

READ, INGEST, ADMIN = "read", "ingest", "admin"
SCOPES = (READ, INGEST, ADMIN)


def grants(held: str, needed: str) -> bool:
    return SCOPES.index(held) >= SCOPES.index(needed)


def required_scope(request, view) -> str:
    if request.method in permissions.SAFE_METHODS:
        return READ
    per_action = getattr(view, "write_scopes", {})
    action = getattr(view, "action", None)
    if action in per_action:
        return per_action[action]
    return getattr(view, "write_scope", ADMIN)


def held_scope(request) -> str:
    """The key's scope; a signed-in staff member (browser, API docs) is an admin,
    another signed-in user a reader."""
    scope = getattr(request.user, "scope", None)
    if scope is not None:
        return scope
    return ADMIN if getattr(request.user, "is_staff", False) else READ


class MissingScope(PermissionDenied):
    default_code = "missing_scope"

    def __init__(self, needed: str):
        super().__init__(
            {
                "detail": f"This key lacks the {needed!r} scope this request needs.",
                "code": self.default_code,
                "required_scope": needed,
            }
        )


class HasScope(permissions.BasePermission):
    """Authenticated, with a scope that covers the request (403 naming the one missing)."""

    def has_permission(self, request, view) -> bool:
        if not (request.user and request.user.is_authenticated):
            return False
        needed = required_scope(request, view)
        if not grants(held_scope(request), needed):
            raise MissingScope(needed)
        return True
