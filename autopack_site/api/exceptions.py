"""One exception handler for the whole API.

Keeps DRF's error shapes: 400 is a dict keyed by field, other 4xx/5xx are
``{"detail": ...}``. Django's ValidationError (from services and full_clean) and
our DomainError subclasses are converted here; the request's transaction is
marked for rollback so a refused request writes nothing.
"""

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import ProtectedError, RestrictedError
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.serializers import as_serializer_error
from rest_framework.views import exception_handler as drf_exception_handler
from rest_framework.views import set_rollback

from autopack_site import db_outage
from autopack_site.errors import DomainError, protected_summary


def exception_handler(exc, context):
    if db_outage.is_database_unavailable(exc):
        set_rollback()
        return Response(
            {"detail": db_outage.DETAIL, "code": db_outage.CODE},
            status=503,
            headers={"Retry-After": str(db_outage.retry_after_seconds())},
        )
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(as_serializer_error(exc))
    if isinstance(exc, DomainError):
        set_rollback()
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
        set_rollback()
        return Response(
            {"detail": f"Cannot delete: {protected_summary(exc)}.", "code": "protected"},
            status=409,
        )
    return drf_exception_handler(exc, context)
