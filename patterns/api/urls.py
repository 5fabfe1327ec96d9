from django.urls import path
from rest_framework.routers import SimpleRouter

from patterns.api.views import PatternMatchView, PatternViewSet

router = SimpleRouter()
router.register("patterns", PatternViewSet, basename="pattern")

urlpatterns = [
    # Before the router: "match" is not a pattern id.
    path("patterns/match", PatternMatchView.as_view(), name="pattern-match"),
    *router.urls,
]
