"""URL map: health, admin, the v1 API (one flat namespace), OpenAPI, executor routes."""

from django.contrib import admin
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from abtests.api.views import DashboardABResultsView
from metrics.api.health_views import health_view, liveness_view, readiness_view

api_v1 = [
    path("", include("metrics.api.urls")),
    path("", include("abtests.api.urls")),
    path("", include("patterns.api.urls")),
]

urlpatterns = [
    re_path(r"^health/?$", health_view, name="health"),
    re_path(r"^health/ready/?$", readiness_view, name="health-ready"),
    re_path(r"^health/live/?$", liveness_view, name="health-live"),
    path("admin/", admin.site.urls),
    path("api/v1/", include((api_v1, "api"), namespace="v1")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
    re_path(
        r"^dashboard/ab-results/?$", DashboardABResultsView.as_view(), name="dashboard-ab-results"
    ),
    path("", include("metrics.api.executor_urls")),
]

# Outside DRF's views (unknown routes, a refused Host, an unhandled exception) the
# machine paths still answer JSON; see autopack_site.api.error_views.
handler400 = "autopack_site.api.error_views.bad_request"
handler404 = "autopack_site.api.error_views.not_found"
handler500 = "autopack_site.api.error_views.server_error"
