"""The questionnaire as a form (the JSON questionnaire of `ccmops assess` is its source of truth)."""

from __future__ import annotations

from django import forms

SCALE = [(i, f"{i}") for i in range(1, 6)]
STAFF_ROWS = 3


class QuestionnaireForm(forms.Form):
    panel_patients = forms.IntegerField(min_value=0, max_value=1_000_000, label="Patients in the panel")
    medicare_share_pct = forms.IntegerField(min_value=0, max_value=100, label="Medicare share (%)")
    eligible_patients = forms.IntegerField(
        min_value=0, required=False, label="Eligible patients (from screening; blank to estimate)"
    )
    expected_enrollment_pct = forms.IntegerField(
        min_value=0, max_value=100, initial=45, label="Expected enrollment rate (%)"
    )
    ramp_months = forms.IntegerField(min_value=1, max_value=24, initial=6, label="Months to reach full enrollment")
    dedicated_roles = forms.TypedChoiceField(choices=SCALE, coerce=int, initial=3, label="Dedicated CCM roles")
    documentation_habits = forms.TypedChoiceField(choices=SCALE, coerce=int, initial=3)
    time_tracking_habits = forms.TypedChoiceField(choices=SCALE, coerce=int, initial=3)
    leadership_focus = forms.TypedChoiceField(choices=SCALE, coerce=int, initial=3)
    desire_for_control = forms.TypedChoiceField(
        choices=SCALE, coerce=int, initial=3, label="Desire for control (1 hand it off … 5 run it ourselves)"
    )
    managed_price = forms.DecimalField(min_value=0, max_value=500, initial=45, label="Managed: $ per patient-month")
    hybrid_monthly_price = forms.DecimalField(
        min_value=0, max_value=500, initial=32, label="Hybrid, partner runs monthly work: $ per patient-month"
    )
    hybrid_outreach_price = forms.DecimalField(
        min_value=0, max_value=500, initial=24, label="Hybrid, partner calls and enrolls: $ per patient-month"
    )
    partner_consistency_pct = forms.IntegerField(
        min_value=1, max_value=100, initial=85, label="Partner's contracted consistency (% of patients billed)"
    )
    use_measured = forms.BooleanField(
        required=False, initial=True, label="Calibrate with our measured program-health figures"
    )
    seed = forms.IntegerField(initial=1, label="Simulation seed")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for i in range(1, STAFF_ROWS + 1):
            # shown in a table whose header is their visible label; each keeps its own accessible name
            self.fields[f"staff_{i}_role"] = forms.CharField(required=False, max_length=20, label=f"Staff {i} role")
            self.fields[f"staff_{i}_hours"] = forms.DecimalField(
                required=False, min_value=0, max_value=60, label=f"Staff {i} CCM hours a week"
            )
            self.fields[f"staff_{i}_cost"] = forms.DecimalField(
                required=False, min_value=0, max_value=500, label=f"Staff {i} cost per hour ($)"
            )
            for name in (f"staff_{i}_role", f"staff_{i}_hours", f"staff_{i}_cost"):
                self.fields[name].widget.attrs["aria-label"] = self.fields[name].label

    def staff_rows(self):
        return [(self[f"staff_{i}_role"], self[f"staff_{i}_hours"], self[f"staff_{i}_cost"]) for i in range(1, 4)]

    def questionnaire(self, *, practice_name: str, measured: dict | None) -> dict:
        c = self.cleaned_data
        staff = []
        for i in range(1, STAFF_ROWS + 1):
            hours = c.get(f"staff_{i}_hours")
            if hours:
                staff.append(
                    {
                        "role": c.get(f"staff_{i}_role") or "staff",
                        "hours_per_week": float(hours),
                        "cost_per_hour": float(c.get(f"staff_{i}_cost") or 38),
                    }
                )
        q = {
            "practice": practice_name,
            "panel_patients": c["panel_patients"],
            "medicare_share": c["medicare_share_pct"] / 100,
            "expected_enrollment_rate": c["expected_enrollment_pct"] / 100,
            "ramp_months": c["ramp_months"],
            "staff": staff,
            "discipline": {
                k: c[k] for k in ("dedicated_roles", "documentation_habits", "time_tracking_habits", "leadership_focus")
            },
            "desire_for_control": c["desire_for_control"],
            "pricing": {
                "managed_per_patient_month": float(c["managed_price"]),
                "hybrid_monthly_per_patient_month": float(c["hybrid_monthly_price"]),
                "hybrid_outreach_per_patient_month": float(c["hybrid_outreach_price"]),
                "partner_consistency": c["partner_consistency_pct"] / 100,
            },
            "seed": c["seed"],
        }
        if c.get("eligible_patients") is not None:
            q["eligible_patients"] = c["eligible_patients"]
        if c.get("use_measured") and measured:
            q["measured"] = measured
        return q


def initial_from(figures: dict) -> dict:
    initial = {"panel_patients": figures.get("panel_patients", 0)}
    if figures.get("medicare_share") is not None:
        initial["medicare_share_pct"] = round(100 * figures["medicare_share"])
    if figures.get("eligible_patients"):
        initial["eligible_patients"] = figures["eligible_patients"]
    for i, s in enumerate(figures.get("staff", [])[:STAFF_ROWS], start=1):
        initial[f"staff_{i}_role"] = s["role"]
        initial[f"staff_{i}_hours"] = s["hours_per_week"]
        initial[f"staff_{i}_cost"] = s["cost_per_hour"]
    return initial
