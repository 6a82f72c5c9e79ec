from django.apps import AppConfig


class InteropConfig(AppConfig):
    name = "ccmops.interop"
    verbose_name = "Imports and exports (FHIR, Bulk FHIR, CSV)"
