from django.apps import AppConfig


class PatientsConfig(AppConfig):
    name = "ccmops.patients"
    verbose_name = "Patient registry"

    def ready(self) -> None:
        # imported here: an app's modules load only once the app registry is ready
        from ccmops.compliance.audit import expect_chains_of

        expect_chains_of(practices_with_patients)


def practices_with_patients(practice_id: int | None) -> list[int]:
    """Practices (of one practice, or all) that hold patients: each has an audited history, so its audit chain
    must exist (`compliance.audit.verify_chain`)."""
    from ccmops.patients.models import Patient  # models load after the app registry, not with this module

    rows = Patient.objects.order_by().values_list("practice_id", flat=True).distinct()
    return list(rows.filter(practice_id=practice_id) if practice_id is not None else rows)
