from django.apps import AppConfig


class ReportingConfig(AppConfig):
    name = "ccmops.reporting"
    label = "reporting"
    verbose_name = "Program health and capacity"
