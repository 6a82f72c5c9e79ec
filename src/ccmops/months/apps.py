from django.apps import AppConfig


class MonthsConfig(AppConfig):
    name = "ccmops.months"
    verbose_name = "Patient-month ledger"
