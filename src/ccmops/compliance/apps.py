from django.apps import AppConfig


class ComplianceConfig(AppConfig):
    name = "ccmops.compliance"
    verbose_name = "Compliance and audit"

    def ready(self) -> None:
        from ccmops.compliance import signals  # noqa: F401
