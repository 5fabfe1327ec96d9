from django.apps import AppConfig


class AutopackSiteConfig(AppConfig):
    name = "autopack_site"
    verbose_name = "Autopack Ops"

    def ready(self) -> None:
        # Registers the OpenAPI description of API-key authentication.
        from autopack_site.api import schema  # noqa: F401
