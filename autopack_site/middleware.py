"""Project middleware."""

import logging
import re
import threading
from functools import partial

from django.conf import settings
from django.contrib.auth.middleware import AuthenticationMiddleware
from django.contrib.messages.middleware import MessageMiddleware
from django.contrib.messages.storage import default_storage
from django.contrib.sessions.middleware import SessionMiddleware
from django.core.exceptions import SuspiciousOperation
from django.http import HttpResponse, JsonResponse
from django.utils.functional import SimpleLazyObject, empty

from autopack_site import db_outage
from autopack_site.api.error_views import is_machine_path
from autopack_site.db.sqlite3.base import writes_expected

logger = logging.getLogger(__name__)

NULL_CHARACTER_MESSAGE = "Null characters are not allowed."


class NullCharacterInQuery(SuspiciousOperation):
    """A query-string parameter holds NUL (`?status=%00`)."""


class RejectNullCharactersMiddleware:
    """Refuse a query string holding a NUL character with a 400.

    PostgreSQL text cannot hold NUL, and the admin passes list-filter values
    (`?status=%00`) straight into its query, which then fails with a 500. The
    machine paths answer DRF's field-error shape, as their own filters do; other
    paths get Django's 400 page (and a django.security log entry).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        query = request.META.get("QUERY_STRING", "")
        if "%00" in query or "\x00" in query:
            refused = [
                name
                for name, values in request.GET.lists()
                if "\x00" in name or any("\x00" in value for value in values)
            ]
            if refused:
                if not is_machine_path(request):
                    raise NullCharacterInQuery(f"NUL in query parameters {refused!r}")
                return JsonResponse(
                    {name: [NULL_CHARACTER_MESSAGE] for name in refused}, status=400
                )
        return self.get_response(request)


REPEATED_PARAMETER_MESSAGE = "Give this parameter once."


class RejectRepeatedParametersMiddleware:
    """Refuse a repeated query parameter on the machine paths unless it is a list
    filter (settings.AUTOPACK_LIST_QUERY_PARAMETERS, which a test holds equal to
    the schema's array parameters).

    Otherwise `?limit=5&limit=x` would be read as its last value: a request the
    schema forbids, answered as if it were another one.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if "&" in request.META.get("QUERY_STRING", "") and is_machine_path(request):
            lists = settings.AUTOPACK_LIST_QUERY_PARAMETERS
            repeated = [
                name
                for name, values in request.GET.lists()
                if len(values) > 1 and name not in lists
            ]
            if repeated:
                return JsonResponse(
                    {name: [REPEATED_PARAMETER_MESSAGE] for name in repeated}, status=400
                )
        return self.get_response(request)


class DatabaseUnavailableMiddleware:
    """A database outage met outside DRF's handler (starting the request's
    transaction, a Django view such as the admin) is a 503 with Retry-After, not
    a 500: JSON `{"detail", "code": "database_unavailable"}` on the machine paths,
    a short page elsewhere."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not db_outage.is_database_unavailable(exception):
            return None
        logger.warning("database unavailable: %s %s: %s", request.method, request.path, exception)
        if is_machine_path(request):
            body = {"detail": db_outage.DETAIL, "code": db_outage.CODE}
            response = JsonResponse(body, status=503)
        else:
            response = HttpResponse(db_outage.DETAIL, status=503, content_type="text/plain")
        response["Retry-After"] = str(db_outage.retry_after_seconds())
        return response


# HTTP methods that never write (RFC 9110's safe methods).
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


class TransactionIntentMiddleware:
    """Tells the SQLite backend whether a request's transaction may write: an API
    GET reads its snapshot without taking the write lock, unless its view writes on
    read (`writes_on_read = True` on its class or function, e.g. expiring overdue
    approvals). The admin, little used and writing on read here and there, always
    takes the lock."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            return self.get_response(request)
        finally:
            token = getattr(request, "_writes_expected_token", None)
            if token is not None:
                writes_expected.reset(token)

    def process_view(self, request, view_func, view_args, view_kwargs):
        view_class = getattr(view_func, "cls", None) or getattr(view_func, "view_class", None)
        reads_only = (
            request.method in SAFE_METHODS
            and not request.path.startswith("/admin/")
            and not getattr(view_class, "writes_on_read", False)
            and not getattr(view_func, "writes_on_read", False)  # a function view's mark
        )
        request._writes_expected_token = writes_expected.set(not reads_only)


class IngestionConcurrencyMiddleware:
    """At most AUTOPACK_INGEST_CONCURRENCY ingestion batches run at once in this
    process; the others wait their turn here, before their transaction begins.

    Parsing and validating a 10,000-row batch is CPU-bound Python: fifty at once in
    four processes on two cores leave the health probes seconds behind (PostgreSQL,
    where batches do not wait on each other). A waiting thread costs no CPU and holds
    no database connection or lock, so throughput is unchanged and probes stay fast.
    """

    def __init__(self, get_response):
        self.get_response = get_response
        self.slots = threading.BoundedSemaphore(settings.AUTOPACK_INGEST_CONCURRENCY)
        self.paths = re.compile(settings.AUTOPACK_INGEST_PATHS)

    def __call__(self, request):
        if request.method != "POST" or not self.paths.match(request.path):
            return self.get_response(request)
        with self.slots:
            return self.get_response(request)


def is_key_client_request(request) -> bool:
    """A machine client on a machine path: an API key and no cookie. It has no
    session to load and no CSRF token to check, and its views authenticate it by
    the key (DRF), so sessions, Django's user and messages have nothing to do."""
    known = getattr(request, "_is_key_client", None)
    if known is None:
        meta = request.META
        has_key = bool(meta.get("HTTP_X_API_KEY")) or (
            meta.get("HTTP_AUTHORIZATION", "")[:7].lower() == "bearer "
        )
        known = request._is_key_client = (
            has_key and not meta.get("HTTP_COOKIE") and is_machine_path(request)
        )
    return known


class BrowserOnlyMixin:
    """Django middleware for browsers, passed by for key clients (each cost a
    small API read a twentieth of its time). Subclasses keep Django's name, so the
    admin's system checks still find them."""

    def __call__(self, request):
        if is_key_client_request(request):
            return self.get_response(request)
        return super().__call__(request)


class BrowserSessionMiddleware(BrowserOnlyMixin, SessionMiddleware):
    pass


class BrowserAuthenticationMiddleware(BrowserOnlyMixin, AuthenticationMiddleware):
    pass


class LazyMessageMiddleware(BrowserOnlyMixin, MessageMiddleware):
    """Django's messages, their storage built when a view first uses it. The
    admin's and the dashboard's pages do; an API request never does, and building
    the storage for each one cost a small API request a twentieth of its time."""

    def process_request(self, request):
        request._messages = SimpleLazyObject(partial(default_storage, request))

    def process_response(self, request, response):
        messages = getattr(request, "_messages", None)
        if isinstance(messages, SimpleLazyObject) and messages._wrapped is empty:
            return response  # never used: nothing to store
        return super().process_response(request, response)
