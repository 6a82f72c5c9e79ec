from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "ccmops.billing"
    verbose_name = "Billing"
