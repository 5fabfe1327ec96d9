"""One exception handler for the whole API.

Keeps DRF's error shapes: 400 is a dict keyed by field, other 4xx/5xx are
``{"detail": ...}``. Django's ValidationError (from services and full_clean) and
our DomainError subclasses are converted here; the request's transaction is
marked for rollback so a refused request writes nothing. A view outside the
request transaction (`transaction.non_atomic_requests`) has none to mark.
"""

from django.conf import settings
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.db.models import ProtectedError, RestrictedError
from django.http import Http404
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.serializers import as_serializer_error

from autopack_site import db_outage
from autopack_site.errors import DomainError, protected_summary


def _outside_request_transaction(context) -> set[str]:
    """The databases the view runs without a request transaction on."""
    dispatch = getattr(type(context.get("view")), "dispatch", None)
    return getattr(dispatch, "_non_atomic_requests", set())


def _rollback_request_transaction(context) -> None:
    """Mark the request's transaction, where there is one, for rollback (DRF's
    set_rollback, minus the databases the view runs outside a transaction on:
    on those it would mark an enclosing block, a test's, instead)."""
    outside = _outside_request_transaction(context)
    for alias in settings.DATABASES:
        connection = transaction.get_connection(alias)
        if (
            alias not in outside
            and connection.settings_dict["ATOMIC_REQUESTS"]
            and connection.in_atomic_block
        ):
            connection.set_rollback(True)


def _api_exception_response(exc, context):
    """DRF's shapes and headers for its own exceptions (and Django's Http404 and
    PermissionDenied), with our rollback rule instead of DRF's set_rollback();
    None for anything else, which DRF then raises as a 500."""
    if isinstance(exc, Http404):
        exc = exceptions.NotFound(*exc.args)
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(*exc.args)
    if not isinstance(exc, exceptions.APIException):
        return None
    headers = {}
    if getattr(exc, "auth_header", None):
        headers["WWW-Authenticate"] = exc.auth_header
    if getattr(exc, "wait", None):
        headers["Retry-After"] = str(int(exc.wait))
    data = exc.detail if isinstance(exc.detail, (list, dict)) else {"detail": exc.detail}
    _rollback_request_transaction(context)
    return Response(data, status=exc.status_code, headers=headers)


def exception_handler(exc, context):
    if db_outage.is_database_unavailable(exc):
        _rollback_request_transaction(context)
        return Response(
            {"detail": db_outage.DETAIL, "code": db_outage.CODE},
            status=503,
            headers={"Retry-After": str(db_outage.retry_after_seconds())},
        )
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(as_serializer_error(exc))
    if isinstance(exc, DomainError):
        _rollback_request_transaction(context)
        body = {"detail": exc.detail, "code": exc.code}
        if exc.fields:
            body["fields"] = exc.fields
        return Response(body, status=exc.status_code)
    if isinstance(exc, RequestDataTooBig):
        # Raised while DRF reads the body; unhandled, Django would answer an HTML 400.
        return Response(
            {
                "detail": f"Request body exceeds {settings.DATA_UPLOAD_MAX_MEMORY_SIZE:,} bytes.",
                "code": "request_too_large",
            },
            status=413,
        )
    if isinstance(exc, (ProtectedError, RestrictedError)):
        # Deleting a row that other records (e.g. A/B results, an audit trail)
        # still point at: a conflict for the client to resolve, never a 500.
        _rollback_request_transaction(context)
        return Response(
            {"detail": f"Cannot delete: {protected_summary(exc)}.", "code": "protected"},
            status=409,
        )
    return _api_exception_response(exc, context)
