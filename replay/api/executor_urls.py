"""The executor route the replay app serves (no trailing slash, as Autopack calls it)."""

from django.urls import re_path

from metrics.models import IDENTIFIER_PATTERN
from replay.api.executor_views import RunExecuteView

urlpatterns = [
    re_path(
        rf"^runs/(?P<run_id>{IDENTIFIER_PATTERN})/execute$",
        RunExecuteView.as_view(),
        name="executor-run-execute",
    ),
]
