"""Under /dashboard/: the JSON routes Autopack's own dashboard calls (trailing slash
optional, as that dashboard calls them without), and the operators' HTML pages."""

from django.urls import path, re_path

from abtests.api.views import DashboardABResultsView
from autopack_site.dashboard import views as pages
from metrics.api.consolidated_views import ConsolidatedMetricsView
from metrics.models import IDENTIFIER_PATTERN
from patterns.mining.describe import PATTERN_ID

app_name = "dashboard"

urlpatterns = [
    path("", pages.overview, name="overview"),
    path("runs/", pages.runs, name="runs"),
    re_path(rf"^runs/(?P<run_id>{IDENTIFIER_PATTERN})/$", pages.run_detail, name="run-detail"),
    path("ab/", pages.ab_tests, name="ab-tests"),
    re_path(rf"^ab/(?P<test_id>{IDENTIFIER_PATTERN})/$", pages.ab_test_detail, name="ab-test"),
    path("patterns/", pages.patterns, name="patterns"),
    re_path(
        rf"^patterns/(?P<pattern_id>{PATTERN_ID.pattern})/(?P<kind>detector|backlog)/$",
        pages.pattern_file,
        name="pattern-file",
    ),
    path("replays/", pages.replays, name="replays"),
    path("replays/dry-run/", pages.replay_dry_run, name="replay-dry-run"),
    re_path(
        rf"^replays/(?P<campaign_id>{IDENTIFIER_PATTERN})/$", pages.replay_detail, name="replay"
    ),
    re_path(
        rf"^replays/(?P<campaign_id>{IDENTIFIER_PATTERN})/attempts/(?P<attempt_id>[0-9]+)/report/$",
        pages.replay_report,
        name="replay-report",
    ),
    path("approvals/", pages.approvals, name="approvals"),
    path("approvals/<int:approval_id>/decide/", pages.approval_decide, name="approval-decide"),
    re_path(
        rf"^runs/(?P<run_id>{IDENTIFIER_PATTERN})/consolidated-metrics/?$",
        ConsolidatedMetricsView.as_view(),
        name="dashboard-consolidated-metrics",
    ),
    re_path(r"^ab-results/?$", DashboardABResultsView.as_view(), name="dashboard-ab-results"),
]
