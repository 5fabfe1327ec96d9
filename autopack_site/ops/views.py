"""Health endpoints: open to anonymous callers, and free of secrets and host names.

Plain Django views rather than DRF ones: no authentication, no content
negotiation, no transaction. A probe must answer even when opening a
transaction would fail, and DRF's error handling would mark an enclosing
transaction for rollback.
"""

from django.db import transaction
from django.http import JsonResponse
from django.views.decorators.http import require_safe

from autopack_site.ops import health

HEALTH_JSON = "application/health+json"


@require_safe
@transaction.non_atomic_requests
def health_view(request):
    """The executor's contract: 200 healthy, 503 unhealthy (database or migrations)."""
    report = health.legacy_health_report()
    return JsonResponse(report, status=200 if report["status"] == "healthy" else 503)


@require_safe
@transaction.non_atomic_requests
def readiness_view(request):
    """IETF health+json: fail (503) on a required dependency, warn (200) on an optional one."""
    report = health.readiness_report()
    status = 503 if report["status"] == health.FAIL else 200
    return JsonResponse(report, status=status, content_type=HEALTH_JSON)


@require_safe
@transaction.non_atomic_requests
def liveness_view(request):
    """The process answers; nothing external is touched."""
    return JsonResponse({"status": health.PASS}, content_type=HEALTH_JSON)
