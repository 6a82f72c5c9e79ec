from django.apps import AppConfig


class EnrollmentConfig(AppConfig):
    name = "ccmops.enrollment"
    verbose_name = "Enrollment"

    def ready(self) -> None:
        # imported here: an app's modules load only once the app registry is ready
        from ccmops.enrollment.activation import activate_if_ready
        from ccmops.patients.signals import visit_recorded

        def activate_after_visit(sender, *, patient, visit, by, **kwargs) -> None:
            for program in ("ccm", "pcm", "apcm"):
                activate_if_ready(patient=patient, program=program, by=by)

        visit_recorded.connect(activate_after_visit, dispatch_uid="enrollment.activate_after_visit", weak=False)
