"""Structured notes: signed notes are immutable; corrections are addenda."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from ccmops.documentation.note_templates import TEMPLATES
from ccmops.months.month import Month
from ccmops.timetracking.models import ACTIVITIES, PROGRAMS


class Note(models.Model):
    practice = models.ForeignKey("organizations.Organization", on_delete=models.PROTECT, related_name="+")
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="notes")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="notes")
    author_party = models.ForeignKey(
        "organizations.Organization", null=True, on_delete=models.PROTECT, related_name="+"
    )
    program = models.CharField(max_length=8, choices=PROGRAMS)
    activity = models.CharField(max_length=32, choices=ACTIVITIES)
    fields = models.JSONField(default=dict)
    completeness = models.PositiveSmallIntegerField(default=0)
    time_entry = models.ForeignKey(
        "timetracking.TimeEntry", null=True, blank=True, on_delete=models.PROTECT, related_name="notes"
    )
    created_at = models.DateTimeField()
    signed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["practice", "created_at"]), models.Index(fields=["patient", "created_at"])]

    def __str__(self) -> str:
        return f"{self.get_activity_display()} by {self.author} {self.created_at:%Y-%m-%d}"

    def save(self, *args, **kwargs):
        if self.pk is not None and Note.objects.filter(pk=self.pk, signed_at__isnull=False).exists():
            raise ValueError("A signed note is never changed; add an addendum.")
        super().save(*args, **kwargs)

    @property
    def labelled_fields(self) -> list[tuple[str, str]]:
        """The note's filled-in fields as (label, text), in its template's order with the template's labels; a
        field the template no longer names is shown under its key in words."""
        labels = {key: label for key, label, _required in TEMPLATES.get(self.activity, [])}
        ordered = [k for k in labels if k in self.fields] + [k for k in self.fields if k not in labels]
        return [
            (labels.get(k) or k.replace("_", " ").capitalize(), str(self.fields[k]))
            for k in ordered
            if str(self.fields[k]).strip()
        ]

    @property
    def month(self) -> str:
        """The month (YYYY-MM, in the practice's time zone) the note documents: its time entry's when it
        documents one (a call on the 31st written up on the 2nd belongs to the call's month), else the month it
        was written."""
        if self.time_entry_id:
            return self.time_entry.month
        return str(Month.at(self.created_at, self.practice.time_zone))


def of_month(window) -> models.Q:
    """The notes of a month (a `rules.calendar.MonthWindow`): those documenting its time entries, wherever they
    were written, and the others written in it — as `Note.month` assigns them."""
    return models.Q(time_entry__start__gte=window.start, time_entry__start__lt=window.end) | models.Q(
        time_entry__isnull=True, created_at__gte=window.start, created_at__lt=window.end
    )


class NoteAddendum(models.Model):
    practice = models.ForeignKey("organizations.Organization", on_delete=models.PROTECT, related_name="+")
    note = models.ForeignKey(Note, on_delete=models.PROTECT, related_name="addenda")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    text = models.TextField()
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["created_at"]
        indexes = [models.Index(fields=["practice"])]

    def __str__(self) -> str:
        return f"addendum {self.created_at:%Y-%m-%d} by {self.author}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValueError("An addendum is never changed.")
        super().save(*args, **kwargs)
