from __future__ import annotations

from django import forms
from django.utils import timezone

from ccmops.access.operating_model import PARTNER, PRACTICE, Function, Preset
from ccmops.organizations.models import Organization


class MatrixVersionForm(forms.Form):
    """A new operating model for a practice from a date: a preset, or a custom owner per function."""

    preset = forms.ChoiceField(choices=[(p.value, p.label) for p in Preset])
    partner = forms.ModelChoiceField(queryset=Organization.objects.none(), required=False)
    effective_from = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), max_length=2000)

    def __init__(self, *args, practice: Organization, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["partner"].queryset = Organization.objects.filter(
            practice_engagements__practice=practice
        ).distinct()
        self.fields["effective_from"].initial = timezone.localdate()
        for f in Function:
            choices = [(PRACTICE, "Practice")]
            if f is not Function.CLINICAL_OVERSIGHT:
                choices.append((PARTNER, "Partner"))
            self.fields[f"owner_{f.value}"] = forms.ChoiceField(
                label=f.label, choices=choices, required=False, initial=PRACTICE
            )

    def custom_parties(self) -> dict[Function, str]:
        return {f: self.cleaned_data.get(f"owner_{f.value}") or PRACTICE for f in Function}

    def owner_fields(self):
        return [self[f"owner_{f.value}"] for f in Function]
