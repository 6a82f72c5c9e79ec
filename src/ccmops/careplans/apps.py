from django.apps import AppConfig


class CareplansConfig(AppConfig):
    name = "ccmops.careplans"
    verbose_name = "Care plans"
