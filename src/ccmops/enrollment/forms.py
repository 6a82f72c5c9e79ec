from __future__ import annotations

from django import forms
from django.utils import timezone

from ccmops.enrollment.models import ALL_CONSENT_ELEMENTS, STATUSES, OutreachAttempt
from ccmops.organizations.models import Practitioner
from ccmops.patients.services import VISIT_KINDS

PROGRAM_CHOICES = [("ccm", "CCM"), ("pcm", "PCM"), ("apcm", "APCM")]


def _labelled(label: str) -> forms.Select:
    """A select shown without a visible label (the patient page's compact forms) keeps an accessible name."""
    return forms.Select(attrs={"aria-label": label})


class OutreachForm(forms.Form):
    program = forms.ChoiceField(choices=PROGRAM_CHOICES, widget=_labelled("Program"))
    channel = forms.ChoiceField(choices=OutreachAttempt.CHANNELS, widget=_labelled("Channel"))
    outcome = forms.ChoiceField(choices=OutreachAttempt.OUTCOMES, widget=_labelled("Outcome"))
    note = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2, "aria-label": "Note"}))


class StatusForm(forms.Form):
    program = forms.ChoiceField(choices=PROGRAM_CHOICES, widget=_labelled("Program"))
    status = forms.ChoiceField(choices=STATUSES, widget=_labelled("New status"))
    reason = forms.CharField(required=False, max_length=500)


class ConsentForm(forms.Form):
    program = forms.ChoiceField(choices=[*PROGRAM_CHOICES, ("bhi", "BHI")])
    practitioner = forms.ModelChoiceField(queryset=Practitioner.objects.none(), label="Billing practitioner")
    method = forms.ChoiceField(choices=[("verbal", "Verbal"), ("written", "Written"), ("electronic", "Electronic")])
    documented_at = forms.DateTimeField(
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}), label="Consent obtained at"
    )
    elements = forms.MultipleChoiceField(
        choices=ALL_CONSENT_ELEMENTS,
        widget=forms.CheckboxSelectMultiple,
        label="Explained to the patient",
        required=False,
    )
    representative_name = forms.CharField(required=False, label="Patient representative (if any)")
    representative_relationship = forms.CharField(required=False, label="Representative's relationship")
    note = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, patient, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["practitioner"].queryset = Practitioner.objects.filter(practice_id=patient.practice_id, active=True)
        self.fields["practitioner"].initial = patient.billing_practitioner_id
        self.fields["documented_at"].initial = timezone.localtime().strftime("%Y-%m-%dT%H:%M")


class VisitForm(forms.Form):
    day = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}), label="Visit date")
    kind = forms.ChoiceField(choices=list(VISIT_KINDS.items()))
    code = forms.CharField(max_length=10, label="CPT/HCPCS code", help_text="e.g. 99214, G0439")
    practitioner = forms.ModelChoiceField(queryset=Practitioner.objects.none())
    care_management_discussed = forms.BooleanField(required=False, label="Care management was discussed")

    def __init__(self, *args, patient, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["practitioner"].queryset = Practitioner.objects.filter(practice_id=patient.practice_id, active=True)
        self.fields["practitioner"].initial = patient.billing_practitioner_id


class RevokeForm(forms.Form):
    revoked_at = forms.DateTimeField(widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}))
