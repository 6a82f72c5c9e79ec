from django.apps import AppConfig


class ClinicalConfig(AppConfig):
    name = "ccmops.clinical"
    label = "clinical"
    verbose_name = "Clinical picture"
    default_auto_field = "django.db.models.BigAutoField"
