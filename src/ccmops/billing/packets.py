"""The audit packet of a patient-month: what a practice sends when a Medicare contractor asks for records."""

from __future__ import annotations

import io
import zipfile
from collections import defaultdict

from django.template.loader import render_to_string

from ccmops.billing.models import ClaimLine, KnownService, PatientMonthDecision
from ccmops.billing.remittance import sent_batch
from ccmops.billing.wording import humanizer
from ccmops.careplans.models import CarePlan
from ccmops.compliance.audit import record_audit
from ccmops.compliance.models import AuditAction
from ccmops.documentation.models import Note, of_month
from ccmops.enrollment.models import ALL_CONSENT_ELEMENTS, Consent
from ccmops.errors import NotFound
from ccmops.months.ledger import is_closed
from ccmops.months.models import Adjustment
from ccmops.organizations.models import Membership
from ccmops.patients.vocabulary import PAYER_NAMES
from ccmops.rules.calendar import month_window
from ccmops.rules.conditions import classify, condition_name
from ccmops.timetracking.models import TimeEntry


def packet_context(patient, month: str) -> dict:
    decision = PatientMonthDecision.objects.filter(patient=patient, month=month).first()
    if decision is None:
        raise NotFound(f"No decision for {patient} in {month}; close the month first.")
    window = month_window(month, patient.practice.time_zone)
    conditions = list(patient.conditions.all())
    classification = classify(sorted({(c.system, c.code) for c in conditions if c.abated is None}))
    entries = (
        TimeEntry.objects.filter(patient=patient, start__lt=window.end, end__gt=window.start)
        .select_related("staff", "employer", "voided_by", "restored_by")
        .order_by("start")
    )
    late = list(  # time recorded after the month was closed: queued, not in the decision
        Adjustment.objects.filter(patient=patient, month=month)
        .select_related("resolved_by", "time_entry")
        .order_by("created_at", "id")
    )
    late_by_entry = {a.time_entry_id: a for a in late if a.time_entry_id and not a.voids}
    void_by_entry = {a.time_entry_id: a for a in late if a.voids}
    late_by_note = {a.note_id: a for a in late if a.note_id and not a.addendum_id}
    late_by_addendum = {a.addendum_id: a for a in late if a.addendum_id}
    notes = list(  # the month's notes: those documenting its time entries, and the others written in it
        Note.objects.filter(of_month(window), patient=patient)
        .select_related("author", "time_entry")
        .prefetch_related("addenda__author")
        .order_by("created_at", "id")
    )
    for n in notes:
        n.adjustment = late_by_note.get(n.id)
        n.late_addenda = [(a, late_by_addendum.get(a.id)) for a in n.addenda.all()]
    documenting: dict[int, Note] = {}  # each entry's note: a signed one when there is one (R-TIME-8, R-DOC-1)
    for n in Note.objects.filter(time_entry__in=entries).select_related("author").order_by("id"):
        if n.time_entry_id not in documenting or (n.signed_at and not documenting[n.time_entry_id].signed_at):
            documenting[n.time_entry_id] = n
    licences = {
        (m.user_id, m.organization_id): m.licence_state
        for m in Membership.objects.filter(user__in={e.staff_id for e in entries}).exclude(licence_state="")
    }
    by_day = defaultdict(list)
    for e in entries:
        e.adjustment = late_by_entry.get(e.id)
        e.void_adjustment = void_by_entry.get(e.id)
        e.documenting = documenting.get(e.id)
        e.licence_state = licences.get((e.staff_id, e.employer_id), "")
        e.partner_staff = e.employer_id != patient.practice_id
        by_day[e.start.astimezone(window.zone).date()].append(e)
    say = humanizer(
        [f["message"] for f in decision.decision.get("findings", [])]
        + [x["entry_id"] for x in decision.decision.get("excluded_time", [])],
        patient.practice.time_zone,
    )
    findings = [{**f, "message": say(f["message"])} for f in decision.decision.get("findings", [])]
    excluded_time = [{**x, "entry": say(x["entry_id"])} for x in decision.decision.get("excluded_time", [])]
    coverage, observed = [], []
    for r in patient.coverages.select_related("recorded_by").order_by("start", "id"):
        if r.source_id.startswith(
            "eob:"
        ):  # a payer seen on a claim: the last one before the month's end, and any in it
            if r.start is not None and r.start <= window.last_day:
                observed.append(r)
        elif (r.start is None or r.start <= window.last_day) and (r.end is None or r.end >= window.first_day):
            coverage.append(r)
    coverage += [r for r in observed[-1:] + observed[:-1] if r is observed[-1] or r.start >= window.first_day]
    for r in coverage:
        r.payer_name = PAYER_NAMES.get(r.payer, r.payer)
        r.observed = r.source_id.startswith("eob:")
    known = list(  # other services known for the month, with the adjustment of one recorded after the close
        KnownService.objects.filter(
            patient=patient, date_of_service__gte=window.first_day, date_of_service__lte=window.last_day
        ).select_related("recorded_by", "withdrawn_by")
    )
    late_by_known = {a.known_service_id: a for a in late if a.known_service_id and not a.voids}
    for k in known:
        k.adjustment = late_by_known.get(k.id)
    plans = []
    for plan in CarePlan.objects.filter(patient=patient):
        in_force = plan.versions.filter(status="approved", approved_at__lt=window.end).order_by("-number").first()
        if in_force:
            plans.append({"plan": plan, "version": in_force, "shares": in_force.shares.all()})
    return {
        "patient": patient,
        "practice": patient.practice,
        "month": month,
        "decision": decision,
        "qualifying": [condition_name(c) for c in sorted(classification.chronic)],
        "conditions": conditions,
        "visits": patient.encounters.exclude(visit_kind="").filter(start__lt=window.end).order_by("-start")[:5],
        "consents": Consent.objects.filter(patient=patient, documented_at__lt=window.end).select_related(
            "practitioner", "obtained_by", "text_version", "revocation"
        ),
        "consent_elements": ALL_CONSENT_ELEMENTS,
        "plans": plans,
        "days": sorted(by_day.items()),
        "late": late,
        "month_closed": is_closed(patient.practice, month),
        "sent": sent_batch(patient.practice, month),
        "claim_lines": ClaimLine.objects.filter(patient=patient, month=month).order_by("code"),
        "notes": notes,
        "known_services": known,
        "findings": findings,
        "excluded_time": excluded_time,
        "coverage": coverage,
        "supervising": decision.billing_practitioner,
        "dos_policy": (patient.practice.rule_policies or {}).get("date_of_service", "threshold_reached"),
    }


def render_packet(patient, month: str, *, by=None, pdf: bool = False) -> str:
    html = render_to_string("billing/packet.html", {**packet_context(patient, month), "pdf": pdf})
    record_audit(action=AuditAction.PRINT, user=by, patient=patient, object_type="audit_packet", object_id=month)
    return html


def packets_zip(practice, month: str, *, by=None, target=None, progress=None, audit: bool = True) -> bytes | None:
    """Every patient-month of the practice and month as an HTML packet (and PDF), in one zip: returned, or written
    to the file `target` (a path or an open binary file). `progress(done, total)` after each patient-month."""
    from xhtml2pdf import pisa  # loaded when packets are drawn (0.3 s of import a CLI run or a worker mostly skips)

    out = target if target is not None else io.BytesIO()
    decisions = PatientMonthDecision.objects.filter(practice=practice, month=month).select_related("patient")
    total = decisions.count()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for done, d in enumerate(decisions.order_by("patient_id").iterator(chunk_size=200), start=1):
            html = render_to_string("billing/packet.html", {**packet_context(d.patient, month), "pdf": True})
            base = f"{month}/{d.patient.family_name}-{d.patient.given_name}-{d.patient_id}"
            z.writestr(f"{base}.html", html)
            pdf = io.BytesIO()
            pisa.CreatePDF(html, dest=pdf, encoding="utf-8")
            z.writestr(f"{base}.pdf", pdf.getvalue())
            if progress is not None:
                progress(done, total)
    if audit:
        record_audit(
            action=AuditAction.EXPORT, user=by, practice_id=practice.id, object_type="audit_packets", object_id=month
        )
    return out.getvalue() if target is None else None
