from django.apps import AppConfig


class AssessmentConfig(AppConfig):
    name = "ccmops.assessment"
    label = "assessment"
    verbose_name = "Model-fit assessment"
