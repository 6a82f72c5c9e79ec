"""The consent scripts ccmops ships (version 2025.1). A practice's own wording is a new version."""

from __future__ import annotations

import datetime as dt

VERSION = "2025.1"
BHI_VERSION = "2026.1"  # adds the permission to consult specialists (R-CONS-7)
TEXT = """Your doctor's practice offers {name}: a member of your care team will work with you between visits,
by phone or other means, on a care plan for your chronic conditions, and coordinate with your other providers.
- Medicare Part B cost sharing applies: the deductible and 20% coinsurance (unless you have QMB or other cover).
- Only one practitioner can furnish and be paid for {name} for you in a calendar month.
- You may stop at any time; stopping takes effect at the end of that calendar month.
- Your health information may be shared electronically with your other treating providers for your care.
Do you agree to receive {name} from {{practitioner}}?"""
SPECIALISTS = (
    "- With your permission, your care team may consult relevant specialists about your care (for collaborative "
    "care, a psychiatric consultant).\n"
)
NAMES = {
    "ccm": "Chronic Care Management",
    "pcm": "Principal Care Management",
    "apcm": "Advanced Primary Care Management",
    "bhi": "Behavioral Health Integration",
}


def ensure_texts(model) -> None:
    """Create the shipped versions if missing (used by the data migrations and on first use)."""
    for program, name in NAMES.items():
        model.objects.get_or_create(
            program=program,
            version=VERSION,
            defaults={"text": TEXT.format(name=name), "effective_from": dt.date(2025, 1, 1)},
        )
    last_line = TEXT.rindex("\nDo you agree")
    bhi = TEXT[: last_line + 1] + SPECIALISTS + TEXT[last_line + 1 :]
    model.objects.get_or_create(
        program="bhi",
        version=BHI_VERSION,
        defaults={"text": bhi.format(name=NAMES["bhi"]), "effective_from": dt.date(2026, 12, 1)},
    )
