from django.apps import AppConfig


class DocumentationConfig(AppConfig):
    name = "ccmops.documentation"
    verbose_name = "Documentation"
