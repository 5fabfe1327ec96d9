from django.urls import path
from rest_framework.routers import SimpleRouter

from patterns.api.views import (
    MergeAnswerView,
    MergeSuggestionsView,
    PatternMatchView,
    PatternViewSet,
)

router = SimpleRouter()
router.register("patterns", PatternViewSet, basename="pattern")

urlpatterns = [
    # Before the router: "match" and "merge-suggestions" are not pattern ids.
    path("patterns/match", PatternMatchView.as_view(), name="pattern-match"),
    path(
        "patterns/merge-suggestions",
        MergeSuggestionsView.as_view(),
        name="pattern-merge-suggestions",
    ),
    path(
        "patterns/merge-suggestions/answers",
        MergeAnswerView.as_view(),
        name="pattern-merge-answers",
    ),
    *router.urls,
]
