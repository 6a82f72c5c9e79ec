"""The engine's gates (care plan, program prerequisites, complexity) and the candidate code families it builds for
a patient-month: the time ladders and APCM with its behavioral-health add-ons."""

from __future__ import annotations

import datetime as dt

from ccmops.rules.context import Candidate, Context
from ccmops.rules.families import APCM_BH_ADDONS, STAFF_ROLES, Ladder
from ccmops.rules.findings import Findings
from ccmops.rules.timecount import threshold_date


def care_plan_gate(ctx: Context, program: str, f: Findings) -> bool:
    plan = ctx.pm.care_plan
    label = program.upper()
    wanted = {
        "ccm": ("comprehensive",),
        "pcm": ("disease_specific",),  # a comprehensive plan does not replace it (R-ELIG-3)
        "apcm": ("comprehensive",),
    }
    if plan is None or plan.established_at >= ctx.window.end:
        f.refusal(
            f"{label}.CARE_PLAN.MISSING",
            "No care plan was on file for this month; a plan must exist for every month billed.",
            "R-PLAN-1",
            "R-PLAN-2",
        )
        return False
    if plan.kind not in wanted[program]:
        needed = wanted[program][0].replace("_", "-")
        f.refusal(
            f"{label}.CARE_PLAN.WRONG_KIND",
            f"{label} needs a {needed} care plan; the plan on file is {plan.kind.replace('_', '-')}.",
            "R-PLAN-1",
            *(("R-ELIG-3",) if program == "pcm" else ()),
        )
        return False
    if program == "pcm" and ctx.policies.pcm_requires_complexity_reason and not (plan.complexity_reason or "").strip():
        f.refusal(
            "PCM.NOT_COMPLEX",
            "PCM is for one complex or high-risk condition: the disease-specific plan records no reason (a recent "
            "hospitalization or ED visit for it, frequent medication changes, or management made complex by "
            "comorbidities); a single well-controlled condition does not qualify by itself.",
            "R-ELIG-3",
        )
        return False
    if plan.shared_with_patient_at is None or plan.shared_with_patient_at >= ctx.window.end:
        f.hold(
            f"{label}.CARE_PLAN.NOT_SHARED",
            "No record that the care plan was given to the patient or caregiver; record it before billing.",
            "R-PLAN-3",
        )
    return True


def program_gates(ctx: Context, program: str, f: Findings) -> bool:
    """Consent, initiating visit and care plan for a program; every failure is a finding."""
    ok = True
    state = ctx.consents[program]
    f.extend(state.findings)
    if not state.covers_month(ctx.window):
        ok = False
    init = ctx.initiations[program]
    f.extend(init.findings)
    if not init.satisfied:
        ok = False
    if not care_plan_gate(ctx, program, f):
        ok = False
    if program in ctx.blocks.refused:
        ok = False
    return ok


def complex_ok(ctx: Context, f: Findings) -> bool:
    """Moderate/high MDM this month and the care-plan event the policy asks for (R-CCM-5, R-CCM-6, R-ELIG-2)."""
    w, pm = ctx.window, ctx.pm
    mdm = [
        m
        for m in pm.medical_decision_making
        if m.practitioner_id == pm.billing_practitioner.id
        and m.complexity in ("moderate", "high")
        and w.contains_date(m.date)
    ]
    ok = True
    if not mdm:
        f.refusal(
            "CCM.COMPLEX.NO_MDM",
            "99487 was considered but not billed: no moderate or high complexity medical decision making by "
            "the billing practitioner is documented this month.",
            "R-CCM-5",
            "R-ELIG-2",
        )
        ok = False
    rule = ctx.policies.complex_ccm_care_plan_event
    plan = pm.care_plan
    if rule != "none" and plan is not None:
        in_month = lambda t: w.start <= t < w.end  # noqa: E731
        events = [
            r for r in plan.revisions if in_month(r.at) and (r.substantial or rule == "establishment_or_revision")
        ]
        established = in_month(plan.established_at) and rule == "establishment_or_revision"
        if not events and not established:
            what = "substantially revised" if rule == "substantial_revision" else "established or revised"
            f.refusal(
                "CCM.COMPLEX.NO_CARE_PLAN_EVENT",
                f"99487 was considered but not billed: the care plan was not {what} this month (policy).",
                "R-CCM-6",
            )
            ok = False
    return ok


def date_of_service(ctx: Context, ladder: Ladder, base: int, addon: int) -> dt.date:
    if ctx.policies.date_of_service == "last_day_of_month":
        return ctx.window.last_day
    segments = [s for s in ctx.time.counted if s.program == ladder.program and s.role in ladder.roles]
    return threshold_date(segments, ladder.used_minutes(base, addon) * 60, ctx.window)


def ladder_candidate(ctx: Context, ladder: Ladder, dx: tuple[str, ...], f: Findings) -> Candidate | None:
    minutes = ctx.time.minutes([ladder.program], ladder.roles)
    base, addon = ladder.units(minutes, ctx.policies)
    if not base:
        return None
    dos = date_of_service(ctx, ladder, base, addon)
    lines = [ctx.line(ladder.base, 1, dos, dx)]
    if addon:
        lines.append(ctx.line(ladder.addon, addon, dos, dx))
    leftover = minutes - ladder.used_minutes(base, addon)
    capped = ctx.policies.cap(ladder.addon)
    if capped is not None and addon == capped and leftover > 0:
        note = (
            f"{leftover} counted minutes beyond the {ladder.used_minutes(base, addon)}-minute limit of "
            f"{ladder.label} earn nothing this month."
        )
    elif leftover:
        unit = ladder.addon_minutes
        note = f"{leftover} counted minutes beyond the last full {unit}-minute unit earn nothing this month."
    else:
        note = ""
    return Candidate(ladder.family, ladder.program, tuple(lines), note)


def apcm_candidate(ctx: Context, dx: tuple[str, ...], f: Findings) -> Candidate | None:
    pm = ctx.pm
    if not pm.billing_practitioner.responsible_for_all_primary_care:
        f.refusal(
            "APCM.NOT_PRIMARY_CARE_PRACTITIONER",
            "APCM is billed only by the practitioner responsible for all of the patient's primary care.",
            "R-APCM-2",
            "R-ELIG-4",
        )
        return None
    if not program_gates(ctx, "apcm", f):
        return None
    chronic = len(ctx.conditions.chronic)
    code = "G0556" if chronic <= 1 else ("G0558" if pm.patient.qmb else "G0557")
    dos = ctx.window.last_day
    died = pm.patient.deceased_on
    if died is not None and ctx.window.contains_date(died):
        f.hold(
            "APCM.DIED_THIS_MONTH",
            f"The patient died on {died}: bill APCM only if its services were furnished this month before then "
            "(date of service on or before the date of death).",
            "R-COV-2",
        )
    apcm_dx = dx if chronic >= 2 else dx[:1]
    lines = [ctx.line(code, 1, dos, apcm_dx)]
    addon = apcm_bh_addon(ctx, f)
    if addon:
        lines.append(ctx.line(addon, 1, dos, apcm_dx))
    return Candidate("apcm", "apcm", tuple(lines))


def apcm_bh_addon(ctx: Context, f: Findings) -> str | None:
    """2026 behavioral-health add-on with the APCM base, same practitioner, same month (R-2026-1): no minute
    threshold; a documented activity of the matching kind in the month (a counted BHI time entry is general-BHI
    work) and the BHI consent with its specialist-consultation element (R-CONS-7)."""
    if not ctx.rules.apcm_bh_addons:
        return None
    bhi = ctx.consents["bhi"]
    minutes = ctx.time.minutes(["bhi"], STAFF_ROLES)
    kinds = {a.kind for a in ctx.pm.behavioral_health_activities if ctx.window.contains_date(a.date)}
    w = ctx.window
    if any(e.program == "bhi" and w.start <= e.start < w.end for e in ctx.pm.time_entries):
        kinds.add("general_bhi")  # BHI work logged this month (counted only under a BHI consent)
    cocm = ctx.policies.apcm_behavioral_health_addon == "cocm"
    if not kinds:
        return None
    if not bhi.covers_month(ctx.window):
        f.extend(bhi.findings)
        return None
    if minutes < ctx.policies.apcm_bhi_minimum_minutes:
        f.info(
            "APCM.BH_ADDON.BELOW_MINIMUM",
            f"{minutes} counted BHI minutes; this practice proposes the APCM behavioral-health add-on from "
            f"{ctx.policies.apcm_bhi_minimum_minutes} (policy; CMS set no minute threshold).",
            "R-2026-1",
        )
        return None
    if cocm and not ({"cocm_care_manager", "cocm_registry"} & kinds and "cocm_psychiatric_review" in kinds):
        f.info(
            "APCM.BH_ADDON.COCM_NOT_DOCUMENTED",
            "The CoCM add-on needs this month's documented CoCM work: behavioral health care manager activity or "
            "registry tracking, and the psychiatric consultant's case review.",
            "R-2026-1",
        )
        return None
    if not cocm and "general_bhi" not in kinds:
        return None
    if not cocm:
        code = "G0570"
    else:
        first = bhi.first_documented
        code = "G0568" if first is not None and ctx.window.start <= first < ctx.window.end else "G0569"
    if code in ctx.blocks.blocked_addons:
        f.refusal(
            "APCM.BH_ADDON.MIRROR_BILLED",
            f"{APCM_BH_ADDONS[code]} is billed this month; {code} and its mirror code are never billed together.",
            "R-2026-1",
        )
        return None
    return code
