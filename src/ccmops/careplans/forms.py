"""The care-plan editor: one field per element; lists as one line per item, parts separated by `|`."""

from __future__ import annotations

from django import forms

from ccmops.rules.careplan import ELEMENTS, OPTIONAL


def _lines(items: list[dict], keys: tuple[str, ...]) -> str:
    return "\n".join(" | ".join(str(item.get(k, "")) for k in keys).rstrip(" |") for item in items)


def _parse(text: str, keys: tuple[str, ...]) -> list[dict]:
    out = []
    for line in text.splitlines():
        if not line.strip():
            continue
        parts = [p.strip() for p in line.split("|")]
        out.append({k: (parts[i] if i < len(parts) else "") for i, k in enumerate(keys)})
    return out


PROBLEM_KEYS = ("condition", "notes")
GOAL_KEYS = ("description", "measure", "target", "target_date")
INTERVENTION_KEYS = ("description", "responsible", "frequency")


class CarePlanForm(forms.Form):
    lock_version = forms.IntegerField(widget=forms.HiddenInput)
    problems = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4}),
        required=False,
        label=ELEMENTS["problems"].capitalize(),
        help_text="one per line: condition | notes",
    )
    expected_outcomes = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}), required=False, label="Expected outcomes"
    )
    prognosis = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)
    goals = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 5}),
        required=False,
        label=ELEMENTS["goals"].capitalize(),
        help_text="one per line: description | measure | target | target date",
    )
    symptom_management = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)
    interventions = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 5}),
        required=False,
        label=ELEMENTS["interventions"].capitalize(),
        help_text="one per line: description | who is responsible | frequency",
    )
    medication_management = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)
    community_services = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}), required=False, label=ELEMENTS["community_services"].capitalize()
    )
    coordination = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}), required=False, label=ELEMENTS["coordination"].capitalize()
    )
    review_interval_months = forms.IntegerField(
        min_value=1, max_value=12, required=False, label="Review every (months)"
    )
    functional_assessment = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}), required=False, label=OPTIONAL["functional_assessment"].capitalize()
    )
    environmental_evaluation = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        label=OPTIONAL["environmental_evaluation"].capitalize(),
    )
    caregiver_assessment = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}), required=False, label=OPTIONAL["caregiver_assessment"].capitalize()
    )
    change_summary = forms.CharField(max_length=300, required=False, label="What changed")
    substantial_revision = forms.BooleanField(required=False, label="Substantial revision")

    @classmethod
    def initial_from(cls, content: dict, lock_version: int) -> dict:
        return {
            "lock_version": lock_version,
            "problems": _lines(content.get("problems", []), PROBLEM_KEYS),
            "goals": _lines(content.get("goals", []), GOAL_KEYS),
            "interventions": _lines(content.get("interventions", []), INTERVENTION_KEYS),
            "review_interval_months": (content.get("review_schedule") or {}).get("interval_months"),
            **{
                k: content.get(k, "")
                for k in (
                    "expected_outcomes",
                    "prognosis",
                    "symptom_management",
                    "medication_management",
                    "community_services",
                    "coordination",
                    *OPTIONAL,
                )
            },
        }

    def content(self) -> dict:
        d = self.cleaned_data
        return {
            "problems": _parse(d["problems"], PROBLEM_KEYS),
            "goals": _parse(d["goals"], GOAL_KEYS),
            "interventions": _parse(d["interventions"], INTERVENTION_KEYS),
            "review_schedule": {"interval_months": d["review_interval_months"]},
            **{
                k: d[k].strip()
                for k in (
                    "expected_outcomes",
                    "prognosis",
                    "symptom_management",
                    "medication_management",
                    "community_services",
                    "coordination",
                    *OPTIONAL,
                )
            },
        }
