"""The biller's month: evaluate, review queue with overrides, approve and close."""

from __future__ import annotations

import dataclasses
import json
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from ccmops.access.operating_model import Function
from ccmops.access.policy import Role
from ccmops.billing.adjustments import open_impacts, resolve, resolve_unchanged, resolved_adjustments
from ccmops.billing.evaluation import closable_from, summarize
from ccmops.billing.exports import charges_csv, export_837p
from ccmops.billing.fhir_claims import claims_bundle
from ccmops.billing.jobs import month_job, start_approval, start_evaluation, start_lookback, start_packets
from ccmops.billing.known import (
    import_known_services,
    record_known_service,
    release_following,
    withdraw_known_service,
)
from ccmops.billing.lookback import Lookback
from ccmops.billing.models import ClaimBatch, ClaimLine, KnownService, PatientMonthDecision
from ccmops.billing.packets import packet_context, render_packet
from ccmops.billing.payer_files import with_next_steps
from ccmops.billing.payer_views import eligibility_context
from ccmops.billing.remittance import (
    REMIT_STATUSES,
    import_remittance,
    mark_rejected,
    mark_submitted,
    record_line_remittance,
    sent_batch,
)
from ccmops.billing.revenue import month_revenue
from ccmops.billing.review import override
from ccmops.billing.wording import humanizer
from ccmops.documentation.models import Note, of_month
from ccmops.errors import NOT_FOUND, Conflict, InvalidInput, NotFound
from ccmops.jobs.models import Job
from ccmops.months.models import Adjustment, MonthClose
from ccmops.months.month import Month, checked
from ccmops.patients.scope import practice_for, request_scope
from ccmops.patients.views import may_do_any, parse_day, patient_for_any
from ccmops.platform import charts
from ccmops.platform.numerals import ascii_digits
from ccmops.platform.pdf import pdf_response
from ccmops.rules.calendar import month_window
from ccmops.timetracking.models import TimeEntry


def _billing_practice(request, practice_id: int):
    return practice_for(request, practice_id, Function.BILLING)


def auditing_practice(request, practice_id: int):
    """The practice, for its billers and for its own compliance reviewers (the lookback and the packets)."""
    scope = request_scope(request)
    practice = scope.practice(practice_id)
    if Role.COMPLIANCE_REVIEWER not in scope.decision.roles_at(practice.id):
        scope.require(practice.id, Function.BILLING)
    return practice


@login_required
def lookback_page(request, practice_id: int):
    """Closed months re-decided under today's rules and facts, without changing them: every patient-month that
    would be billed differently now (the practice's self-audit)."""

    practice = auditing_practice(request, practice_id)
    last = str(Month.current(practice.time_zone).previous())
    first = f"{int(last[:4]) - 1}-{last[5:]}"
    start, end = request.GET.get("from", "").strip() or first, request.GET.get("to", "").strip() or last
    context = {"practice": practice, "start": start, "end": end, "found": None, "rows": [], "job": None}
    job = None
    if request.GET.get("job"):
        job = request_scope(request).job(request.GET["job"])
        if job.kind != "lookback" or job.practice_id != practice.id:
            raise NotFound(NOT_FOUND)
        start, end = job.params["start"], job.params["end"]
    elif "from" in request.GET or "to" in request.GET:
        checked(start, "from")
        checked(end, "to")
        url = reverse("lookback", args=[practice.id])
        job = start_lookback(practice=practice, start=start, end=end, by=request.user, return_url=url)
        Job.objects.filter(pk=job.pk).update(return_url=f"{url}?job={job.id}")
    if job is not None and job.status == "succeeded":
        found = Lookback.from_dict(job.result)
        say = humanizer([r for d in found.differences for r in d.reasons], practice.time_zone)
        context |= {"found": found, "rows": [(d, [say(r) for r in d.reasons]) for d in found.differences]}
    context |= {"job": job, "start": start, "end": end}
    return render(request, "billing/lookback.html", context)


def undocumented_entries(decisions) -> dict[int, list[dict]]:
    """Per held decision, the time entries whose counted minutes no signed note documents (R-DOC-1), with the
    draft note to sign when there is one: what the month page links to."""
    wanted: dict[int, dict[int, dict]] = {}
    for d in decisions:
        for item in d.decision.get("undocumented_time", []):
            entry_id = int(item["entry_id"].split("-")[1])  # the facts' id: te-<entry>-<segment>
            row = wanted.setdefault(d.id, {}).setdefault(entry_id, {"minutes": 0, "why": item["why"]})
            row["minutes"] += item["minutes"]
    ids = {e for rows in wanted.values() for e in rows}
    entries = TimeEntry.objects.filter(id__in=ids).select_related("staff").in_bulk()
    drafts = {
        n.time_entry_id: n
        for n in Note.objects.filter(time_entry_id__in=ids, signed_at__isnull=True).select_related("author")
    }
    return {
        decision_id: [
            {
                "entry": entries[e],
                "minutes": row["minutes"],
                "why": f"the note by {drafts[e].author} is not signed" if e in drafts else "no note documents it",
                "draft": drafts[e].id if e in drafts else None,
            }
            for e, row in rows.items()
            if e in entries
        ]
        for decision_id, rows in wanted.items()
    }


@login_required
def month_page(request, practice_id: int, month: str):
    """One month's close (the months list, `month_list.months_page`, opens it and takes the "Go to month" box)."""
    practice = _billing_practice(request, practice_id)
    decisions = PatientMonthDecision.objects.filter(practice=practice, month=month).select_related("patient")
    impacts = open_impacts(practice, month)
    queue = list(decisions.filter(review="needs_review"))
    undocumented = undocumented_entries(queue)
    say = humanizer(
        [f["message"] for d in queue for f in d.reasons] + [f["message"] for i in impacts for f in i.now_findings],
        practice.time_zone,
    )
    for d in queue:
        d.undocumented = undocumented.get(d.id, [])
        d.shown_reasons = [{**f, "message": say(f["message"])} for f in d.reasons]
    impacts = [  # said for a person: the entry's time, the note, the person; the status in words
        dataclasses.replace(
            i,
            now_findings=[{**f, "message": say(f["message"])} for f in i.now_findings],
            now_status=PatientMonthDecision.STATUS_LABELS.get(i.now_status, i.now_status),
        )
        for i in impacts
    ]
    return render(
        request,
        "billing/month.html",
        {
            "practice": practice,
            "month": month,
            "close": MonthClose.objects.filter(practice=practice, month=month).first(),
            "job": month_job(practice, month, request.user),
            "closable_from": closable_from(practice, month),
            "summary": (summary := summarize(practice, month)),
            "queue": queue,
            "overridden": decisions.filter(review="overridden"),
            "lines": with_next_steps(
                ClaimLine.objects.filter(practice=practice, month=month)
                .select_related("patient")
                .order_by("patient__family_name", "code")
            ),
            "batches": ClaimBatch.objects.filter(practice=practice, month=month)
            .select_related("created_by", "submitted_by", "rejected_by")
            .order_by("-control_number"),
            "sent": sent_batch(practice, month),
            "remit_statuses": REMIT_STATUSES,
            "revenue": (revenue := month_revenue(practice, month)),
            "outcome_chart": charts.hbars(
                f"Patient-months of {month} by outcome",
                [
                    ("Ready to bill", summary.ready),
                    ("Held for review", summary.needs_review),
                    ("Nothing billable", summary.nothing_billable),
                ],
            ),
            "code_chart": charts.hbars(
                f"Allowed by code, {month}",
                [(code, float(v["allowed"])) for code, v in revenue.by_code.items()],
                unit="$",
                colour=charts.PALETTE[1],
            ),
            "drafts": Note.objects.filter(
                of_month(month_window(month, practice.time_zone)), practice=practice, signed_at__isnull=True
            )
            .select_related("patient", "author")
            .order_by("patient__family_name", "patient__given_name", "created_at"),
            "impacts": impacts,
            "unchanged": sum(1 for i in impacts if not i.changes and not i.held_by_known_service),
            "resolved": resolved_adjustments(practice, month)[:50],
            "outcomes": Adjustment.OUTCOMES,
            "error": request.GET.get("error", ""),
            "notice": request.GET.get("notice", ""),
            **eligibility_context(practice, month),
        },
    )


def _back(practice, month, error="", notice=""):

    url = f"/practices/{practice.id}/months/{month}/"
    query = {k: v for k, v in (("error", error), ("notice", notice)) if v}
    return redirect(url + (f"?{urlencode(query)}" if query else ""))


def _after_job(practice, month, job):
    """Back to the month page: a job that already ended (run inline) says how; one under way shows there."""
    if job.status == "failed":
        return _back(practice, month, job.error)
    return _back(practice, month)


@login_required
@require_POST
def run_close(request, practice_id: int, month: str):
    """Start the month's evaluation as a job (or join the one under way); the month page shows its progress."""
    practice = _billing_practice(request, practice_id)
    try:
        job = start_evaluation(practice=practice, month=month, by=request.user)
    except (Conflict, InvalidInput) as exc:
        return _back(practice, month, str(exc))
    return _after_job(practice, month, job)


@login_required
@require_POST
def decision_override(request, decision_id: int):
    decision = PatientMonthDecision.objects.select_related("practice", "patient").filter(id=decision_id).first()
    if decision is None:
        raise NotFound(NOT_FOUND)
    practice = _billing_practice(request, decision.practice_id)
    try:
        override(
            decision=decision,
            action=request.POST.get("action", ""),
            reason=request.POST.get("reason", ""),
            by=request.user,
        )
    except (Conflict, InvalidInput) as exc:
        return _back(practice, decision.month, str(exc))
    return _back(practice, decision.month)


@login_required
@require_POST
def approve(request, practice_id: int, month: str):
    practice = _billing_practice(request, practice_id)
    try:
        raw = request.POST.get("version", "")
        if not ascii_digits(raw):
            raise InvalidInput("version: the approval must name the evaluation you reviewed; reload the page")
        job = start_approval(practice=practice, month=month, by=request.user, expected_version=int(raw))
    except (Conflict, InvalidInput) as exc:
        return _back(practice, month, str(exc))
    return _after_job(practice, month, job)


@login_required
@require_POST
def produce_837p(request, practice_id: int, month: str):
    """Produce a new 837P batch (a POST: it numbers and records a file); the file is then downloaded from its
    batch, and the claims held out are listed with their reasons on the month page."""
    practice = _billing_practice(request, practice_id)
    try:
        batch = export_837p(practice=practice, month=month, by=request.user, test=request.POST.get("test") == "on")
    except (Conflict, InvalidInput) as exc:
        return _back(practice, month, str(exc))
    held = f"; {len(batch.held_out)} claim(s) held out, listed below" if batch.held_out else ""
    kind = "test file" if batch.test else "837P"
    return _back(
        practice,
        month,
        notice=f"{kind} #{batch.control_number} produced: {batch.claims} claim(s), ${batch.total} charged{held}.",
    )


@login_required
def download(request, practice_id: int, month: str, kind: str):
    practice = _billing_practice(request, practice_id)
    try:
        if kind == "csv":
            body, ctype, name = (
                charges_csv(practice=practice, month=month, by=request.user),
                "text/csv",
                f"{practice.slug}-{month}-charges.csv",
            )
        elif kind == "fhir":
            body, ctype, name = (
                json.dumps(claims_bundle(practice=practice, month=month, by=request.user), indent=1),
                "application/fhir+json",
                f"{practice.slug}-{month}-claims.fhir.json",
            )
        else:
            raise NotFound(f"No export {kind}.")
    except (Conflict, InvalidInput) as exc:
        return _back(practice, month, str(exc))
    response = HttpResponse(body, content_type=ctype)
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@login_required
def packet(request, patient_id: int, month: str):
    scope = request_scope(request)
    patient = scope.patient(patient_id)
    # billing at the patient's practice, or a compliance reviewer *of that practice* (not a role held elsewhere)
    if scope.decision.grant_for(
        patient.practice_id, Function.BILLING
    ) is None and Role.COMPLIANCE_REVIEWER not in scope.decision.roles_at(patient.practice_id):
        scope.require(patient.practice_id, Function.BILLING)
    if request.GET.get("format") == "pdf":
        return pdf_response("billing/packet.html", packet_context(patient, month), f"packet-{patient.id}-{month}.pdf")
    return HttpResponse(render_packet(patient, month, by=request.user))


@login_required
@require_POST
def packets(request, practice_id: int, month: str):
    """Every audit packet of the month as one zip, built by a job; its page offers the download."""
    practice = _billing_practice(request, practice_id)
    job = start_packets(practice=practice, month=month, by=request.user)
    return redirect("job_page", job_id=job.id)


@login_required
def batch_file(request, practice_id: int, month: str, control_number: int):
    """An 837P batch's file as it was produced (and, once submitted, as it was sent)."""
    practice = _billing_practice(request, practice_id)
    batch = ClaimBatch.objects.filter(practice=practice, month=month, control_number=control_number).first()
    if batch is None:
        raise NotFound(f"No 837P #{control_number} for {practice.name} in {month}.")
    response = HttpResponse(batch.content, content_type="text/plain")
    response["Content-Disposition"] = f'attachment; filename="{practice.slug}-{month}-837p-{control_number}.x12"'
    return response


@login_required
@require_POST
def remittance(request, practice_id: int, month: str):
    """Batches marked submitted or rejected, a line's outcome by hand, or a remittance CSV."""
    practice = _billing_practice(request, practice_id)
    try:
        if "batch" in request.POST:
            raw = request.POST["batch"]
            batch = ClaimBatch.objects.filter(practice=practice, month=month, id=int(raw) if ascii_digits(raw) else -1)
            if not batch.exists():
                raise NotFound("No such batch.")
            if request.POST.get("action") == "rejected":
                mark_rejected(batch=batch.get(), reason=request.POST.get("reason", ""), by=request.user)
            else:
                mark_submitted(batch=batch.get(), by=request.user)
        elif "line" in request.POST:
            raw = request.POST["line"]
            line = ClaimLine.objects.filter(practice=practice, month=month, id=int(raw) if ascii_digits(raw) else -1)
            if not line.exists():
                raise NotFound("No such claim line.")
            record_line_remittance(
                line=line.get(),
                status=request.POST.get("status", ""),
                paid_amount=request.POST.get("paid_amount", ""),
                note=request.POST.get("note", ""),
                by=request.user,
            )
        else:
            upload = request.FILES.get("file")
            if upload is None:
                raise InvalidInput("file: choose the remittance CSV")
            import_remittance(
                practice=practice,
                text=upload.read().decode("utf-8", "replace"),
                file_label=upload.name,
                by=request.user,
            )
    except (Conflict, InvalidInput) as exc:
        return _back(practice, month, str(exc))
    return _back(practice, month)


@login_required
@require_POST
def resolve_adjustments(request, practice_id: int, month: str):
    """Resolve one patient-month's queued late work, as the biller saw it on the month page."""
    practice = _billing_practice(request, practice_id)
    try:
        raw = request.POST.getlist("adjustment")
        if not all(ascii_digits(x) for x in raw):
            raise InvalidInput("adjustment: expected the queued entries' ids; reload the page")
        resolve(
            practice=practice,
            month=month,
            adjustment_ids=[int(x) for x in raw],
            outcome=request.POST.get("outcome", ""),
            note=request.POST.get("note", ""),
            reference=request.POST.get("reference", ""),
            by=request.user,
        )
    except (Conflict, InvalidInput) as exc:
        return _back(practice, month, str(exc))
    return _back(practice, month)


@login_required
@require_POST
def resolve_unchanged_adjustments(request, practice_id: int, month: str):
    """Resolve every queued patient-month without code changes as "no change" (the month page's button)."""
    practice = _billing_practice(request, practice_id)
    try:
        resolve_unchanged(practice=practice, month=month, by=request.user)
    except (Conflict, InvalidInput) as exc:
        return _back(practice, month, str(exc))
    return _back(practice, month)


KNOWN_SERVICE_FUNCTIONS = (Function.BILLING, Function.CARE_COORDINATION)  # who learns of them: billing, care team


def may_record_known_services(scope, practice_id: int) -> bool:
    return may_do_any(scope, practice_id, KNOWN_SERVICE_FUNCTIONS)


def known_service_patient(request, patient_id: int):
    """The patient, when the user may see them and record services known for them (billing or care
    coordination)."""
    return patient_for_any(request, patient_id, KNOWN_SERVICE_FUNCTIONS)


def known_service_in_scope(request, service_id: int) -> KnownService:
    service = KnownService.objects.filter(id=service_id).first()
    if service is None:
        raise NotFound(f"No known service {service_id}.")
    known_service_patient(request, service.patient_id)  # the patient's scope first: no probing
    return service


@login_required
@require_POST
def known_service_record(request, patient_id: int):
    patient = known_service_patient(request, patient_id)
    record_known_service(
        patient=patient,
        code=request.POST.get("code", ""),
        date_of_service=parse_day(request.POST.get("date_of_service", ""), "date_of_service", required=True),
        practitioner_npi=request.POST.get("practitioner_npi", ""),
        source=request.POST.get("source", ""),
        by=request.user,
    )
    return redirect(reverse("patient_detail", args=[patient.id]) + "#known-services")


@login_required
@require_POST
def known_service_withdraw(request, service_id: int):
    service = known_service_in_scope(request, service_id)
    withdraw_known_service(service=service, reason=request.POST.get("reason", ""), by=request.user)
    return redirect(reverse("patient_detail", args=[service.patient_id]) + "#known-services")


@login_required
@require_POST
def known_service_release(request, service_id: int):
    """Release the months after another provider's paid service: the patient confirmed who furnishes their CCM."""
    service = known_service_in_scope(request, service_id)
    release_following(service=service, reason=request.POST.get("reason", ""), by=request.user)
    return redirect(reverse("patient_detail", args=[service.patient_id]) + "#known-services")


@login_required
@require_POST
def known_services_upload(request, practice_id: int, month: str):
    """A CSV of services known to be billed (the practice's own TCM or PCM claims from its practice-management
    system, duplicates a remittance reported), all or nothing."""
    practice = _billing_practice(request, practice_id)
    upload = request.FILES.get("file")
    try:
        if upload is None:
            raise InvalidInput("file: choose the CSV of known services")
        done = import_known_services(
            practice=practice, text=upload.read().decode("utf-8", "replace"), file_label=upload.name, by=request.user
        )
    except InvalidInput as exc:
        return _back(practice, month, str(exc))
    return _back(
        practice,
        month,
        notice=f"{upload.name}: {len(done.created)} service(s) recorded, {done.already_on_record} already on record. "
        "Evaluate the months they fall in again (closed months have them in their adjustment queue).",
    )
