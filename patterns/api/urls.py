from django.urls import re_path
from rest_framework.routers import SimpleRouter

from patterns.api.views import (
    MergeAnswerView,
    MergeSuggestionsView,
    PatternMatchView,
    PatternViewSet,
)

router = SimpleRouter()
router.register("patterns", PatternViewSet, basename="pattern")

# A trailing slash like every v1 route; the slash-less paths these routes were first
# published under keep answering (`/?`).
urlpatterns = [
    # Before the router: "match" and "merge-suggestions" are not pattern ids.
    re_path(r"^patterns/match/?$", PatternMatchView.as_view(), name="pattern-match"),
    re_path(
        r"^patterns/merge-suggestions/?$",
        MergeSuggestionsView.as_view(),
        name="pattern-merge-suggestions",
    ),
    re_path(
        r"^patterns/merge-suggestions/answers/?$",
        MergeAnswerView.as_view(),
        name="pattern-merge-answers",
    ),
    *router.urls,
]
