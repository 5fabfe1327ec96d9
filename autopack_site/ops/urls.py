"""Health routes (no key needed). The optional trailing slash: probes are configured by hand."""

from django.urls import re_path

from autopack_site.ops.views import health_view, liveness_view, readiness_view

urlpatterns = [
    re_path(r"^health/?$", health_view, name="health"),
    re_path(r"^health/ready/?$", readiness_view, name="health-ready"),
    re_path(r"^health/live/?$", liveness_view, name="health-live"),
]
