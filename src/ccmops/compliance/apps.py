from django.apps import AppConfig


class ComplianceConfig(AppConfig):
    name = "ccmops.compliance"
    verbose_name = "Compliance and audit"

    def ready(self) -> None:
        # imported here: an app's modules load only once the app registry is ready
        from ccmops.compliance import signals  # noqa: F401
