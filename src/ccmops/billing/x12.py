"""X12 837P (005010X222A1) for a closed month, validated with pyx12 before anyone may download it."""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from decimal import Decimal

from django.utils import timezone

from ccmops.billing.models import ClaimLine, is_closed
from ccmops.errors import Conflict, InvalidInput

VERSION = "005010X222A1"
_BAD = re.compile(r"[*~:^\r\n]")


def _clean(value: str, limit: int = 60) -> str:
    return _BAD.sub(" ", str(value or "")).strip()[:limit]


@dataclass(frozen=True)
class ClaimFile:
    text: str
    claims: int
    lines: int
    total: Decimal
    control_number: int


def require_closed(practice, month: str) -> None:
    """Claims and charges come only from a closed (approved, locked) month.

    Raises:
        Conflict: the month is not closed.
    """
    if not is_closed(practice, month):
        raise Conflict(f"{month} is not closed; approve and close it before exporting claims.")


def _billed_lines(practice, month: str) -> dict[int, list[ClaimLine]]:
    """The month's claim lines to bill (not those overridden to "do not bill"), by patient, codes in order."""
    by_patient: dict[int, list[ClaimLine]] = {}
    lines = (
        ClaimLine.objects.filter(practice=practice, month=month)
        .select_related("patient", "billing_practitioner", "decision")
        .order_by("patient_id", "code")
    )
    for line in lines:
        if line.decision.override_action == "do_not_bill":
            continue
        by_patient.setdefault(line.patient_id, []).append(line)
    return by_patient


PRACTICE_FIELDS = (  # (field, label) a claim of the practice needs, in any form
    ("npi", "group NPI"),
    ("tin", "TIN"),
    ("address_line", "billing address"),
    ("city", "city"),
    ("state", "state"),
    ("postal_code", "ZIP code"),
    ("medicare_contractor_name", "Medicare contractor name"),
    ("medicare_contractor_id", "Medicare contractor ID"),
)
SUBMITTER_FIELDS = (  # and an 837P file's submitter: its EDI id (ISA06, GS02, loop 1000A) and contact (PER)
    ("edi_submitter_id", "EDI submitter ID"),
    ("billing_contact_name", "billing contact name"),
    ("billing_contact_phone", "billing contact phone"),
)
PATIENT_FIELDS = (
    ("medicare_id", "Medicare Beneficiary Identifier"),
    ("address_line", "address"),
    ("city", "city"),
    ("state", "state"),
    ("postal_code", "ZIP code"),
)


def submitter(practice):
    """Who sends the practice's 837P: its billing partner when it names one (`claims_submitter`), else itself."""
    return practice.claims_submitter or practice


def zip_digits(value: str) -> str:
    """A ZIP code as X12 carries it: digits only ("62704-1234" -> "627041234")."""
    return value.replace("-", "").replace(" ", "")


def practice_claim_gaps(practice, *, for_837p: bool = True) -> list[str]:
    """What the practice's settings (and its claims submitter's) lack for its claims: each missing or malformed
    field, named as `_check_claim_data` names it."""
    problems = []
    for field, label in PRACTICE_FIELDS:
        if not getattr(practice, field):
            problems.append(f"practice: {label} is missing (Settings, kept by the program owner)")
    if for_837p:
        sender = submitter(practice)
        who = "practice" if sender is practice else f"claims submitter {sender.name}"
        for field, label in SUBMITTER_FIELDS:
            if not getattr(sender, field):
                keeper = "the program owner" if sender is practice else "its operations lead"
                problems.append(f"{who}: {label} is missing (Settings, kept by {keeper})")
    practice_zip = zip_digits(practice.postal_code)
    if for_837p and practice_zip and not (len(practice_zip) == 9 and practice_zip.isdigit()):
        problems.append(
            f"practice: billing address ZIP code must be the nine-digit ZIP+4 (X12 5010, loop 2010AA); "
            f"got {practice.postal_code!r} (Settings, kept by the program owner)"
        )
    return problems


def _check_claim_data(practice, by_patient, *, for_837p: bool) -> None:
    """Raises InvalidInput naming every practice and patient field a claim needs and does not have. An 837P also
    needs the submitter's EDI ID and contact, the billing provider's full ZIP+4 (X12 5010 requires nine digits in loop
    2010AA; Medicare contractors' front ends reject five) and each patient's ZIP as five or nine digits."""
    problems = practice_claim_gaps(practice, for_837p=for_837p)
    for lines in by_patient.values():
        p = lines[0].patient
        missing = [label for field, label in PATIENT_FIELDS if not getattr(p, field)]
        if missing:
            problems.append(f"patient {p} (MRN {p.mrn}): {', '.join(missing)} missing")
        patient_zip = zip_digits(p.postal_code)
        if for_837p and patient_zip and not (len(patient_zip) in (5, 9) and patient_zip.isdigit()):
            problems.append(f"patient {p} (MRN {p.mrn}): ZIP code {p.postal_code!r} is not five or nine digits")
    if problems:
        what = "The 837P" if for_837p else "The FHIR Claims"
        raise InvalidInput(f"{what} cannot be produced until these are fixed:\n" + "\n".join(problems))


def claims_to_send(practice, month: str, *, for_837p: bool) -> dict[int, list[ClaimLine]]:
    """The closed month's lines to bill, by patient, once every field the claims need is there (an 837P's or,
    without `for_837p`, FHIR Claims').

    Raises:
        Conflict: the month is not closed.
        InvalidInput: nothing to bill, or practice or patient data missing or malformed (each named).
    """
    require_closed(practice, month)
    by_patient = _billed_lines(practice, month)
    if not by_patient:
        raise InvalidInput(f"{month}: no claim lines to export")
    _check_claim_data(practice, by_patient, for_837p=for_837p)
    return by_patient


def build_837p(practice, month: str, *, control_number: int, test: bool = False) -> ClaimFile:
    """Build the interchange for a closed month and validate it with pyx12.

    Raises:
        Conflict: the month is not closed.
        InvalidInput: missing practice or patient data, or pyx12 rejected the file (with its errors).
    """
    by_patient = claims_to_send(practice, month, for_837p=True)
    now = timezone.now()
    by = submitter(practice)
    sender, receiver = _clean(by.edi_submitter_id, 15), _clean(practice.medicare_contractor_id, 15)
    ctrl = f"{control_number:09d}"
    seg: list[str] = []
    seg.append(
        f"ISA*00*{' ' * 10}*00*{' ' * 10}*ZZ*{sender:<15}*ZZ*{receiver:<15}*{now:%y%m%d}*{now:%H%M}*^*00501*"
        f"{ctrl}*0*{'T' if test else 'P'}*:"
    )
    seg.append(f"GS*HC*{sender}*{receiver}*{now:%Y%m%d}*{now:%H%M}*{control_number}*X*{VERSION}")
    body: list[str] = [
        f"ST*837*{control_number % 10000:04d}*{VERSION}",
        f"BHT*0019*00*{_clean(practice.slug, 30)}-{month}*{now:%Y%m%d}*{now:%H%M}*CH",
        f"NM1*41*2*{_clean(by.name)}*****46*{sender}",
        f"PER*IC*{_clean(by.billing_contact_name)}*TE*{by.billing_contact_phone}",
        f"NM1*40*2*{_clean(practice.medicare_contractor_name)}*****46*{receiver}",
        "HL*1**20*1",
        f"NM1*85*2*{_clean(practice.name)}*****XX*{practice.npi}",
        f"N3*{_clean(practice.address_line, 55)}",
        f"N4*{_clean(practice.city, 30)}*{practice.state}*{zip_digits(practice.postal_code)}",
        f"REF*EI*{practice.tin}",
    ]
    hl = 1
    total = Decimal("0.00")
    n_lines = 0
    for lines in by_patient.values():
        p = lines[0].patient
        hl += 1
        body += [
            f"HL*{hl}*1*22*0",
            "SBR*P*18*******MB",
            f"NM1*IL*1*{_clean(p.family_name, 60)}*{_clean(p.given_name, 35)}****MI*{p.medicare_id}",
            f"N3*{_clean(p.address_line, 55)}",
            f"N4*{_clean(p.city, 30)}*{p.state}*{zip_digits(p.postal_code)}",
            f"DMG*D8*{p.birth_date:%Y%m%d}*{'F' if p.sex == 'female' else 'M' if p.sex == 'male' else 'U'}",
            f"NM1*PR*2*{_clean(practice.medicare_contractor_name)}*****PI*{receiver}",
        ]
        claim_total = sum((x.allowed_amount for x in lines), Decimal("0.00"))
        total += claim_total
        dx = list(dict.fromkeys(c for x in lines for c in x.diagnosis_codes))[:12]
        body.append(f"CLM*{p.id}-{month}*{claim_total:.2f}***{practice.place_of_service}:B:1*Y*A*Y*Y")
        body.append("HI*" + "*".join(f"{'ABK' if i == 0 else 'ABF'}:{c.replace('.', '')}" for i, c in enumerate(dx)))
        rendering = lines[0].billing_practitioner
        body.append(
            f"NM1*82*1*{_clean(rendering.last_name, 60)}*{_clean(rendering.first_name, 35)}****XX*{rendering.npi}"
        )
        pointers = ":".join(str(i) for i in range(1, min(4, len(dx)) + 1))
        for i, line in enumerate(lines, start=1):
            n_lines += 1
            body += [
                f"LX*{i}",
                f"SV1*HC:{line.code}*{line.allowed_amount:.2f}*UN*{line.units}***{pointers}",
                f"DTP*472*D8*{line.date_of_service:%Y%m%d}",
            ]
    body.append(f"SE*{len(body) + 1}*{control_number % 10000:04d}")
    seg += body
    seg += [f"GE*1*{control_number}", f"IEA*1*{ctrl}"]
    text = "~\n".join(seg) + "~\n"
    validate(text)
    return ClaimFile(text, len(by_patient), n_lines, total, control_number)


def validate(text: str) -> None:
    """pyx12 must accept the file (999 IK5*A); otherwise the errors are raised and no file is offered."""
    import logging

    import pyx12.params
    import pyx12.x12n_document

    log = io.StringIO()
    handler = logging.StreamHandler(log)
    logger = logging.getLogger("pyx12")
    logger.addHandler(handler)
    logger.setLevel(logging.ERROR)
    ack = io.StringIO()
    try:
        ok = pyx12.x12n_document.x12n_document(
            param=pyx12.params.params(),
            src_file=io.StringIO(text),
            fd_997=ack,
            fd_html=None,
            fd_xmldoc=None,
            xslt_files=None,
        )
    finally:
        logger.removeHandler(handler)
    if not ok or "IK5*A" not in ack.getvalue():
        errors = log.getvalue().strip() or ack.getvalue()
        raise InvalidInput(f"pyx12 rejected the 837P; nothing was produced:\n{errors[:4000]}")
