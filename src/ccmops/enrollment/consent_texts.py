"""The consent scripts ccmops ships (version 2025.1). A practice's own wording is a new version."""

from __future__ import annotations

import datetime as dt

VERSION = "2025.1"
TEXT = """Your doctor's practice offers {name}: a member of your care team will work with you between visits,
by phone or other means, on a care plan for your chronic conditions, and coordinate with your other providers.
- Medicare Part B cost sharing applies: the deductible and 20% coinsurance (unless you have QMB or other cover).
- Only one practitioner can furnish and be paid for {name} for you in a calendar month.
- You may stop at any time; stopping takes effect at the end of that calendar month.
- Your health information may be shared electronically with your other treating providers for your care.
Do you agree to receive {name} from {{practitioner}}?"""
NAMES = {
    "ccm": "Chronic Care Management",
    "pcm": "Principal Care Management",
    "apcm": "Advanced Primary Care Management",
    "bhi": "Behavioral Health Integration",
}


def ensure_texts(model) -> None:
    """Create the shipped versions if missing (used by the data migration and on first use)."""
    for program, name in NAMES.items():
        model.objects.get_or_create(
            program=program,
            version=VERSION,
            defaults={"text": TEXT.format(name=name), "effective_from": dt.date(2025, 1, 1)},
        )
