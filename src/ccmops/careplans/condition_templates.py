"""Condition-driven care-plan templates for the common chronic conditions (clinical starting points a care
manager edits; keyed by the rules engine's condition keys)."""

from __future__ import annotations

from typing import Any

T: dict[str, dict[str, Any]] = {
    "hypertension": {
        "goals": [{"description": "Blood pressure at target", "measure": "home/office BP", "target": "< 130/80 mmHg"}],
        "symptoms": "Headache, chest pain, vision change or BP ≥ 180/120: call the practice same day or 911.",
        "interventions": [
            {"description": "Review home BP log monthly", "responsible": "Care manager"},
            {"description": "Adjust antihypertensives as needed", "responsible": "Billing practitioner"},
        ],
        "medications": "Antihypertensive adherence; check for NSAID use and side effects (dizziness, cough).",
    },
    "diabetes": {
        "goals": [
            {"description": "Glycemic control", "measure": "HbA1c", "target": "< 7.5% (individualized)"},
            {
                "description": "Annual diabetic eye and foot exams",
                "measure": "exams documented",
                "target": "both yearly",
            },
        ],
        "symptoms": "Hypoglycemia (shaky, sweaty, confused): 15 g fast sugar and recheck; glucose > 300 twice: call.",
        "interventions": [
            {"description": "Review glucose log and hypoglycemia events", "responsible": "Care manager"},
            {"description": "Order HbA1c every 3–6 months", "responsible": "Billing practitioner"},
        ],
        "medications": "Insulin/oral agent adherence and technique; sick-day rules; supplies on hand.",
    },
    "heart_failure": {
        "goals": [
            {"description": "Avoid HF admissions", "measure": "hospitalizations", "target": "0 in 6 months"},
            {"description": "Daily weights", "measure": "weights logged", "target": "≥ 5 days a week"},
        ],
        "symptoms": "Weight gain > 3 lb in a day or 5 lb in a week, more breathlessness or swelling: call same day.",
        "interventions": [
            {"description": "Weekly weight and symptom check-in", "responsible": "Care manager"},
            {"description": "Diuretic and GDMT titration", "responsible": "Billing practitioner"},
        ],
        "medications": "Diuretic timing, GDMT adherence, potassium and kidney labs as ordered; avoid NSAIDs.",
    },
    "copd": {
        "goals": [
            {"description": "Fewer exacerbations", "measure": "steroid/antibiotic courses", "target": "≤ 1 in 6 months"}
        ],
        "symptoms": "More breathlessness, sputum change or fever: start action plan and call the practice.",
        "interventions": [
            {"description": "Review inhaler technique and action plan", "responsible": "Care manager"},
            {"description": "Pulmonary rehab referral when indicated", "responsible": "Billing practitioner"},
        ],
        "medications": "Maintenance inhaler adherence and technique; rescue inhaler use frequency.",
    },
    "chr_kidney_dis": {
        "goals": [
            {"description": "Slow CKD progression", "measure": "eGFR and UACR", "target": "stable over 12 months"}
        ],
        "symptoms": "Less urine, swelling or confusion: call the practice.",
        "interventions": [
            {"description": "Track labs and nephrotoxic medications", "responsible": "Care manager"},
            {"description": "Nephrology referral if eGFR < 30", "responsible": "Billing practitioner"},
        ],
        "medications": "Renal dosing review; avoid NSAIDs; ACE/ARB/SGLT2 as prescribed.",
    },
    "hyperlipid": {
        "goals": [{"description": "Lipids at target", "measure": "LDL-C", "target": "per risk (< 100 or < 70 mg/dL)"}],
        "symptoms": "Muscle pain on statins: report before stopping.",
        "interventions": [{"description": "Lipid panel yearly", "responsible": "Billing practitioner"}],
        "medications": "Statin adherence and tolerance.",
    },
    "depression": {
        "goals": [{"description": "Fewer depressive symptoms", "measure": "PHQ-9", "target": "< 10 or 50% lower"}],
        "symptoms": "Thoughts of self-harm: 988 Suicide & Crisis Lifeline or 911 now.",
        "interventions": [
            {"description": "PHQ-9 monthly", "responsible": "Care manager"},
            {"description": "Behavioral health referral as needed", "responsible": "Billing practitioner"},
        ],
        "medications": "Antidepressant adherence and side effects; do not stop abruptly.",
    },
    "atrial_fib": {
        "goals": [
            {"description": "Stroke prevention", "measure": "anticoagulation adherence", "target": "no missed doses"}
        ],
        "symptoms": "Palpitations with dizziness, chest pain or stroke signs (FAST): 911.",
        "interventions": [{"description": "Bleeding and adherence check-in", "responsible": "Care manager"}],
        "medications": "Anticoagulant adherence, bleeding precautions, interaction checks.",
    },
    "alzheimer_related": {
        "goals": [
            {"description": "Safety at home", "measure": "falls and wandering events", "target": "0 per quarter"}
        ],
        "symptoms": "Sudden confusion change, falls or wandering: call the practice.",
        "interventions": [{"description": "Caregiver check-in and respite resources", "responsible": "Care manager"}],
        "medications": "Supervised administration; review sedating and anticholinergic drugs.",
    },
    "arthritis": {
        "goals": [
            {"description": "Pain and function", "measure": "pain score and walking distance", "target": "pain ≤ 4/10"}
        ],
        "symptoms": "Hot, swollen joint or fall: call the practice.",
        "interventions": [{"description": "Physical therapy / exercise plan", "responsible": "Care manager"}],
        "medications": "Analgesic safety (NSAID limits, acetaminophen dose).",
    },
}
GENERIC = {
    "goals": [{"description": "Condition stable", "measure": "symptoms and visits", "target": "no unplanned visits"}],
    "symptoms": "New or worsening symptoms: call the practice; emergencies: 911.",
    "interventions": [{"description": "Monthly check-in on this condition", "responsible": "Care manager"}],
    "medications": "Adherence and side effects reviewed monthly.",
}


def template_for(condition_keys: list[str], names: dict[str, str], *, kind: str = "comprehensive") -> dict[str, Any]:
    """A draft plan covering the given conditions (one for a disease-specific plan)."""
    keys = condition_keys[:1] if kind == "disease_specific" else condition_keys
    content: dict[str, Any] = {
        "problems": [],
        "goals": [],
        "interventions": [],
        "expected_outcomes": "",
        "prognosis": "",
        "symptom_management": "",
        "medication_management": "",
        "community_services": "",
        "coordination": "",
        "review_schedule": {"interval_months": 3 if kind == "disease_specific" else 6},
        "functional_assessment": "",
        "environmental_evaluation": "",
        "caregiver_assessment": "",
    }
    symptoms, meds = [], []
    for key in keys:
        name = names.get(key, key)
        t = T.get(key) or {
            **GENERIC,
            "goals": [{**g, "description": f"{name}: {g['description'].lower()}"} for g in GENERIC["goals"]],
            "interventions": [{**i, "description": f"{i['description']} ({name})"} for i in GENERIC["interventions"]],
        }
        content["problems"].append({"condition": name, "key": key, "notes": ""})
        content["goals"] += [{**g, "condition": name, "target_date": ""} for g in t["goals"]]
        content["interventions"] += [{**i, "condition": name} for i in t["interventions"]]
        symptoms.append(f"{name}: {t['symptoms']}")
        meds.append(f"{name}: {t['medications']}")
    content["symptom_management"] = "\n".join(symptoms)
    content["medication_management"] = "\n".join(meds)
    return content
