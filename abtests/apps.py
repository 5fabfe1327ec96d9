from django.apps import AppConfig


class AbtestsConfig(AppConfig):
    name = "abtests"
    verbose_name = "A/B results"
