"""URL map, one module per surface: health, admin, the v1 API (one flat namespace),
OpenAPI, Autopack's dashboard and its executor."""

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from abtests.api import urls as abtests_api_urls
from autopack_site.ops import urls as ops_urls
from metrics.api import executor_urls as metrics_executor_urls
from metrics.api import urls as metrics_api_urls
from patterns.api import urls as patterns_api_urls
from replay.api import executor_urls as replay_executor_urls
from replay.api import urls as replay_api_urls

# The product's name where Django would say "Django administration".
admin.site.site_header = "Autopack Ops"
admin.site.site_title = "Autopack Ops admin"
admin.site.index_title = "Runs, experiments, failure patterns and replays"

# Flat lists, not nested includes: each level of include() costs every request a
# resolver (and a ResolverMatch) on its way down. The API, the busiest, comes first.
api_v1 = [
    *metrics_api_urls.urlpatterns,
    *abtests_api_urls.urlpatterns,
    *patterns_api_urls.urlpatterns,
    *replay_api_urls.urlpatterns,
]

urlpatterns = [
    path("api/v1/", include((api_v1, "api"), namespace="v1")),
    *metrics_executor_urls.urlpatterns,
    *replay_executor_urls.urlpatterns,
    *ops_urls.urlpatterns,
    path("admin/", admin.site.urls),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
    path("dashboard/", include("autopack_site.dashboard_urls")),
]

# Outside DRF's views (unknown routes, a refused Host, an unhandled exception) the
# machine paths still answer JSON; see autopack_site.api.error_views.
handler400 = "autopack_site.api.error_views.bad_request"
handler404 = "autopack_site.api.error_views.not_found"
handler500 = "autopack_site.api.error_views.server_error"
