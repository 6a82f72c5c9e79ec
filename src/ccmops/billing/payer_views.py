"""The payer files page (issue 35): read a 999, 277CA, 835 or 271 the payer or clearinghouse sent back, and see what
each file did — the batch acknowledged or rejected, the claims the front end rejected, the lines posted with the
denials' next steps, and what matched nothing."""

from __future__ import annotations

import zoneinfo
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from ccmops.access.operating_model import Function
from ccmops.billing.eligibility import latest_results, needs_look_first, write_inquiry
from ccmops.billing.models import EligibilityInquiry, PayerFile
from ccmops.billing.payer_codes import GROUPS, RARC, reason_words
from ccmops.billing.payer_files import import_x12, said, uploaded_text
from ccmops.billing.receivables import (
    BUCKETS,
    STATUSES,
    receivables,
    receivables_csv,
    receivables_practice,
    write_off,
)
from ccmops.errors import NOT_FOUND, Conflict, InvalidInput, NotFound
from ccmops.patients.scope import practice_for, request_scope
from ccmops.patients.views import may_do_any
from ccmops.platform import charts


def _practice(request, practice_id: int):
    return practice_for(request, practice_id, Function.BILLING)


@login_required
def payer_files(request, practice_id: int):
    """The files read, newest first, and the upload of the next one."""
    practice = _practice(request, practice_id)
    error = None
    if request.method == "POST":
        upload = request.FILES.get("file")
        try:
            text = uploaded_text(upload)
            file, new = import_x12(practice=practice, text=text, name=upload.name, by=request.user)
        except InvalidInput as exc:
            error = str(exc)
        else:
            return redirect(f"/payer-files/{file.id}/" + ("" if new else "?again=1"))
    files = [(f, said(f)) for f in PayerFile.objects.filter(practice=practice).select_related("received_by")[:100]]
    return render(
        request,
        "billing/payer_files.html",
        {"practice": practice, "files": files, "error": error},
        status=422 if error else 200,
    )


@login_required
def payer_file(request, file_id: int):
    found = PayerFile.objects.filter(id=file_id).select_related("received_by").first()
    if found is None:
        raise NotFound(NOT_FOUND)
    practice = _practice(request, found.practice_id)
    lines = []
    for r in found.remit_lines.select_related("claim_line__patient"):
        r.reasons = [reason_words(a["group"], a["reason"]) + f" ${a['amount']}" for a in r.adjustments]
        r.remarks_said = [m + (f" ({RARC[m]})" if m in RARC else "") for m in r.remarks]
        lines.append(r)
    denials = [r for r in lines if r.status == "denied" or r.claim_line is None]
    return render(
        request,
        "billing/payer_file.html",
        {"practice": practice, "file": found, "said": said(found), "lines": lines, "denials": denials, "groups": GROUPS,
         "again": request.GET.get("again") == "1",
         "eligibility": sorted(found.eligibility_results.select_related("patient"), key=needs_look_first)},
    )  # fmt: skip


@login_required
def receivables_page(request, practice_id: int):
    """Claims by status, open balances by age, denial reasons, collected against expected by month; CSV."""
    practice = receivables_practice(request, practice_id)
    today = timezone.localdate(timezone=zoneinfo.ZoneInfo(practice.time_zone))
    result = receivables(practice, today)
    if request.GET.get("format") == "csv":
        response = HttpResponse(receivables_csv(result), content_type="text/csv")
        response["Content-Disposition"] = f'attachment; filename="receivables-{practice.slug}-{today}.csv"'
        return response
    shown = request.GET.get("status", "")
    claims = [c for c in result.claims if not shown or c.status == shown]
    claims.sort(key=lambda c: (-(c.age_days or 0) if c.balance else 1, c.month, str(c.patient)))
    return render(
        request,
        "billing/receivables.html",
        {
            "practice": practice, "result": result, "claims": claims[:500], "more": max(0, len(claims) - 500),
            "shown": shown, "statuses": STATUSES, "today": today, "error": request.GET.get("error", ""),
            "may_write_off": may_do_any(request_scope(request), practice.id, (Function.BILLING,)),
            "aging_chart": charts.hbars("Open balance by age", [(b, float(result.aging[b])) for b in BUCKETS],
                                        unit="$"),
            "denial_chart": charts.hbars("Denied lines by reason", [(d["reason"], d["lines"]) for d in
                                                                    result.denials[:8]], colour=charts.PALETTE[3])
            if result.denials else None,
            "month_chart": charts.hbars("Collected of expected, by month",
                                        [(r["month"], float(r["collected"] / r["expected"]) if r["expected"] else 0.0)
                                         for r in result.by_month], percent=True, colour=charts.PALETTE[2])
            if result.by_month else None,
        },
    )  # fmt: skip


@login_required
@require_POST
def eligibility_inquiry(request, practice_id: int, month: str):
    """Write the month's 270 (a POST: it numbers and keeps a file), then back to the month with its download."""
    practice = _practice(request, practice_id)
    try:
        inquiry = write_inquiry(practice=practice, month=month, by=request.user)
    except (InvalidInput, Conflict) as exc:
        query = {"error": str(exc)}
    else:
        query = {"notice": f"270 #{inquiry.control_number} written for {inquiry.patients} patient(s): download it "
                           "below and send it to your clearinghouse; read the 271 on Payer files."}  # fmt: skip
    return redirect(f"/practices/{practice.id}/months/{month}/?{urlencode(query)}#eligibility")


@login_required
def inquiry_file(request, inquiry_id: int):
    """A 270 as written."""
    inquiry = EligibilityInquiry.objects.filter(id=inquiry_id).first()
    if inquiry is None:
        raise NotFound(NOT_FOUND)
    practice = _practice(request, inquiry.practice_id)
    response = HttpResponse(inquiry.content, content_type="text/plain")
    name = f"{practice.slug}-{inquiry.month}-270-{inquiry.control_number}.x12"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


def eligibility_context(practice, month: str) -> dict:
    """What the month page shows of eligibility: the 270s written and each patient's newest answer."""
    return {
        "inquiries": EligibilityInquiry.objects.filter(practice=practice, month=month).select_related("created_by")[:5],
        "eligibility": latest_results(practice, month),
    }


@login_required
@require_POST
def write_off_claim(request, practice_id: int):
    """Write a claim's open balance off (billers), with the reason; back to the claims with the outcome."""
    practice = _practice(request, practice_id)
    claim_id = request.POST.get("claim_id", "")
    today = timezone.localdate(timezone=zoneinfo.ZoneInfo(practice.time_zone))
    try:
        write_off(practice=practice, claim_id=claim_id, reason=request.POST.get("reason", ""), by=request.user,
                  today=today)  # fmt: skip
    except (InvalidInput, Conflict) as exc:
        return redirect(f"/practices/{practice.id}/receivables/?{urlencode({'error': str(exc)})}#claims")
    return redirect(f"/practices/{practice.id}/receivables/?status=written+off#claims")
