"""Engine findings say their facts by the contract's ids (`te-<entry>-<segment>`, `note-<id>`, `user-<id>`,
`npi-<number>`): on a page or in a packet a person reads the entry's time, the note, the person and the NPI."""

from __future__ import annotations

import re
import zoneinfo

from ccmops.documentation.models import Note
from ccmops.organizations.models import User
from ccmops.timetracking.models import TimeEntry

_IDS = re.compile(r"\b(te|note|user)-(\d+)(?:-\d+)?\b|\bnpi-(\d{10})\b|\bnpi-unknown-[\w-]+")


def humanizer(texts: list[str], time_zone: str):
    """A function that rewrites one of `texts` (or any text naming the same ids) for a person, reading every
    entry, note and user they name at once."""
    wanted: dict[str, set[int]] = {"te": set(), "note": set(), "user": set()}
    for text in texts:
        for m in _IDS.finditer(text):
            if m.group(1):
                wanted[m.group(1)].add(int(m.group(2)))
    zone = zoneinfo.ZoneInfo(time_zone)
    entries = TimeEntry.objects.filter(id__in=wanted["te"]).select_related("staff").in_bulk()
    notes = Note.objects.filter(id__in=wanted["note"]).select_related("author").in_bulk()
    users = User.objects.filter(id__in=wanted["user"]).in_bulk()

    def name(user) -> str:
        return user.get_full_name() or user.username

    def one(m: re.Match) -> str:
        kind, number, npi = m.group(1), m.group(2), m.group(3)
        if npi:
            return f"NPI {npi}"
        if kind is None:
            return "a practitioner not known by NPI"
        pk = int(number)
        if kind == "te" and pk in entries:
            e = entries[pk]
            return f"the {e.minutes}-min entry of {e.start.astimezone(zone):%Y-%m-%d %H:%M} by {name(e.staff)}"
        if kind == "note" and pk in notes:
            n = notes[pk]
            return f"{n.get_activity_display().lower()} note of {n.created_at.astimezone(zone):%Y-%m-%d}"
        if kind == "user" and pk in users:
            return name(users[pk])
        return m.group(0)

    return lambda text: _IDS.sub(one, text)


def humanized_findings(findings: list[dict], time_zone: str) -> list[dict]:
    say = humanizer([f["message"] for f in findings], time_zone)
    return [{**f, "message": say(f["message"])} for f in findings]
