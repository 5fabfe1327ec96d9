"""The project's routes and error handlers, plus views that fail, for error-page tests."""

from django.urls import path

from autopack_site.urls import handler400, handler404, handler500  # noqa: F401
from autopack_site.urls import urlpatterns as project_urlpatterns


def fail(request):
    raise RuntimeError("a bug that no view handles")


urlpatterns = [
    path("api/v1/failing", fail),
    path("failing", fail),
    *project_urlpatterns,
]
