from django.apps import AppConfig


class PatientsConfig(AppConfig):
    name = "ccmops.patients"
    verbose_name = "Patient registry"
