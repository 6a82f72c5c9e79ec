"""Care transitions from an HL7 v2 ADT feed file (python-hl7). All or nothing; idempotent by MSH-10."""

from __future__ import annotations

import datetime as dt
import re

import hl7
from django.db import transaction
from django.utils import timezone

from ccmops.errors import InvalidInput
from ccmops.patients.models import Patient
from ccmops.worklist.models import CareTransition
from ccmops.worklist.services import record_transition

EVENTS = {"A01": "admission", "A03": "discharge", "A04": "ed_visit"}


def _ts(value: str) -> dt.datetime:
    digits = re.sub(r"[^0-9]", "", value)[:14].ljust(14, "0")
    return timezone.make_aware(dt.datetime.strptime(digits, "%Y%m%d%H%M%S"))


def _field(segment, index: int) -> str:
    return str(segment[index]) if len(segment) > index else ""


def _encoding_problem(message: str) -> str:
    """What is wrong with the MSH field separator and encoding characters (MSH-1, MSH-2), or "" — the parser
    needs them distinct symbols, as the standard says (e.g. `|` and `^~\\&`)."""
    if not message.startswith("MSH") or len(message) < 8:
        return ""  # the parser's own error names what is missing
    separator = message[3]
    encoding = message[4:].split(separator, 1)[0]
    symbols = [separator, *encoding]
    if (
        not 4 <= len(encoding) <= 5
        or len(set(symbols)) != len(symbols)
        or any(c.isalnum() or c.isspace() for c in symbols)
    ):
        return (
            f"MSH-2: the encoding characters must be four or five distinct symbols other than the field separator "
            f"{separator!r}, such as ^~\\&; got {encoding!r}"
        )
    return ""


@transaction.atomic
def import_adt(*, practice, text: str, file_label: str, by=None) -> int:
    """Import ADT A01 (admit), A03 (discharge) and A04 (register; emergency class = ED visit) messages.

    Raises:
        InvalidInput: every unreadable message, unknown patient or bad field, by message number; nothing is written.
    """
    if "\x00" in text:
        line = text[: text.index("\x00")].count("\n") + 1
        raise InvalidInput(f"{file_label}, line {line}: a NUL character is not allowed in an HL7 message")
    raw = [m for m in re.split(r"\r?\n(?=MSH\|)|\r(?=MSH\|)", text.replace("\r\n", "\r").strip()) if m.strip()]
    problems, parsed = [], []
    patients = {p.mrn: p for p in Patient.objects.filter(practice=practice)}
    for i, chunk in enumerate(raw, start=1):
        where = f"{file_label}, message {i}"
        encoding = _encoding_problem(chunk)
        if encoding:
            problems.append(f"{where}: {encoding}")
            continue
        try:
            msg = hl7.parse(chunk.replace("\n", "\r"))
            msh, pid, pv1 = msg.segment("MSH"), msg.segment("PID"), msg.segment("PV1")
        except (hl7.ParseException, KeyError, IndexError) as exc:
            problems.append(f"{where}: not a readable ADT message with MSH, PID and PV1 ({exc})")
            continue
        event = _field(msh, 9).split("^")[1] if "^" in _field(msh, 9) else ""
        if event not in EVENTS:
            continue  # other ADT events carry no transition
        mrn = _field(pid, 3).split("~")[0].split("^")[0]  # first identifier's ID (PID-3.1); may be empty
        patient = patients.get(mrn)
        if not mrn:
            problems.append(f"{where}: PID-3: the patient identifier is empty")
            continue
        if patient is None:
            problems.append(f"{where}: PID-3: no patient with MRN {mrn!r} in {practice.name}")
            continue
        patient_class = _field(pv1, 2)
        kind = EVENTS[event]
        if event == "A04" and patient_class != "E":
            continue  # an outpatient registration is not a transition
        if patient_class == "E" and event in ("A01", "A03"):
            kind = "admission" if event == "A01" else "ed_visit"
        when = _field(pv1, 45) if event == "A03" and _field(pv1, 45) else (_field(pv1, 44) or _field(msh, 7))
        try:
            occurred = _ts(when)
        except ValueError:
            problems.append(f"{where}: event time: expected YYYYMMDDHHMM, got {when!r}")
            continue
        parsed.append((patient, kind, occurred, _field(pv1, 3).split("^")[-1], _field(msh, 10)))
    if problems:
        raise InvalidInput("\n".join(problems))
    n = 0
    for patient, kind, occurred, facility, message_id in parsed:
        if message_id and CareTransition.objects.filter(practice=practice, message_id=message_id).exists():
            continue
        record_transition(
            patient=patient,
            kind=kind,
            occurred_at=occurred,
            facility=facility,
            by=by,
            source="hl7",
            message_id=message_id,
        )
        n += 1
    return n
