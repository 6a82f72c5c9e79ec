from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "ccmops.web"
    verbose_name = "Web interface"
