"""The 2026-12 revision of cms-rules.md settled two named policies as rules (R-CONS-6, R-APCM-4): a practice's
stored override of either is removed (the engine refuses the names)."""

from django.db import migrations

RETIRED = ("ccm_consent_covers_apcm", "apcm_recent_care_management_waives_visit")


def forwards(apps, schema_editor):
    Organization = apps.get_model("organizations", "Organization")
    for org in Organization.objects.exclude(rule_policies={}):
        policies = dict(org.rule_policies or {})
        if any(name in policies for name in RETIRED):
            for name in RETIRED:
                policies.pop(name, None)
            Organization.objects.filter(pk=org.pk).update(rule_policies=policies)


class Migration(migrations.Migration):
    dependencies = [("organizations", "0011_engagement_end")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
