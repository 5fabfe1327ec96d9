"""Autopack executor routes (no trailing slashes, as Autopack calls them)."""

from django.urls import path, re_path

from metrics.api import executor_views as views
from metrics.api.approval_urls import executor_urlpatterns as approval_urlpatterns
from metrics.models import IDENTIFIER_PATTERN

RUN = rf"(?P<run_id>{IDENTIFIER_PATTERN})"
PHASE = rf"(?P<phase_id>{IDENTIFIER_PATTERN})"

urlpatterns = [
    path("runs/start", views.RunStartView.as_view(), name="executor-run-start"),
    re_path(rf"^runs/{RUN}/status$", views.RunStatusView.as_view(), name="executor-run-status"),
    re_path(
        rf"^runs/{RUN}/phases/{PHASE}/update_status$",
        views.PhaseStatusUpdateView.as_view(),
        name="executor-phase-update-status",
    ),
    re_path(
        rf"^runs/{RUN}/phases/{PHASE}/builder_result$",
        views.BuilderResultView.as_view(),
        name="executor-builder-result",
    ),
    re_path(
        rf"^runs/{RUN}/phases/{PHASE}/auditor_result$",
        views.AuditorResultView.as_view(),
        name="executor-auditor-result",
    ),
    re_path(rf"^runs/{RUN}$", views.ExecutorRunView.as_view(), name="executor-run-detail"),
    *approval_urlpatterns,
]
