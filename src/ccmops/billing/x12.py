"""X12 837P (005010X222A1) for a closed month, validated with pyx12 before anyone may download it."""

from __future__ import annotations

import io
import logging
import re
import zoneinfo
from dataclasses import dataclass
from decimal import Decimal

import pyx12.params
import pyx12.x12n_document
from django.utils import timezone

from ccmops.billing.models import ClaimLine
from ccmops.errors import Conflict, InvalidInput
from ccmops.months.ledger import is_closed
from ccmops.organizations.charges import charge_of
from ccmops.organizations.models import Practitioner
from ccmops.organizations.validators import npi_is_valid
from ccmops.patients.details import MBI
from ccmops.platform.numerals import ascii_digits
from ccmops.rules.conditions import icd10_is_billable, is_acute_episode

VERSION = "005010X222A1"
_BAD = re.compile(r"[*~:^\r\n]")


def _clean(value: str, limit: int = 60) -> str:
    return _BAD.sub(" ", str(value or "")).strip()[:limit]


@dataclass(frozen=True)
class ClaimFile:
    text: str
    claims: int
    lines: int
    total: Decimal  # the practice's charges (CLM02 summed)
    control_number: int
    held: tuple = ()  # `Held` claims kept out of the file


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
    if for_837p and practice_zip and not (len(practice_zip) == 9 and ascii_digits(practice_zip)):
        problems.append(
            f"practice: billing address ZIP code must be the nine-digit ZIP+4 (X12 5010, loop 2010AA); "
            f"got {practice.postal_code!r} (Settings, kept by the program owner)"
        )
    return problems


def _check_practice(practice, *, for_837p: bool) -> None:
    """Raises InvalidInput naming every practice (and submitter) field the claims need and do not have: no claim
    of the practice can go out without them. An 837P also needs the submitter's EDI ID and contact and the
    billing provider's full ZIP+4 (X12 5010 requires nine digits in loop 2010AA)."""
    problems = practice_claim_gaps(practice, for_837p=for_837p)
    if for_837p and practice.place_of_service in INSTITUTIONAL_POS:
        problems.insert(
            0,
            f"practice: place of service {practice.place_of_service} is a rural health clinic or federally qualified "
            "health center, whose care management is billed on an institutional claim (837I, type of bill "
            "71X/77X, revenue code 052X; R-CLM-FORM-2, R-RHC-4). ccmops does not produce an 837I yet, and never "
            "sends these services on an 837P: key the claims into your institutional billing system from the "
            "charge CSV.",
        )
    if for_837p and practice.billing_provider_type == "person" and billing_person(practice) is None:
        problems.append(
            f"practice: the billing provider is a person, but no practitioner is registered with the billing NPI "
            f"{practice.npi or '(none)'} (Settings, practitioners)"
        )
    if problems:
        what = "The 837P" if for_837p else "The FHIR Claims"
        raise InvalidInput(f"{what} cannot be produced until these are fixed:\n" + "\n".join(problems))


INSTITUTIONAL_POS = frozenset({"72", "50"})  # RHC, FQHC: institutional claims (R-CLM-FORM-2)
BASE_CODES = frozenset({"99490", "99487", "99491", "99424", "99426", "G0556", "G0557", "G0558", "G0511"})
MAX_CLAIMS_PER_TRANSACTION = 5000  # TR3: at most 5,000 claims (CLM) per ST–SE (R-CLM-FORM-1)


def billing_person(practice):
    """The practitioner whose own NPI is the practice's billing NPI (a billing provider that is a person)."""

    return Practitioner.objects.filter(practice=practice, npi=practice.npi).first() if practice.npi else None


def line_order(line: ClaimLine) -> tuple:
    """Base code first, then its add-on (ENGINE POLICY under R-CLM-FORM-1)."""
    return (0 if line.code in BASE_CODES else 1, line.code)


@dataclass(frozen=True)
class Held:
    """A claim kept out of the file, with every reason (the rest of the file is produced)."""

    patient_id: int
    patient: str
    reasons: tuple[str, ...]

    def as_dict(self) -> dict:
        return {"patient_id": self.patient_id, "patient": self.patient, "reasons": list(self.reasons)}


def claim_problems(practice, lines: list[ClaimLine], *, for_837p: bool) -> list[str]:
    """What keeps one patient's claim out of the file (the checks a clearinghouse makes, and Medicare's):
    the patient's MBI in CMS's format, address and ZIP, at least one billable, non-acute diagnosis (R-DX-1 …
    R-DX-3), the rendering practitioner's NPI check digit, and the practice's charge for each code
    (R-CLM-CHG-1)."""

    p = lines[0].patient
    problems = [f"{label} missing" for field, label in PATIENT_FIELDS if not getattr(p, field)]
    if p.medicare_id and not MBI.match(p.medicare_id.replace("-", "").upper()):
        problems.append(f"Medicare ID {p.medicare_id!r} is not an MBI in CMS's format (11 characters, no S L O I B Z)")
    patient_zip = zip_digits(p.postal_code)
    if for_837p and patient_zip and not (len(patient_zip) in (5, 9) and ascii_digits(patient_zip)):
        problems.append(f"ZIP code {p.postal_code!r} is not five or nine digits")
    dx = list(dict.fromkeys(c for x in lines for c in x.diagnosis_codes))
    if not dx:
        problems.append("no diagnosis: every claim needs at least one billable ICD-10-CM code (R-DX-3)")
    for code in dx:
        if not icd10_is_billable(code):
            problems.append(f"diagnosis {code} is not a billable ICD-10-CM code (R-DX-1)")
        elif is_acute_episode(code):
            problems.append(f"diagnosis {code} is an acute-episode code, never on a monthly claim (R-DX-2)")
    rendering = lines[0].billing_practitioner
    if not npi_is_valid(rendering.npi):
        problems.append(f"rendering NPI {rendering.npi} of {rendering} fails the check digit")
    for line in lines:  # a claim carries the practice's charges, whatever its form
        if charge_of(practice, line.code) is None:
            problems.append(f"no charge for {line.code} in Settings (Charges), R-CLM-CHG-1")
    return problems


def claims_to_send(practice, month: str, *, for_837p: bool) -> tuple[dict[int, list[ClaimLine]], list[Held]]:
    """The closed month's claims that can go out, by patient (lines base first), and those held out with their
    reasons.

    Raises:
        Conflict: the month is not closed.
        InvalidInput: nothing to bill, a practice field missing (each named), or every claim held out.
    """
    require_closed(practice, month)
    by_patient = _billed_lines(practice, month)
    if not by_patient:
        raise InvalidInput(f"{month}: no claim lines to export")
    _check_practice(practice, for_837p=for_837p)
    ready: dict[int, list[ClaimLine]] = {}
    held: list[Held] = []
    for patient_id, lines in by_patient.items():
        problems = claim_problems(practice, lines, for_837p=for_837p)
        p = lines[0].patient
        if problems:
            held.append(Held(patient_id, f"{p} (MRN {p.mrn})", tuple(problems)))
        else:
            ready[patient_id] = sorted(lines, key=line_order)
    if not ready:
        what = "No 837P" if for_837p else "No FHIR Claims"
        listed = "\n".join(f"{h.patient}: {'; '.join(h.reasons)}" for h in held)
        raise InvalidInput(f"{what} can be produced: every claim is held out until these are fixed:\n{listed}")
    return ready, held


def build_837p(practice, month: str, *, control_number: int, test: bool = False) -> ClaimFile:
    """Build the interchange for a closed month and validate it with pyx12: every claim that passes its checks
    (`claim_problems`), the others held out with their reasons. Dates and times are the practice's; at most
    5,000 claims per transaction set.

    Raises:
        Conflict: the month is not closed.
        InvalidInput: practice data missing, every claim held out, or pyx12 rejected the file (with its errors).
    """

    by_patient, held = claims_to_send(practice, month, for_837p=True)
    now = timezone.now().astimezone(zoneinfo.ZoneInfo(practice.time_zone))
    by = submitter(practice)
    sender, receiver = _clean(by.edi_submitter_id, 15), _clean(practice.medicare_contractor_id, 15)
    ctrl = f"{control_number:09d}"
    seg: list[str] = [
        f"ISA*00*{' ' * 10}*00*{' ' * 10}*ZZ*{sender:<15}*ZZ*{receiver:<15}*{now:%y%m%d}*{now:%H%M}*^*00501*"
        f"{ctrl}*0*{'T' if test else 'P'}*:",
        f"GS*HC*{sender}*{receiver}*{now:%Y%m%d}*{now:%H%M}*{control_number}*X*{VERSION}",
    ]
    person = billing_person(practice) if practice.billing_provider_type == "person" else None
    billing_name = (
        f"NM1*85*1*{_clean(person.last_name, 60)}*{_clean(person.first_name, 35)}****XX*{practice.npi}"
        if person is not None
        else f"NM1*85*2*{_clean(practice.name)}*****XX*{practice.npi}"
    )
    patients = list(by_patient.values())
    chunks = [patients[i : i + MAX_CLAIMS_PER_TRANSACTION] for i in range(0, len(patients), MAX_CLAIMS_PER_TRANSACTION)]
    total = Decimal("0.00")
    n_lines = 0
    for t, chunk in enumerate(chunks, start=1):
        st = f"{t:04d}"
        body: list[str] = [
            f"ST*837*{st}*{VERSION}",
            f"BHT*0019*00*{_clean(practice.slug, 24)}-{month}-{t}*{now:%Y%m%d}*{now:%H%M}*CH",
            f"NM1*41*2*{_clean(by.name)}*****46*{sender}",
            f"PER*IC*{_clean(by.billing_contact_name)}*TE*{by.billing_contact_phone}",
            f"NM1*40*2*{_clean(practice.medicare_contractor_name)}*****46*{receiver}",
            "HL*1**20*1",
            *([f"PRV*BI*PXC*{practice.taxonomy_code}"] if practice.taxonomy_code else []),
            billing_name,
            f"N3*{_clean(practice.address_line, 55)}",
            f"N4*{_clean(practice.city, 30)}*{practice.state}*{zip_digits(practice.postal_code)}",
            f"REF*EI*{practice.tin}",
        ]
        hl = 1
        for lines in chunk:
            p = lines[0].patient
            hl += 1
            body += [
                f"HL*{hl}*1*22*0",
                "SBR*P*18*******MB",
                f"NM1*IL*1*{_clean(p.family_name, 60)}*{_clean(p.given_name, 35)}****MI*{p.medicare_id.upper()}",
                f"N3*{_clean(p.address_line, 55)}",
                f"N4*{_clean(p.city, 30)}*{p.state}*{zip_digits(p.postal_code)}",
                f"DMG*D8*{p.birth_date:%Y%m%d}*{'F' if p.sex == 'female' else 'M' if p.sex == 'male' else 'U'}",
                f"NM1*PR*2*{_clean(practice.medicare_contractor_name)}*****PI*{receiver}",
            ]
            charges = [charge_of(practice, x.code) * x.units for x in lines]  # the practice's charges, R-CLM-CHG-1
            claim_total = sum(charges, Decimal("0.00"))
            total += claim_total
            dx = list(dict.fromkeys(c for x in lines for c in x.diagnosis_codes))[:12]
            body.append(f"CLM*{p.id}-{month}*{claim_total:.2f}***{practice.place_of_service}:B:1*Y*A*Y*Y")
            body.append(
                "HI*" + "*".join(f"{'ABK' if i == 0 else 'ABF'}:{c.replace('.', '')}" for i, c in enumerate(dx))
            )
            rendering = lines[0].billing_practitioner
            if rendering.npi != practice.npi:  # loop 2310B only when the rendering provider is not the billing one
                last, first = _clean(rendering.last_name, 60), _clean(rendering.first_name, 35)
                body.append(f"NM1*82*1*{last}*{first}****XX*{rendering.npi}")
            pointers = ":".join(str(i) for i in range(1, min(4, len(dx)) + 1))
            for i, (line, charge) in enumerate(zip(lines, charges, strict=True), start=1):
                n_lines += 1
                body += [
                    f"LX*{i}",
                    f"SV1*HC:{line.code}*{charge:.2f}*UN*{line.units}***{pointers}",
                    f"DTP*472*D8*{line.date_of_service:%Y%m%d}",
                    f"REF*6R*{line.id}",  # the line item control number: the 835 pays the line by it (issue 35)
                ]
        body.append(f"SE*{len(body) + 1}*{st}")
        seg += body
    seg += [f"GE*{len(chunks)}*{control_number}", f"IEA*1*{ctrl}"]
    text = "~\n".join(seg) + "~\n"
    validate(text)
    return ClaimFile(text, len(by_patient), n_lines, total, control_number, tuple(held))


def validate(text: str) -> None:
    """pyx12 must accept the file (999 IK5*A); otherwise the errors are raised and no file is offered."""

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
