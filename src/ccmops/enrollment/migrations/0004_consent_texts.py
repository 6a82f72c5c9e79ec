import datetime

from django.db import migrations

TEXT = """Your doctor's practice offers {name}: a member of your care team will work with you between visits,
by phone or other means, on a care plan for your chronic conditions, and coordinate with your other providers.
- Medicare Part B cost sharing applies: the deductible and 20% coinsurance (unless you have QMB or other cover).
- Only one practitioner can furnish and be paid for {name} for you in a calendar month.
- You may stop at any time; stopping takes effect at the end of that calendar month.
- Your health information may be shared electronically with your other treating providers for your care.
Do you agree to receive {name} from {{practitioner}}?"""

NAMES = {"ccm": "Chronic Care Management", "pcm": "Principal Care Management",
         "apcm": "Advanced Primary Care Management", "bhi": "Behavioral Health Integration"}


def forwards(apps, schema_editor):
    ConsentTextVersion = apps.get_model("enrollment", "ConsentTextVersion")
    for program, name in NAMES.items():
        ConsentTextVersion.objects.get_or_create(
            program=program, version="2025.1",
            defaults={"text": TEXT.format(name=name), "effective_from": datetime.date(2025, 1, 1)},
        )


class Migration(migrations.Migration):
    dependencies = [("enrollment", "0003_consenttextversion_consent_outreachattempt_and_more")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
