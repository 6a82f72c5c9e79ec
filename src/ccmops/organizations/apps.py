from django.apps import AppConfig


class OrganizationsConfig(AppConfig):
    name = "ccmops.organizations"
    verbose_name = "Organizations, staff and operating models"
