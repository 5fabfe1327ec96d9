from rest_framework.routers import SimpleRouter

from abtests.api.views import ABTestResultViewSet

router = SimpleRouter()
router.register("ab-results", ABTestResultViewSet, basename="ab-result")

urlpatterns = router.urls
