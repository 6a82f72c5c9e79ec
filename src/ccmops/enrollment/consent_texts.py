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


# The same script in Spanish, for the patient page (issue 36): a patient whose preferred language is Spanish reads it
# and signs it; the consent keeps the Spanish text as shown.
TEXT_ES = (
    "El consultorio de su médico le ofrece {name}: un miembro de su equipo de atención trabajará con usted entre "
    "consultas, por teléfono u otros medios, en un plan de atención para sus enfermedades crónicas, y coordinará con "
    "sus otros proveedores.\n"
    "- Se aplican los costos compartidos de la Parte B de Medicare: el deducible y el 20% de coseguro (a menos que "
    "tenga QMB u otra cobertura).\n"
    "- Solo un profesional puede prestarle {name} y recibir pago por ello en un mes calendario.\n"
    "- Puede dejarlo en cualquier momento; deja de tener efecto al final de ese mes calendario.\n"
    "- Su información de salud puede compartirse electrónicamente con los otros proveedores que lo atienden.\n"
    "¿Acepta recibir {name} de {{practitioner}}?"
)
NAMES_ES = {
    "ccm": "Gestión de Atención Crónica (CCM)",
    "pcm": "Gestión de Atención Principal (PCM)",
    "apcm": "Gestión Avanzada de Atención Primaria (APCM)",
}


def ensure_texts(model) -> None:
    """Create the shipped versions if missing (used by the data migrations and on first use; the Spanish ones once
    the model has its language)."""
    spanish = any(f.name == "language" for f in model._meta.get_fields())
    for program, name in NAMES_ES.items() if spanish else ():
        model.objects.get_or_create(
            program=program,
            version=f"{VERSION}-es",
            defaults={"text": TEXT_ES.format(name=name), "effective_from": dt.date(2025, 1, 1), "language": "es"},
        )
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
