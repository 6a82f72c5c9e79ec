"""Medicare eligibility before the close (issue 35, R-COV-1, R-COV-2): a 270 inquiry (005010X279A1) for a month's
patients, and the 271 response read back into the coverage facts the claims-review gate decides on.

What a 271 says, and what ccmops makes of it (HETS conventions; ENGINE POLICY where the guide leaves it open):

- `EB*1` with insurance type `MB` — Part B active for its dates (DTP 291/307/346/356; an RD8 range or a D8 start):
  Medicare Part B fee-for-service coverage for that span. `EB*1` `MA` alone (no active Part B): Part A only.
- `EB*R` (another payer) with a managed-care plan type (HM, HN, HS, IN, PR, PS, PP, EP) and the plan named in
  loop 2120C: a Medicare Advantage enrolment for its dates (DTP 290/291/307), with the plan's name.
- `EB*R` with a Medicare Secondary Payer type (12, 13, 14, 15, 16, 41, 42, 43, 47): another payer is primary for
  those dates — the Part B coverage of that span is Medicare-secondary (the gate holds it).
- Insurance type `QM`: a Qualified Medicare Beneficiary span (no patient share), unless one is already recorded.
- `DTP*442` in loop 2100C: the date of death.
- `AAA` in loop 2100C: the payer could not answer for the patient (not found, invalid id, name or birth date…):
  nothing changes, and the result says what to correct.

The coverage records a 271 writes carry the response as their source (`271:` ids); the patient's next 271
replaces them, and while they stand they supersede imported coverage (the EHR's Coverage, the CSV, claims'
payers) — the payer's answer is the better evidence. Coverage a person entered on the patient's page stands."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone

from ccmops.billing.evaluation import patients_in_month
from ccmops.billing.exports import next_control_number
from ccmops.billing.models import EligibilityInquiry, EligibilityResult, PayerFile
from ccmops.billing.x12 import _clean, submitter
from ccmops.billing.x12_read import Interchange, Seg, validate_with_guide
from ccmops.compliance.audit import record_audit
from ccmops.compliance.models import AuditAction
from ccmops.errors import InvalidInput
from ccmops.patients.coverage import ELIGIBILITY, eligibility_first
from ccmops.patients.details import MBI
from ccmops.patients.models import CoverageRecord, Patient, QmbPeriod
from ccmops.patients.vocabulary import PAYER_KINDS, PAYER_NAMES
from ccmops.rules.calendar import month_window
from ccmops.worklist.models import FollowUpTask
from ccmops.worklist.services import open_task

VERSION = "005010X279A1"
MA_PLANS = {"HM", "HN", "HS", "IN", "PR", "PS", "PP", "EP"}
MSP_TYPES = {
    "12": "working aged (employer group health plan)",
    "13": "end-stage renal disease (employer group health plan)",
    "14": "no-fault insurance",
    "15": "workers' compensation",
    "16": "Public Health Service or other federal agency",
    "41": "black lung",
    "42": "Veterans Affairs",
    "43": "disabled (large employer group health plan)",
    "47": "liability insurance",
}
AAA_REASONS = {
    "15": "required application data missing",
    "35": "out of network",
    "42": "the payer's system could not respond now",
    "43": "invalid or missing provider identification",
    "45": "invalid or missing provider specialty",
    "47": "invalid or missing provider state",
    "48": "invalid or missing referring provider identification",
    "49": "provider is not the primary care physician",
    "51": "provider not on file",
    "52": "service dates not within provider plan enrollment",
    "56": "inappropriate date",
    "57": "invalid or missing dates of service",
    "58": "invalid or missing date of birth",
    "60": "date of birth follows the dates of service",
    "61": "date of death precedes the dates of service",
    "62": "date of service not within allowable inquiry period",
    "63": "date of service in the future",
    "71": "patient birth date does not match the payer's records",
    "72": "invalid or missing Medicare Beneficiary Identifier",
    "73": "invalid or missing name",
    "74": "invalid or missing last name",
    "75": "subscriber not found",
    "76": "duplicate subscriber",
    "78": "subscriber not in group or plan",
}
AAA_NEXT = {
    "C": "correct it and check again",
    "N": "do not check again",
    "R": "check again",
    "S": "check again later",
    "W": "wait for the payer",
    "X": "check again later",
    "Y": "do not check again",
}
START = {"291", "307", "346", "356", "290", "292", "295"}
END = {"347", "357", "349"}


# ------------------------------------------------------------------------------------------------------------- 270


@transaction.atomic
def write_inquiry(*, practice, month: str, by, test: bool = False) -> EligibilityInquiry:
    """A 270 for the month's patients (those enrolled past consent or with time in the month), one subscriber per
    patient with a Medicare Beneficiary Identifier, asking for health benefit plan coverage (EQ*30) over the month;
    validated with pyx12 before it is kept. Patients without an MBI are named in the error when none is left.

    Raises:
        InvalidInput: the practice lacks its NPI, TIN or EDI submitter id; no patient of the month has an MBI;
            pyx12 rejected the file.
    """
    by_org = submitter(practice)
    gaps = [label for value, label in ((practice.npi, "group NPI"), (practice.tin, "TIN"),
                                       (by_org.edi_submitter_id, "EDI submitter ID")) if not value]  # fmt: skip
    if gaps:
        raise InvalidInput(f"practice: {', '.join(gaps)} missing (Settings) — a 270 names the practice by them")
    ids = patients_in_month(practice, month)
    patients = list(Patient.objects.filter(id__in=ids).order_by("id"))
    asked = [p for p in patients if MBI.fullmatch(p.medicare_id.upper().strip() or "-")]
    if not asked:
        raise InvalidInput(f"{month}: no patient of the month has a Medicare Beneficiary Identifier to ask about")
    window = month_window(month, practice.time_zone)
    number = next_control_number(by_org)
    now = timezone.now().astimezone(zoneinfo.ZoneInfo(practice.time_zone))
    sender, ctrl = _clean(by_org.edi_submitter_id, 15), f"{number:09d}"
    tin = "".join(c for c in practice.tin if c in "0123456789")
    if len(tin) != 9:
        raise InvalidInput(f"practice: TIN must have nine digits (the 270's trace originator), got {practice.tin!r}")
    body = [
        f"ST*270*0001*{VERSION}",
        f"BHT*0022*13*{_clean(practice.slug, 20)}-{month}-{number}*{now:%Y%m%d}*{now:%H%M}",
        "HL*1**20*1",
        "NM1*PR*2*CMS*****PI*CMS",
        "HL*2*1*21*1",
        f"NM1*1P*2*{_clean(practice.name)}*****XX*{practice.npi}",
    ]
    for hl, p in enumerate(asked, start=3):
        body += [
            f"HL*{hl}*2*22*0",
            f"TRN*1*{trace(p.id, month)}*1{tin}",
            f"NM1*IL*1*{_clean(p.family_name, 60)}*{_clean(p.given_name, 35)}****MI*{p.medicare_id.upper().strip()}",
            f"DMG*D8*{p.birth_date:%Y%m%d}",
            f"DTP*291*RD8*{window.first_day:%Y%m%d}-{window.last_day:%Y%m%d}",
            "EQ*30",
        ]
    body.append(f"SE*{len(body) + 1}*0001")
    segments = [
        f"ISA*00*{' ' * 10}*00*{' ' * 10}*ZZ*{sender:<15}*ZZ*{'CMS':<15}*{now:%y%m%d}*{now:%H%M}*^*00501*{ctrl}*0*"
        f"{'T' if test else 'P'}*:",
        f"GS*HS*{sender}*CMS*{now:%Y%m%d}*{now:%H%M}*{number}*X*{VERSION}",
        *body,
        f"GE*1*{number}",
        f"IEA*1*{ctrl}",
    ]
    text = "~\n".join(segments) + "~\n"
    validate_with_guide(text, "the 270 inquiry")
    inquiry = EligibilityInquiry.objects.create(
        practice=practice, month=month, control_number=number, content=text, patients=len(asked),
        created_at=timezone.now(), created_by=by,
    )  # fmt: skip
    record_audit(
        action=AuditAction.EXPORT, user=by, practice_id=practice.id, obj=inquiry,
        detail={"month": month, "patients": len(asked), "without_mbi": len(patients) - len(asked)},
    )  # fmt: skip
    return inquiry


def trace(patient_id: int, month: str) -> str:
    """The trace number (TRN02) a 270 gives a patient and the 271 returns: the patient and the month."""
    return f"{patient_id}-{month}"


# ------------------------------------------------------------------------------------------------------------- 271


@dataclass
class Benefit:
    code: str  # EB01
    services: tuple[str, ...]  # EB03
    insurance: str  # EB04
    plan: str  # EB05
    start: dt.date | None = None
    end: dt.date | None = None
    payer: str = ""  # loop 2120C NM103
    messages: list[str] = field(default_factory=list)


@dataclass
class Answer:
    """One subscriber (loop 2000C) of a 271."""

    traces: list[str] = field(default_factory=list)
    mbi: str = ""
    name: str = ""
    birth: dt.date | None = None
    died: dt.date | None = None
    rejections: list[tuple[str, str]] = field(default_factory=list)  # (AAA03, AAA04)
    benefits: list[Benefit] = field(default_factory=list)


def _date(raw: str) -> dt.date | None:
    try:
        return dt.datetime.strptime(raw, "%Y%m%d").date()
    except ValueError:
        return None


def _period(benefit: Benefit, s: Seg) -> None:
    qualifier, form, value = s.get(1), s.get(2), s.get(3)
    if form == "RD8" and "-" in value:
        first, _, last = value.partition("-")
        if qualifier in START | END:
            benefit.start, benefit.end = _date(first) or benefit.start, _date(last) or benefit.end
    elif form == "D8":
        if qualifier in START:
            benefit.start = _date(value) or benefit.start
        elif qualifier in END:
            benefit.end = _date(value) or benefit.end


def answers(segments: list[Seg]) -> list[Answer]:
    """The subscribers of a 271, each with what the payer said about them."""
    out: list[Answer] = []
    current: Answer | None = None
    benefit: Benefit | None = None
    in_2120 = False
    for s in segments:
        if s.id == "HL":
            current = Answer() if s.get(3) == "22" else None
            benefit, in_2120 = None, False
            if current is not None:
                out.append(current)
        elif current is None:
            continue
        elif s.id == "TRN" and s.get(1) == "2":
            current.traces.append(s.get(2))
        elif s.id == "NM1" and s.get(1) == "IL" and benefit is None:
            current.mbi, current.name = s.get(9).upper(), f"{s.get(4)} {s.get(3)}".strip()
        elif s.id == "DMG" and benefit is None:
            current.birth = _date(s.get(2))
        elif s.id == "AAA" and benefit is None:
            current.rejections.append((s.get(3), s.get(4)))
        elif s.id == "DTP" and benefit is None:
            if s.get(1) == "442":
                current.died = _date(s.get(3))
        elif s.id == "EB":
            services = tuple(x for x in s.get(3).split("^") if x)
            benefit = Benefit(s.get(1), services, s.get(4), s.get(5))
            current.benefits.append(benefit)
            in_2120 = False
        elif benefit is not None and s.id == "DTP" and not in_2120:
            _period(benefit, s)
        elif benefit is not None and s.id == "MSG":
            benefit.messages.append(s.get(1))
        elif s.id == "LS":
            in_2120 = True
        elif s.id == "LE":
            in_2120 = False
        elif in_2120 and benefit is not None and s.id == "NM1" and not benefit.payer:
            benefit.payer = s.get(3)
    return out


@dataclass
class Found:
    """What a 271 answer means for the patient: coverage spans (payer, start, end, secondary, plan), QMB spans,
    the date of death, or why it could not be verified."""

    coverage: list[tuple[str, dt.date | None, dt.date | None, bool, str]] = field(default_factory=list)
    qmb: list[tuple[dt.date, dt.date | None]] = field(default_factory=list)
    died: dt.date | None = None
    not_verified: str = ""


def meaning(answer: Answer) -> Found:
    """The coverage facts a subscriber's answer states (see the module's table)."""
    found = Found(died=answer.died)
    if answer.rejections:
        found.not_verified = "; ".join(
            AAA_REASONS.get(code, f"reason {code}") + (f" ({AAA_NEXT[next_]})" if next_ in AAA_NEXT else "")
            for code, next_ in answer.rejections
        )
        return found
    part_b = [b for b in answer.benefits if b.code == "1" and b.insurance == "MB"]
    part_a = [b for b in answer.benefits if b.code == "1" and b.insurance == "MA"]
    msp = [b for b in answer.benefits if b.code == "R" and b.insurance in MSP_TYPES]
    for b in part_b:
        secondary = [m for m in msp if _overlap(m, b)]
        for m in secondary:  # the Medicare-secondary span within the Part B span
            start = max(filter(None, (b.start, m.start)), default=None)
            ends = [d for d in (b.end, m.end) if d]
            primary = m.payer or MSP_TYPES[m.insurance]
            found.coverage.append(("medicare", start, min(ends) if ends else None, True, primary))
        if not secondary:
            found.coverage.append(("medicare", b.start, b.end, False, ""))
    if not part_b:
        for b in part_a:
            found.coverage.append(("part_a_only", b.start, b.end, False, ""))
    for b in answer.benefits:
        if b.code in ("R", "1", "U") and b.insurance in MA_PLANS and ("30" in b.services or not b.services):
            found.coverage.append(("medicare_advantage", b.start, b.end, False, b.payer or b.plan))
        if b.insurance == "QM" and b.code in ("1", "R", "C") and b.start is not None:
            found.qmb.append((b.start, b.end))
    return found


def _overlap(a: Benefit, b: Benefit) -> bool:
    starts_in_time = a.start is None or b.end is None or a.start <= b.end
    return starts_in_time and (a.end is None or b.start is None or a.end >= b.start)


def month_state(patient_id: int, month: str, zone: str) -> tuple:
    """The coverage facts in force for the patient in the month as the close reads them (`coverage_rows`, else the
    patient's payer field), with QMB and the date of death: what a new 271 is compared against to say whether it
    changed what ccmops knew. A response confirming the Part B already on file changes nothing."""
    window = month_window(month, zone)
    rows = coverage_rows(CoverageRecord.objects.filter(patient_id=patient_id))
    died, field = Patient.objects.filter(pk=patient_id).values_list("deceased_on", "medicare_coverage").first()
    kinds = {
        (kind, bool(secondary) and kind == "part_b_ffs")
        for _pid, _sid, payer, start, end, secondary in rows
        if (start is None or start <= window.last_day) and (end is None or end >= window.first_day)
        for kind in PAYER_KINDS.get(payer, ("unknown",))
    }
    if not rows:
        kinds = {(kind, False) for kind in PAYER_KINDS.get(field, ())}
    qmb = QmbPeriod.objects.filter(patient_id=patient_id, start__lte=window.last_day).exclude(end__lt=window.first_day)
    return tuple(sorted(kinds)), qmb.exists(), died


def coverage_rows(records) -> list[tuple]:
    """(patient id, source id, payer, start, end, medicare secondary) of coverage records, as the close reads
    them (`eligibility_first`)."""
    return eligibility_first(
        list(records.values_list("patient_id", "source_id", "payer", "start", "end", "medicare_secondary"))
    )


def apply_271(practice, interchange: Interchange, file: PayerFile, by) -> dict:
    """Record what the 271 says about each of the practice's patients it names (by trace number, else by MBI):
    the patient's earlier eligibility coverage is replaced, QMB spans and a date of death recorded; a patient whose
    coverage for the month changed is flagged (on the month page), with a task on the worklist when the change keeps
    the month from being billed to Medicare. Called in `import_x12`'s transaction."""
    summary: dict = {"patients": 0, "changed": [], "not_verified": [], "unmatched": [], "by_outcome": {}}
    checked_on = timezone.localdate()
    source = f"eligibility response (271) {file.control_number} of {checked_on}"
    for answer in answers(interchange.segments):
        patient, month, inquiry = _whose(practice, answer)
        if patient is None:
            summary["unmatched"].append(answer.mbi or (answer.traces[0] if answer.traces else "?"))
            continue
        if EligibilityResult.objects.filter(payer_file=file, patient=patient).exists():
            continue  # the same subscriber twice in one file: its first answer stands
        before = month_state(patient.id, month, practice.time_zone)
        found = meaning(answer)
        outcome, words = _record(patient, found, file, source, by)
        after = month_state(patient.id, month, practice.time_zone)
        changed = before != after
        EligibilityResult.objects.create(
            practice=practice, patient=patient, payer_file=file, inquiry=inquiry, month=month, checked_on=checked_on,
            outcome=outcome, words=words[:500], changed=changed,
            detail={"coverage": [[p, s and s.isoformat(), e and e.isoformat(), sec, plan]
                                 for p, s, e, sec, plan in found.coverage],
                    "qmb": [[s.isoformat(), e and e.isoformat()] for s, e in found.qmb],
                    "died": found.died and found.died.isoformat(), "not_verified": found.not_verified},
        )  # fmt: skip
        summary["patients"] += 1
        summary["by_outcome"][outcome] = summary["by_outcome"].get(outcome, 0) + 1
        if found.not_verified:
            summary["not_verified"].append(patient.id)
        if changed:
            summary["changed"].append(patient.id)
            # a task when the change is bad news for the month (Part B confirmed needs no one's action)
            worse = outcome not in ("part_b", "not_verified")
            if worse and not FollowUpTask.objects.filter(patient=patient, kind="coverage", status="open").exists():
                open_task(patient=patient, kind="coverage", title=f"Coverage changed for {month}: {words}"[:300],
                          due_on=checked_on)  # fmt: skip
    return summary


def _whose(practice, answer: Answer):
    """The practice's patient an answer is about, the month asked about and the inquiry: by the trace number the
    270 gave (patient id and month), else by the MBI for the current month."""
    for t in answer.traces:
        pid, _, month = t.partition("-")
        if pid.isdigit() and len(month) == 7:
            patient = Patient.objects.filter(practice=practice, pk=int(pid)).first()
            if patient is not None and (not answer.mbi or patient.medicare_id.upper().strip() == answer.mbi):
                inquiry = EligibilityInquiry.objects.filter(practice=practice, month=month).first()
                return patient, month, inquiry
    if answer.mbi:
        patient = Patient.objects.filter(practice=practice, medicare_id__iexact=answer.mbi).first()
        if patient is not None:
            today = timezone.localdate()
            return patient, f"{today:%Y-%m}", None
    return None, "", None


def _record(patient, found: Found, file: PayerFile, source: str, by) -> tuple[str, str]:
    """Write the answer's facts and say them in words; returns (outcome, words)."""
    if found.not_verified:
        return "not_verified", f"Not verified: {found.not_verified}"
    old = list(CoverageRecord.objects.filter(patient=patient, source_id__startswith=ELIGIBILITY))
    CoverageRecord.objects.filter(pk__in=[r.pk for r in old]).delete()
    now = timezone.now()
    words: list[str] = []
    for i, (payer, start, end, secondary, plan) in enumerate(found.coverage):
        CoverageRecord.objects.create(
            practice_id=patient.practice_id, patient=patient, source_id=f"{ELIGIBILITY}{file.id}:{i}", payer=payer,
            start=start, end=end, medicare_secondary=secondary, source=(source + (f": {plan}" if plan else ""))[:200],
            recorded_by=by, recorded_at=now,
        )  # fmt: skip
        span = f"from {start}" if start else "since before"
        span += f" to {end}" if end else ""
        name = "Medicare secondary to " + plan if secondary else PAYER_NAMES.get(payer, payer)
        words.append(f"{name}{' (' + plan + ')' if plan and not secondary else ''} {span}")
    for start, end in found.qmb:
        if not QmbPeriod.objects.filter(patient=patient, start__lte=end or dt.date.max).exclude(end__lt=start).exists():
            QmbPeriod.objects.create(
                practice_id=patient.practice_id, patient=patient, start=start, end=end, source=source[:200],
                recorded_by=by, recorded_at=now,
            )  # fmt: skip
        words.append(f"QMB from {start}" + (f" to {end}" if end else ""))
    if found.died and patient.deceased_on != found.died:
        Patient.objects.filter(pk=patient.pk).update(deceased_on=found.died)
        words.append(f"died on {found.died}")
    elif found.died:
        words.append(f"died on {found.died}")
    record_audit(
        action=AuditAction.UPDATE, user=by, patient=patient, obj=file,
        detail={"eligibility": words, "replaced": [[r.payer, r.start and r.start.isoformat(),
                                                     r.end and r.end.isoformat()] for r in old]},
    )  # fmt: skip
    payers = {c[0] for c in found.coverage}
    if found.died:
        outcome = "deceased"
    elif "medicare_advantage" in payers:
        outcome = "medicare_advantage"
    elif any(c[3] for c in found.coverage):
        outcome = "secondary"
    elif "medicare" in payers:
        outcome = "part_b"
    else:
        outcome = "no_part_b"
        words.append("no Part B coverage in the response")
    return outcome, "; ".join(words) or "no coverage in the response"


def latest_results(practice, month: str) -> list[EligibilityResult]:
    """Each patient's newest eligibility answer for the month, what needs a look first (`needs_look_first`)."""
    newest: dict[int, EligibilityResult] = {}
    for r in EligibilityResult.objects.filter(practice=practice, month=month).select_related("patient").order_by("id"):
        newest[r.patient_id] = r
    return sorted(newest.values(), key=needs_look_first)


def needs_look_first(r: EligibilityResult) -> tuple:
    """Answers that keep the month from Medicare or could not be verified, then changes, then the rest by name."""
    return r.outcome == "part_b", not r.changed, str(r.patient)
