from django.urls import re_path
from rest_framework.routers import SimpleRouter

from metrics.api.approval_urls import v1_urlpatterns as approval_urlpatterns
from metrics.api.consolidated_views import ConsolidatedMetricsView, DailyMetricsView
from metrics.api.views import PhaseDetailView, RunViewSet
from metrics.models import IDENTIFIER_PATTERN

router = SimpleRouter()
router.register("runs", RunViewSet, basename="run")

urlpatterns = [
    *router.urls,
    re_path(
        rf"^runs/(?P<run_id>{IDENTIFIER_PATTERN})/phases/(?P<phase_id>{IDENTIFIER_PATTERN})/$",
        PhaseDetailView.as_view(),
        name="run-phase-detail",
    ),
    re_path(
        rf"^runs/(?P<run_id>{IDENTIFIER_PATTERN})/consolidated-metrics/$",
        ConsolidatedMetricsView.as_view(),
        name="run-consolidated-metrics",
    ),
    re_path(r"^metrics/daily/$", DailyMetricsView.as_view(), name="metrics-daily"),
    *approval_urlpatterns,
]
