"""Same-month exclusions against other known services (cms-rules.md §2, R-TIME-5, OIG findings §8.1)."""

from __future__ import annotations

from dataclasses import dataclass, field

from ccmops.rules.calendar import month_window
from ccmops.rules.contract import PatientMonth
from ccmops.rules.families import (
    APCM_BH_ADDONS,
    APCM_BUNDLED_CTBS,
    APCM_CODES,
    ASSESSMENT_CODES,
    BHI_CODES,
    CCM_CODES,
    CPO_CODES,
    DMHT_CODES,
    ESRD_CODES,
    PCM_CODES,
    RPM_CODES,
    TCM_CODES,
)
from ccmops.rules.findings import Findings
from ccmops.rules.policies import Policies

# The holds a known other service puts on a month (a possible second payee): no code changes, the biller decides.
OTHER_SERVICE_HOLDS = frozenset(
    {
        "CCM.DUPLICATE.SAME_PRACTITIONER",
        "CCM.DUPLICATE.OTHER_PRACTITIONER",
        "CCM.ENROLLED_ELSEWHERE",
        "APCM.DUPLICATE.SAME_PRACTITIONER",
        "CCM.CONFLICT.APCM_OTHER_PRACTITIONER",
    }
)


@dataclass
class Blocks:
    """Which programs the other services refuse (with reasons already in `findings`) or hold."""

    refused: set[str] = field(default_factory=set)  # program names: ccm, pcm, apcm
    blocked_addons: set[str] = field(default_factory=set)
    findings: Findings = field(default_factory=Findings)


def check_other_services(pm: PatientMonth, policies: Policies) -> Blocks:
    b = Blocks()
    f = b.findings
    me = pm.billing_practitioner.id
    elsewhere = pm.patient.ccm_elsewhere_since
    if elsewhere is not None:
        # The day it was recorded is not the day the other practice began: an earlier month is held too.
        when = (
            f"since {elsewhere.isoformat()}"
            if elsewhere <= month_window(pm.month, pm.practice.timezone).last_day
            else f"recorded {elsewhere.isoformat()}, after this month; when it began is not known"
        )
        f.hold(
            "CCM.ENROLLED_ELSEWHERE",
            f"The patient's CCM is recorded as furnished by another practice ({when}); only one practitioner can be "
            "paid for CCM per calendar month. Resolve who bills before sending a claim.",
            "R-CONS-2",
        )
    for s in pm.other_services:
        same = s.practitioner_id == me
        who = "this practitioner" if same else f"another practitioner ({s.practitioner_id})"
        subject = who[:1].upper() + who[1:]  # who, at the start of a sentence
        if s.code in CCM_CODES:
            if same:
                f.hold(
                    "CCM.DUPLICATE.SAME_PRACTITIONER",
                    f"{s.code} is already known as billed by this practitioner for this month ({s.date}); "
                    "billing again would duplicate the patient-month.",
                    "R-CCM-7",
                    "R-CLM-EDIT-1",
                )
            else:
                f.hold(
                    "CCM.DUPLICATE.OTHER_PRACTITIONER",
                    f"{subject} is known to bill CCM ({s.code}) for this month; only one practitioner can be paid "
                    "for CCM per calendar month. Resolve who bills before sending a claim.",
                    "R-CONS-2",
                )
        elif s.code in PCM_CODES:
            if same:
                b.refused |= {"ccm", "apcm"}
                f.refusal(
                    "CCM.CONFLICT.PCM_SAME_PRACTITIONER",
                    f"This practitioner bills PCM ({s.code}) this month; neither CCM nor APCM is billed with it by "
                    "the same practitioner in a month (PCM is bundled into APCM).",
                    "R-PCM-1",
                    "R-APCM-6",
                )
            else:
                f.info(
                    "CCM.CONCURRENT.PCM_OTHER_PRACTITIONER",
                    f"PCM ({s.code}) by {who} may be billed alongside this practitioner's CCM.",
                    "R-PCM-1",
                )
        elif s.code in APCM_CODES:
            if same:
                b.refused |= {"ccm", "pcm"}
                f.hold(
                    "APCM.DUPLICATE.SAME_PRACTITIONER",
                    f"APCM ({s.code}) is already known as billed by this practitioner this month; CCM and PCM "
                    "are bundled into APCM and APCM is billed once.",
                    "R-APCM-6",
                    "R-APCM-2",
                )
            else:
                b.refused.add("apcm")
                f.refusal(
                    "APCM.OTHER_PRACTITIONER",
                    f"{subject} bills APCM ({s.code}) this month; only one practitioner may bill APCM per month.",
                    "R-APCM-2",
                )
                if policies.hold_ccm_in_other_practitioner_apcm_month:
                    f.hold(
                        "CCM.CONFLICT.APCM_OTHER_PRACTITIONER",
                        f"{subject} bills APCM this month; CCM/PCM by a different practitioner in an APCM month is "
                        "unconfirmed and held for review (policy).",
                        "R-APCM-6",
                    )
        elif s.code in CPO_CODES:
            if same and policies.block_same_practitioner_care_plan_oversight:
                b.refused |= {"ccm", "pcm"}
                f.refusal(
                    "CCM.CONFLICT.CARE_PLAN_OVERSIGHT",
                    f"This practitioner bills care-plan oversight ({s.code}) this month; care management is "
                    "integral to it (policy: blocked for the same practitioner).",
                    "R-TIME-5",
                )
            else:
                f.info(
                    "CCM.CONCURRENT.CARE_PLAN_OVERSIGHT",
                    f"{s.code} by {who}: allowed if no minutes overlap.",
                    "R-TIME-5",
                )
        elif s.code in ESRD_CODES:
            if same and policies.block_same_practitioner_esrd:
                b.refused |= {"ccm", "pcm"}
                f.refusal(
                    "CCM.CONFLICT.ESRD",
                    f"This practitioner bills ESRD monthly services ({s.code}); CCM alongside them by the same "
                    "practitioner is an overlapping care-management service (policy: blocked).",
                    "R-TIME-5",
                )
            else:
                f.warning(
                    "CCM.CONCURRENT.ESRD_OTHER_PRACTITIONER",
                    f"ESRD services ({s.code}) by {who}: concurrency with CCM is unconfirmed; "
                    "check the minutes are separate.",
                    "R-TIME-5",
                )
        elif s.code in TCM_CODES:
            if same:
                b.refused.add("apcm")
                f.refusal(
                    "APCM.CONFLICT.TCM",
                    f"TCM ({s.code}) by this practitioner is bundled into APCM; APCM is not billed with it.",
                    "R-APCM-6",
                )
            f.info(
                "CCM.CONCURRENT.TCM",
                f"TCM ({s.code}) by {who} may be billed with CCM; its minutes are not counted twice.",
                "R-TIME-5",
            )
        elif s.code in RPM_CODES:
            f.info(
                "CCM.CONCURRENT.RPM",
                f"RPM/RTM ({s.code}) by {who} may be billed alongside; its minutes are not counted twice.",
                "R-TIME-5",
            )
        elif s.code in APCM_BUNDLED_CTBS and same:
            b.refused.add("apcm")
            f.refusal(
                "APCM.CONFLICT.BUNDLED_SERVICE",
                f"{s.code} by this practitioner is bundled into APCM; bill one or the other.",
                "R-APCM-6",
            )
        elif s.code in BHI_CODES and same:
            for addon, mirror in APCM_BH_ADDONS.items():
                # G2214 (CoCM, first 30 minutes) stands for the CoCM add-ons as their mirrors do (R-BHI-2)
                if mirror == s.code or (s.code == "G2214" and addon in ("G0568", "G0569")):
                    b.blocked_addons.add(addon)
            f.info(
                "CCM.CONCURRENT.BHI",
                f"{s.code} by this practitioner: allowed with CCM when the patient consented to both and no minute "
                "counts twice; never with its APCM add-on mirror.",
                "R-BHI-2",
                "R-TIME-5",
                "R-2026-1",
            )
        elif s.code in DMHT_CODES:
            f.info(
                "CCM.CONCURRENT.DMHT",
                f"Digital mental health treatment ({s.code}) by {who} may be billed alongside; its management "
                "minutes are never CCM or BHI minutes.",
                "R-2026-7",
                "R-TIME-5",
            )
        elif s.code in ASSESSMENT_CODES:
            f.info(
                "CCM.CONCURRENT.G0136",
                f"G0136 by {who} is, from 2026, a physical activity and nutrition assessment (no longer a social "
                "determinants of health risk assessment); SDOH screening stays a care-plan element.",
                "R-2026-6",
            )
    return b
