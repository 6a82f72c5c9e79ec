from django.apps import AppConfig


class EnrollmentConfig(AppConfig):
    name = "ccmops.enrollment"
    verbose_name = "Enrollment"
