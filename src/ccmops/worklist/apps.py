from django.apps import AppConfig


class WorklistConfig(AppConfig):
    name = "ccmops.worklist"
    verbose_name = "Worklists"
