from django.apps import AppConfig


class TimetrackingConfig(AppConfig):
    name = "ccmops.timetracking"
    verbose_name = "Time tracking"
