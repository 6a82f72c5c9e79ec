"""Evaluate one patient-month for one billing practitioner: lines, counted and excluded minutes, findings
with rule IDs, and the compliant alternatives considered (cms-rules.md §10). Decides; never does."""

from __future__ import annotations

from ccmops.rules.calendar import month_window
from ccmops.rules.candidates import (
    apcm_candidate,
    complex_ok,
    ladder_candidate,
    program_gates,
)
from ccmops.rules.concurrency import check_other_services
from ccmops.rules.conditions import billable_children, classify, condition_name
from ccmops.rules.consent import consent_state
from ccmops.rules.context import Candidate, Context, active_codes, services_start
from ccmops.rules.contract import ContractError, PatientMonth
from ccmops.rules.coverage import coverage_gate
from ccmops.rules.decision import Alternative, CountedMinutes, Decision, Severity, Status
from ccmops.rules.families import LADDERS, PERSONAL_ROLES, STAFF_ROLES
from ccmops.rules.fees import FeeSchedule
from ccmops.rules.findings import Findings
from ccmops.rules.initiation import initiation
from ccmops.rules.policies import DEFAULT_POLICIES, Policies
from ccmops.rules.timecount import count_time
from ccmops.rules.years import RULE_SETS, rule_set_for
from ccmops.rules.years.base import RuleSet


def _rhc_findings(ctx: Context, best: Candidate | None, alternatives: list[Alternative], dx, f: Findings) -> None:
    if ctx.pm.practice.setting not in ("rhc", "fqhc"):
        return
    f.info(
        "RHC.INSTITUTIONAL_CLAIM",
        "RHC/FQHC care management goes on an institutional claim (TOB 71X/77X, revenue code 052X), paid at the "
        "national non-facility rate.",
        "R-RHC-4",
        "R-CLM-FORM-2",
    )
    if not ctx.rules.g0511_transition or best is None or best.program != "ccm":
        return
    last = ctx.policies.g0511_last_payable
    if ctx.window.first_day > last:
        f.info(
            "RHC.G0511.ENDED",
            f"G0511 is no longer payable after {last}; individual codes are billed.",
            "R-RHC-1",
        )
        return
    dos = min(best.lines[0].date_of_service, last)
    line = ctx.line("G0511", 1, dos, dx)
    alternatives.append(
        Alternative(
            (line,),
            line.allowed_amount,
            f"From 2025 RHCs/FQHCs bill the individual care-management codes; G0511 stays payable only in the "
            f"transition through {last} (R-RHC-1, R-RHC-2).",
        )
    )


def _conditions_findings(ctx: Context, f: Findings) -> None:
    c = ctx.conditions
    if c.invalid:
        f.warning(
            "CONDITIONS.INVALID_ICD10CM",
            f"Not in the ICD-10-CM code set: {', '.join(c.invalid)}; they were not used.",
            "R-ELIG-1",
        )
    if c.unclassified:
        f.info(
            "CONDITIONS.UNCLASSIFIED",
            f"Not on the chronic-condition lists (not counted toward eligibility): {', '.join(c.unclassified)}.",
            "R-ELIG-1",
        )
    for header in c.headers:
        children = billable_children(header)
        f.hold(
            "DIAGNOSIS.NOT_BILLABLE",
            f"{header} is a category, not a billable ICD-10-CM code; code the condition to its full length "
            f"({', '.join(children)}{' …' if len(children) == 6 else ''}) before the claim goes out.",
            "R-DX-1",
        )
    if c.acute:
        f.warning(
            "DIAGNOSIS.ACUTE_EPISODE",
            f"{', '.join(c.acute)}: an acute episode (stroke, TIA, acute MI or an initial encounter), "
            "not a chronic condition: not counted and not sent. Later care is coded as "
            "sequelae (I69.3-), history (Z86.73) or old MI (I25.2), as the record supports.",
            "R-DX-2",
        )
    for dropped, kept in c.unspecified_dropped:
        f.info(
            "DIAGNOSIS.UNSPECIFIED_DROPPED",
            f"{dropped} is not reported with the more specific {kept} of the same category.",
            "R-DX-3",
        )


WHY_NOT = {
    ("ccm", "ccm_complex"): "complex and non-complex CCM are never billed in the same month (R-CCM-7)",
    ("ccm", "ccm_personal"): "99491 is not billed in the same month as 99490 or 99487 (R-CCM-4)",
    ("ccm_complex", "ccm_personal"): "99491 is not billed in the same month as 99490 or 99487 (R-CCM-4)",
}


def _why_not(chosen: Candidate, other: Candidate, reason: str = "") -> str:
    pair = WHY_NOT.get((chosen.family, other.family)) or WHY_NOT.get((other.family, chosen.family))
    if pair is None:
        if "apcm" in (chosen.family, other.family):
            pair = "CCM and PCM are bundled into APCM and not billed with it by the same practitioner (R-APCM-6)"
        else:
            pair = "CCM and PCM are not billed by the same practitioner in the same month (R-PCM-1)"
    why = f"{reason}; {pair}" if reason else pair
    return f"{why}; {chosen.lines[0].code} pays ${chosen.total:.2f} against ${other.total:.2f}."


def _enrolled_program(ctx: Context) -> str | None:
    """The program of the most recent consent with this practitioner that covers the month (R-FAM-1 (c))."""
    latest = None
    for program in ("ccm", "pcm", "apcm"):
        state = ctx.consents[program]
        starts = [a for a, b in state.intervals if a < ctx.window.end and b > ctx.window.start]
        if starts and (latest is None or max(starts) > latest[0]):
            latest = (max(starts), program)
    return latest[1] if latest else None


def _choose(ctx: Context, candidates: list[Candidate]) -> tuple[Candidate | None, str]:
    """The family billed, and why it outranks the others (R-FAM-1): under `most_specific` the program the
    patient is enrolled in and, within it, the most specific code whose criteria are documented; under
    `highest_paying`, the highest compliant allowed amount."""
    if not candidates:
        return None, ""
    if ctx.policies.family_choice == "highest_paying":
        return max(candidates, key=lambda c: c.total), "the highest compliant amount (policy family_choice)"
    enrolled = _enrolled_program(ctx)
    mine = [c for c in candidates if c.program == enrolled] if enrolled else candidates
    if not mine:
        return None, f"the patient is enrolled in {enrolled.upper()} (R-FAM-1)"
    by_family = {c.family: c for c in mine}
    staff_only = ctx.time.minutes([mine[0].program], STAFF_ROLES - PERSONAL_ROLES) > 0
    for family in ("ccm_complex", "ccm", "ccm_personal") if staff_only else ("ccm_complex", "ccm_personal", "ccm"):
        if family in by_family:
            return by_family[family], "the most specific code documented (R-FAM-1)"
    for family in ("pcm", "pcm_personal") if staff_only else ("pcm_personal", "pcm"):
        if family in by_family:
            return by_family[family], "the most specific code documented (R-FAM-1)"
    return mine[0], f"the patient is enrolled in {mine[0].program.upper()} (R-FAM-1)"


def _documentation(ctx: Context, best: Candidate, f: Findings) -> tuple[tuple[str, int, str], ...]:
    """Counted minutes of the billed program whose time entry no signed note documents (R-DOC-1, R-TIME-8).
    Only entries whose documentation the facts state are judged (the close states them all)."""
    if best.program == "apcm":
        return ()
    entries = {e.id: e for e in ctx.pm.time_entries}
    seconds: dict[str, int] = {}
    for seg in ctx.time.counted:
        if seg.program == best.program:
            seconds[seg.entry_id] = seconds.get(seg.entry_id, 0) + seg.seconds
    out = []
    for entry_id, secs in seconds.items():
        e = entries[entry_id]
        if not e.documentation_stated:
            continue
        if e.note is None:
            out.append((entry_id, secs // 60, "no note documents it"))
        elif e.note.signed_at is None:
            out.append((entry_id, secs // 60, f"documented only by an unsigned note ({e.note.id}, by {e.note.author})"))
    if out and ctx.policies.require_signed_notes:
        listed = "; ".join(f"{e}: {why}" for e, m, why in out)
        f.hold(
            "DOC.UNSIGNED_TIME",
            f"{sum(m for _, m, _ in out)} counted minutes lack a signed note — {listed}. "
            "Write or sign the notes (or override with a reason) before billing.",
            "R-DOC-1",
            "R-TIME-8",
        )
    return tuple(out)


def evaluate(
    pm: PatientMonth,
    policies: Policies = DEFAULT_POLICIES,
    rules: RuleSet | None = None,
    fees: FeeSchedule | None = None,
) -> Decision:
    """Evaluate a patient-month (the contract's facts) under the policies, then the document's overrides; under
    the month's year's rule set unless `rules` names another (the operational standing's provisional one,
    `years.operational_rule_set_for`; never for billing), priced with `fees` (a loaded fee file for the year)
    or else the rule set's shipped ones.

    Raises:
        ContractError: the month's year has no rule set (and none was given).
    """
    year = int(pm.month[:4])
    rules = rules or rule_set_for(year)
    if rules is None:
        known = ", ".join(str(y) for y in sorted(RULE_SETS))
        raise ContractError([("$.month", f"no Medicare rule set for {year}; ccmops has {known}")])
    policies = policies.with_overrides(pm.policy)
    window = month_window(pm.month, pm.practice.timezone)
    consents = {p: consent_state(pm, p, window, policies) for p in ("ccm", "pcm", "apcm", "bhi")}
    inits = {
        p: initiation(pm, p, window, policies, services_start(consents[p], window)) for p in ("ccm", "pcm", "apcm")
    }
    consented = {p: list(s.intervals) for p, s in consents.items()}
    initiated_from = {p: i.counts_from for p, i in inits.items() if i.counts_from is not None}
    time = count_time(pm, window, policies, consented=consented, initiated_from=initiated_from)
    ctx = Context(
        pm,
        policies,
        rules,
        fees or rules.fees(),
        window,
        classify(active_codes(pm, window)),
        consents,
        inits,
        time,
        check_other_services(pm, policies),
    )
    f = Findings()
    covered = coverage_gate(pm, window, policies, f)
    f.extend(ctx.blocks.findings)
    _conditions_findings(ctx, f)
    dx = ctx.conditions.diagnosis_codes()
    chronic = ctx.conditions.chronic
    candidates: list[Candidate] = []
    entries_by_program = {e.program for e in pm.time_entries if window.start <= e.start < window.end}

    def considered(program: str) -> bool:
        return any(c.program == program for c in pm.consents) or program in entries_by_program

    if considered("ccm"):
        g = Findings()
        eligible = len(chronic) >= 2
        if not eligible:
            names = ", ".join(condition_name(c) for c in sorted(chronic)) or "none"
            g.refusal(
                "CCM.ELIGIBILITY.CONDITIONS",
                f"CCM needs two or more chronic conditions; found {len(chronic)} ({names}).",
                "R-ELIG-1",
            )
        gates = program_gates(ctx, "ccm", g) and eligible
        staff = time.minutes(["ccm"], STAFF_ROLES)
        if gates:
            for family in ("ccm", "ccm_personal"):
                cand = ladder_candidate(ctx, LADDERS[family], dx, g)
                if cand:
                    candidates.append(cand)
            if staff >= 60 and complex_ok(ctx, g):
                cand = ladder_candidate(ctx, LADDERS["ccm_complex"], dx, g)
                if cand:
                    candidates.append(cand)
            if staff < 20 and time.minutes(["ccm"], PERSONAL_ROLES) < 30:
                g.refusal(
                    "CCM.TIME.BELOW_THRESHOLD",
                    f"{staff} counted minutes this month; 99490 needs at least 20 full minutes.",
                    "R-CCM-1",
                    "R-TIME-2",
                )
        f.extend(g)
    if considered("pcm"):
        g = Findings()
        eligible = len(chronic) >= 1
        if not eligible:
            g.refusal(
                "PCM.ELIGIBILITY.CONDITIONS",
                "PCM needs one high-risk chronic condition; none found.",
                "R-ELIG-3",
            )
        if program_gates(ctx, "pcm", g) and eligible:
            for family in ("pcm", "pcm_personal"):
                cand = ladder_candidate(ctx, LADDERS[family], dx[:4], g)
                if cand:
                    candidates.append(cand)
            if not any(c.program == "pcm" for c in candidates):
                g.refusal(
                    "PCM.TIME.BELOW_THRESHOLD",
                    f"{time.minutes(['pcm'], STAFF_ROLES)} counted PCM minutes; 99426 needs at least 30.",
                    "R-PCM-1",
                    "R-TIME-2",
                )
        f.extend(g)
    if considered("apcm"):
        cand = apcm_candidate(ctx, dx, f)
        if cand:
            candidates.append(cand)

    best, reason = _choose(ctx, candidates) if covered else (None, "")
    others = sorted((c for c in candidates if c is not best), key=lambda c: c.total, reverse=True)
    alternatives = [Alternative(c.lines, c.total, _why_not(best, c, reason)) for c in others] if best else []
    if best is None and candidates and covered:
        f.refusal("FAMILY.NOT_ENROLLED", f"Nothing is billed: {reason}.", "R-FAM-1")
        alternatives = [Alternative(c.lines, c.total, f"{reason}.") for c in others]
    _rhc_findings(ctx, best, alternatives, dx, f)
    undocumented: tuple = ()
    if best is not None:
        _claim_findings(ctx, best, f)
        undocumented = _documentation(ctx, best, f)
    if ctx.fees.provisional and best is not None:
        message = f"Amounts are provisional: {ctx.fees.source}. Claims carry the practice's own charges."
        if policies.provisional_fees == "hold":
            f.hold("FEES.PROVISIONAL", message + " Held until the final fee file is loaded (policy).", "R-2027-3")
        else:
            f.info("FEES.PROVISIONAL", message, "R-2027-3", "R-2027-2")
    lines = best.lines if best else ()
    program = best.program if best else ("ccm" if considered("ccm") else "pcm" if considered("pcm") else "ccm")
    counted = CountedMinutes(
        clinical_staff=time.minutes([program], {"clinical_staff", "other_practitioner"}),
        billing_practitioner=time.minutes([program], PERSONAL_ROLES),
    )
    findings = f.all()
    if not lines:
        status = Status.NOTHING_BILLABLE
    elif any(x.severity is Severity.HOLD for x in findings):
        status = Status.HOLD
    else:
        status = Status.READY
    return Decision(
        month=pm.month,
        patient_id=pm.patient.id,
        billing_practitioner_id=pm.billing_practitioner.id,
        status=status,
        lines=lines,
        counted_minutes=counted,
        excluded_time=time.excluded(),
        findings=findings,
        alternatives=tuple(alternatives),
        family=best.family if best else None,
        fee_source=ctx.fees.source,
        fees_provisional=ctx.fees.provisional,
        undocumented=undocumented,
    )


def _claim_findings(ctx: Context, best: Candidate, f: Findings) -> None:
    if best.note:
        f.info("CCM.TIME.BEYOND_LAST_UNIT", best.note, "R-TIME-2")
    dx = best.lines[0].diagnosis_codes
    needed = 1 if best.program == "pcm" or best.lines[0].code == "G0556" else ctx.policies.minimum_diagnoses_ccm
    if len(dx) < needed:
        f.hold(
            "CLAIM.DIAGNOSES.TOO_FEW",
            f"The claim needs at least {needed} ICD-10-CM diagnoses for the qualifying conditions; "
            f"{len(dx)} available. Code the chronic conditions in ICD-10-CM.",
            "R-CLM-FORM-1",
        )
    pairs = [(sn, icd) for sn, icd in ctx.conditions.crosswalked if icd in dx]
    if pairs:
        listed = ", ".join(f"{icd} (from SNOMED CT {sn})" for sn, icd in pairs)
        message = f"Diagnoses suggested from SNOMED CT by a crosswalk: {listed}. A practitioner or coder confirms them"
        if ctx.policies.hold_unconfirmed_crosswalk_diagnoses:
            f.hold("CLAIM.DIAGNOSES.FROM_SNOMED", f"{message} before the claim goes out (policy).", "R-DX-3")
        else:
            f.warning("CLAIM.DIAGNOSES.FROM_SNOMED", f"{message}.", "R-DX-3")
    if not dx:
        f.hold(
            "CLAIM.DIAGNOSES.NONE",
            "No billable diagnosis supports this claim; every claim needs at least one.",
            "R-DX-3",
            "R-CLM-FORM-1",
        )
    if ctx.pm.patient.qmb:
        f.info(
            "CLAIM.QMB.NO_COST_SHARING",
            "The patient is a Qualified Medicare Beneficiary: no deductible or coinsurance may be collected.",
            "R-PAY-2",
            "R-APCM-5",
        )
    init = ctx.initiations.get(best.program)
    initiated_this_month = init is not None and init.visit is not None and ctx.window.contains_date(init.visit.date)
    if initiated_this_month and not any(s.code == "G0506" for s in ctx.pm.other_services):
        f.info(
            "CCM.G0506.AVAILABLE",
            f"G0506 may be billed once with the initiating visit of {init.visit.date} if the practitioner "
            "personally performed extensive assessment and care planning.",
            "R-G0506-1",
        )
    for s in ctx.pm.other_services:
        if s.code == "G0506" and (init is None or init.visit is None or s.date != init.visit.date):
            f.warning(
                "CCM.G0506.NOT_WITH_INITIATING_VISIT",
                f"G0506 dated {s.date} does not share the initiating visit's date of service.",
                "R-G0506-1",
            )
