"""What a care plan must contain before the billing practitioner may approve it (R-PLAN-1, R-PLAN-2; PCM's
disease-specific plan: R-ELIG-3). Pure: takes the plan's content — and what the clinical picture says (`Finding`s:
the current medications, positive screens) — and returns what is missing.

R-PLAN-1 asks for a plan *based on* a physical, mental, psychosocial, functional and environmental assessment with
medication management: so a plan whose medication management does not name the patient's current medications, or
that is silent on a positive depression, anxiety, fall-risk or social-needs screen, is incomplete. A finding is
addressed when the element's text names it (any of its words); the message says what to add."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

# element key -> how a person names it
ELEMENTS: dict[str, str] = {
    "problems": "problem list",
    "expected_outcomes": "expected outcomes and prognosis",
    "goals": "measurable treatment goals",
    "symptom_management": "symptom management",
    "interventions": "planned interventions and who is responsible for each",
    "medication_management": "medication management",
    "community_services": "community and social services",
    "coordination": "coordination with other practitioners and providers",
    "review_schedule": "periodic review schedule",
}
OPTIONAL: dict[str, str] = {
    "functional_assessment": "cognitive and functional assessment",
    "environmental_evaluation": "environmental evaluation",
    "caregiver_assessment": "caregiver assessment",
}


@dataclass(frozen=True)
class Finding:
    """One thing the clinical picture says that the plan must address."""

    element: str  # "medication_management" | "problems" (the problem list and the goals) | "community_services"
    words: tuple[str, ...]  # lower case; the element's text holding any of them addresses it
    need: str  # the message's head, shared by findings of one kind ("medication management: name …")
    label: str  # this finding, as a person reads it ("Lisinopril 10 MG Oral Tablet")


def _element_text(content: Mapping[str, Any], element: str) -> str:
    parts: list[str] = []
    if element in ("problems", "community_services"):
        parts += [str(p.get("condition", "")) for p in content.get("problems") or []]
        parts += [str(g.get("description", "")) for g in content.get("goals") or []]
    if element != "problems":
        parts.append(str(content.get(element) or ""))
    return " ".join(parts).lower()


def unaddressed(content: Mapping[str, Any], findings: Iterable[Finding]) -> list[str]:
    """The findings the plan does not address, one message per kind, in the order first found."""
    grouped: dict[str, list[str]] = {}
    for f in findings:
        if not any(w in _element_text(content, f.element) for w in f.words):
            grouped.setdefault(f.need, []).append(f.label)
    return [f"{need}: {'; '.join(labels)}" for need, labels in grouped.items()]


def _text(value: Any) -> bool:
    return isinstance(value, str) and len(value.strip()) >= 3


def missing_elements(
    content: Mapping[str, Any], *, kind: str = "comprehensive", findings: Iterable[Finding] = ()
) -> list[str]:
    """Every element missing or incomplete, in plan order, each saying what is needed, then every finding of the
    clinical picture the plan does not address. Empty when approvable."""
    out: list[str] = []
    problems = [p for p in content.get("problems") or [] if _text(p.get("condition", ""))]
    if not problems:
        out.append("problem list: list at least one chronic condition")
    elif kind == "comprehensive" and len(problems) < 2:
        out.append("problem list: a comprehensive CCM plan covers the patient's chronic conditions (two or more)")
    elif kind == "disease_specific" and len(problems) != 1:
        out.append("problem list: a disease-specific (PCM) plan is for one principal condition")
    if not _text(content.get("expected_outcomes", "")) or not _text(content.get("prognosis", "")):
        out.append("expected outcomes and prognosis: state both")
    goals = content.get("goals") or []
    if not goals:
        out.append("measurable treatment goals: add at least one goal")
    for i, g in enumerate(goals, start=1):
        if (
            not _text(g.get("description", ""))
            or not _text(g.get("measure", ""))
            or not str(g.get("target", "")).strip()
        ):
            out.append(f"measurable treatment goals: goal {i} needs a description, a measure and a target")
    for key in ("symptom_management", "medication_management", "community_services", "coordination"):
        if not _text(content.get(key, "")):
            out.append(f"{ELEMENTS[key]}: required")
    interventions = content.get("interventions") or []
    if not interventions:
        out.append("planned interventions: add at least one, with who is responsible")
    for i, item in enumerate(interventions, start=1):
        if not _text(item.get("description", "")) or not _text(item.get("responsible", "")):
            out.append(f"planned interventions: intervention {i} needs a description and who is responsible")
    schedule = content.get("review_schedule") or {}
    months = schedule.get("interval_months")
    if not isinstance(months, int) or not 1 <= months <= 12:
        out.append("periodic review schedule: set a review interval of 1 to 12 months")
    return out + unaddressed(content, findings)
