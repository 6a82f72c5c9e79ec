from django.db import migrations


def forwards(apps, schema_editor):
    from ccmops.enrollment.consent_texts import ensure_texts

    ensure_texts(apps.get_model("enrollment", "ConsentTextVersion"))


class Migration(migrations.Migration):
    dependencies = [("enrollment", "0003_consenttextversion_consent_outreachattempt_and_more")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
