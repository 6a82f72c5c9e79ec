from django.apps import AppConfig


class EhrConfig(AppConfig):
    name = "ccmops.ehr"
    default_auto_field = "django.db.models.BigAutoField"
