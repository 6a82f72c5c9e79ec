"""Note templates per activity type: the fields every note of that kind records (pure data + scoring)."""

from __future__ import annotations

from collections.abc import Mapping

# activity -> [(field, label, required)]
TEMPLATES: dict[str, list[tuple[str, str, bool]]] = {
    "care_coordination_call": [
        ("reason", "Reason for contact", True),
        ("patient_status", "How the patient is doing", True),
        ("actions", "Actions taken", True),
        ("next_steps", "Next steps and who does them", True),
        ("care_plan_goal", "Care-plan goal addressed", False),
    ],
    "medication_reconciliation": [
        ("medications_reviewed", "Medications reviewed (source)", True),
        ("discrepancies", "Discrepancies found", True),
        ("changes_communicated", "Changes communicated to", True),
        ("adherence", "Adherence and barriers", True),
    ],
    "standard_assessment": [
        ("assessment", "Assessment and score", True),
        ("interpretation", "Interpretation", True),
        ("actions", "Actions taken", True),
        ("follow_up", "Follow-up", False),
    ],
    "care_plan_review": [
        ("goals_progress", "Progress on each goal", True),
        ("plan_changes", "Changes to the plan", True),
        ("patient_agreement", "Patient/caregiver agreement", True),
    ],
    "transition_follow_up": [
        ("transition", "Transition (ED visit, admission, discharge) and date", True),
        ("instructions_reviewed", "Discharge instructions reviewed", True),
        ("medications_reconciled", "Medications reconciled", True),
        ("follow_up_appointment", "Follow-up appointment", True),
        ("red_flags", "Warning signs explained", True),
    ],
    "referral_coordination": [
        ("referral_to", "Referred to", True),
        ("reason", "Reason", True),
        ("information_sent", "Information sent (care plan, records)", True),
        ("appointment", "Appointment", False),
    ],
    "community_resource": [
        ("need", "Need identified", True),
        ("resource", "Resource", True),
        ("referral_made", "Referral made", True),
        ("patient_response", "Patient response", False),
    ],
    "record_review": [
        ("records", "Records or results reviewed", True),
        ("findings", "Findings", True),
        ("actions", "Actions taken", True),
    ],
}


def missing_required(activity: str, fields: Mapping[str, str]) -> list[str]:
    return [label for key, label, required in TEMPLATES[activity] if required and len(fields.get(key, "").strip()) < 3]


def completeness(activity: str, fields: Mapping[str, str]) -> int:
    """0–100: required fields count twice as much as optional ones."""
    total = got = 0
    for key, _label, required in TEMPLATES[activity]:
        weight = 2 if required else 1
        total += weight
        if len(fields.get(key, "").strip()) >= 3:
            got += weight
    return round(100 * got / total) if total else 100
