"""Project middleware."""

from django.core.exceptions import SuspiciousOperation
from django.http import JsonResponse

from autopack_site.api.error_views import is_machine_path

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
