from django.apps import AppConfig
from django.utils.module_loading import autodiscover_modules


class JobsConfig(AppConfig):
    name = "ccmops.jobs"
    verbose_name = "Background jobs"

    def ready(self) -> None:
        # Each app declares its kinds of job (and scheduled ones) in its own `jobs` module, as Django's admin
        # finds `admin` modules: this layer never imports the apps above it.
        autodiscover_modules("jobs")
