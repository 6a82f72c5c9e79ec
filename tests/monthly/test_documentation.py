"""Structured notes: templates with required fields, completeness, signing, immutability, addenda."""

import pytest

from ccmops.documentation.note_templates import TEMPLATES, completeness
from ccmops.documentation.services import add_addendum, save_note
from ccmops.errors import Conflict, InvalidInput

FULL = {
    "reason": "Monthly check-in",
    "patient_status": "BP 128/76, no symptoms",
    "actions": "Reviewed meds",
    "next_steps": "Call in 2 weeks (RN)",
}


@pytest.mark.parametrize("activity", sorted(TEMPLATES))
def test_every_template_has_required_fields(activity):
    assert any(required for _k, _l, required in TEMPLATES[activity])


def test_completeness_scores_required_fields_double():
    assert completeness("care_coordination_call", FULL) == 89  # 8 of 9 points: the optional goal is empty
    assert completeness("care_coordination_call", {**FULL, "care_plan_goal": "BP < 130/80"}) == 100
    assert completeness("care_coordination_call", {"reason": "x"}) == 0


def test_a_note_cannot_be_signed_incomplete_and_is_immutable_once_signed(twyla, nora):
    with pytest.raises(InvalidInput, match="How the patient is doing"):
        save_note(
            patient=twyla,
            author=nora,
            program="ccm",
            activity="care_coordination_call",
            fields={"reason": "Check-in"},
            sign=True,
        )
    note = save_note(
        patient=twyla, author=nora, program="ccm", activity="care_coordination_call", fields=FULL, sign=True
    )
    assert note.signed_at is not None and note.completeness == 89
    with pytest.raises(Conflict, match="addendum"):
        save_note(patient=twyla, author=nora, program="ccm", activity="care_coordination_call", fields=FULL, note=note)
    note.fields = {}
    with pytest.raises(ValueError, match="never changed"):
        note.save()
    addendum = add_addendum(note=note, author=nora, text="BP was 138/76, corrected.")
    assert list(note.addenda.all()) == [addendum]


def test_unknown_fields_are_refused(twyla, nora):
    with pytest.raises(InvalidInput, match="unknown"):
        save_note(patient=twyla, author=nora, program="ccm", activity="care_coordination_call", fields={"mood": "ok"})


def test_note_form(login, twyla):
    client = login("nora.rn")
    assert "How the patient is doing" in client.get(f"/patients/{twyla.id}/notes/new/").content.decode()
    response = client.post(
        f"/patients/{twyla.id}/notes/new/",
        {"activity": "care_coordination_call", "program": "ccm", "sign": "1", **FULL},
    )
    assert response.status_code == 302
    page = client.get(f"/patients/{twyla.id}/").content.decode()
    assert "signed" in page and "completeness 89%" in page


def test_a_signed_note_shows_its_templates_labels_not_field_keys(twyla, nora, login):
    save_note(
        patient=twyla,
        author=nora,
        program="ccm",
        activity="care_coordination_call",
        fields={**FULL, "care_plan_goal": ""},
        sign=True,
    )
    page = login("nora.rn").get(f"/patients/{twyla.id}/").content.decode()
    assert "How the patient is doing" in page and "Next steps and who does them" in page
    assert "Patient_status" not in page and "Next_steps" not in page
    assert page.index("Reason for contact") < page.index("How the patient is doing") < page.index("Actions taken")


def test_an_entry_documented_by_a_signed_note_offers_no_second_note(twyla, nora, login):
    from django.utils import timezone

    from ccmops.timetracking.entries import add_manual_entry
    from ccmops.timetracking.models import TimeEntry

    start = timezone.now().replace(second=0, microsecond=0) - timezone.timedelta(hours=2)
    documented = add_manual_entry(
        patient=twyla, staff=nora, program="ccm", activity="care_coordination_call", start=start, minutes=12,
        reason="Call taken away from the desk",
    )  # fmt: skip
    add_manual_entry(
        patient=twyla, staff=nora, program="ccm", activity="care_coordination_call",
        start=start + timezone.timedelta(minutes=30), minutes=5, reason="Call taken away from the desk",
    )  # fmt: skip
    note = save_note(
        patient=twyla, author=nora, program="ccm", activity="care_coordination_call", fields=FULL, sign=True,
        time_entry=documented,
    )  # fmt: skip
    page = login("nora.rn").get(f"/patients/{twyla.id}/").content.decode()
    row = page[page.index(f'id="entry-{documented.id}"') :].split("</tr>")[0]
    assert f'href="#note-{note.id}">Documented</a>' in row and "Write note" not in row
    other = TimeEntry.objects.exclude(pk=documented.pk).get(patient=twyla)
    assert "Write note" in page[page.index(f'id="entry-{other.id}"') :].split("</tr>")[0]
    assert '<label for="addendum-' in page  # the addendum box has a visible label
