"""URL map, one module per surface: health, admin, the v1 API (one flat namespace),
OpenAPI, Autopack's dashboard and its executor."""

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

# The product's name where Django would say "Django administration".
admin.site.site_header = "Autopack Ops"
admin.site.site_title = "Autopack Ops admin"
admin.site.index_title = "Runs, experiments, failure patterns and replays"

api_v1 = [
    path("", include("metrics.api.urls")),
    path("", include("abtests.api.urls")),
    path("", include("patterns.api.urls")),
    path("", include("replay.api.urls")),
]

urlpatterns = [
    path("", include("autopack_site.ops.urls")),
    path("admin/", admin.site.urls),
    path("api/v1/", include((api_v1, "api"), namespace="v1")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
    path("dashboard/", include("autopack_site.dashboard_urls")),
    path("", include("metrics.api.executor_urls")),
    path("", include("replay.api.executor_urls")),
]

# Outside DRF's views (unknown routes, a refused Host, an unhandled exception) the
# machine paths still answer JSON; see autopack_site.api.error_views.
handler400 = "autopack_site.api.error_views.bad_request"
handler404 = "autopack_site.api.error_views.not_found"
handler500 = "autopack_site.api.error_views.server_error"
