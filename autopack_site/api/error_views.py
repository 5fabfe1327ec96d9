"""Django's error pages for requests that never reach a DRF view.

An unknown route, a refused Host header or an unhandled exception is answered by
Django itself, with an HTML page. The executor and API clients parse JSON, so
under the machine paths they get DRF's shape (`{"detail", "code"}`) instead; the
admin and the docs keep Django's pages.
"""

import re

from django.http import JsonResponse
from django.views import defaults

# Paths answered as JSON: the API (and its schema), the executor's routes
# (approvals included), health, and the JSON routes Autopack's own dashboard calls
# under /dashboard/ (the operators' HTML pages beside them are pages).
MACHINE_PATH_PREFIXES = (
    "/api/",
    "/runs/",
    "/approval/",
    "/clarification/",
    "/health",
)
DASHBOARD_JSON_PATH = re.compile(r"/dashboard/(?:ab-results|runs/[^/]+/consolidated-metrics)/?")


def is_machine_path(request) -> bool:
    path = request.path
    return path.startswith(MACHINE_PATH_PREFIXES) or DASHBOARD_JSON_PATH.fullmatch(path) is not None


def bad_request(request, exception, template_name=defaults.ERROR_400_TEMPLATE_NAME):
    if is_machine_path(request):
        return JsonResponse({"detail": "Bad request.", "code": "bad_request"}, status=400)
    return defaults.bad_request(request, exception, template_name)


def not_found(request, exception, template_name=defaults.ERROR_404_TEMPLATE_NAME):
    if is_machine_path(request):
        return JsonResponse({"detail": "Not found.", "code": "not_found"}, status=404)
    return defaults.page_not_found(request, exception, template_name)


def server_error(request, template_name=defaults.ERROR_500_TEMPLATE_NAME):
    # Nothing about the failure goes to the client; it is in the server's log.
    if is_machine_path(request):
        return JsonResponse({"detail": "Server error.", "code": "server_error"}, status=500)
    return defaults.server_error(request, template_name)
