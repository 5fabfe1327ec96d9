from rest_framework.routers import SimpleRouter

from replay.api.views import ReplayCampaignViewSet

router = SimpleRouter()
router.register("replay-campaigns", ReplayCampaignViewSet, basename="replay-campaign")

urlpatterns = router.urls
