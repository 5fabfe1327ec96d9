"""The JSON routes Autopack's own dashboard calls, under /dashboard/ (trailing slash
optional, as that dashboard calls them without)."""

from django.urls import re_path

from abtests.api.views import DashboardABResultsView
from metrics.api.consolidated_views import ConsolidatedMetricsView
from metrics.models import IDENTIFIER_PATTERN

urlpatterns = [
    re_path(
        rf"^runs/(?P<run_id>{IDENTIFIER_PATTERN})/consolidated-metrics/?$",
        ConsolidatedMetricsView.as_view(),
        name="dashboard-consolidated-metrics",
    ),
    re_path(r"^ab-results/?$", DashboardABResultsView.as_view(), name="dashboard-ab-results"),
]
