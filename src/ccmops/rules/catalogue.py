"""Every rule ID of cms-rules.md and how ccmops handles it. `decides`: the engine applies it to a
patient-month; `policy`: a named policy (see `policies`); `reports`: the engine says it in a finding but cannot
decide it from the contract's facts; `workflow`: enforced outside the engine, by the product area named."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RuleHandling:
    rule: str
    handling: str  # decides | policy | reports | workflow
    how: str


_ROWS = """
R-CCM-1|decides|99490 at ≥20 counted staff minutes
R-CCM-2|decides|99439 per further full 20 minutes, at most 2 (cap_99439)
R-CCM-3|decides|99491 at ≥30 personal minutes, 99437 per further 30
R-CCM-4|decides|99491 family never with 99490/99487; the others become alternatives
R-CCM-5|decides|99487 at ≥60 with moderate/high MDM, 99489 per further 30
R-CCM-6|policy|complex_ccm_care_plan_event
R-CCM-7|decides|one CCM family per month; known same-practitioner CCM claim holds the month
R-CCM-ACT|workflow|activity categories on time entries and note templates (monthly execution)
R-PCM-1|decides|99426/99424 at ≥30, add-ons per 30; not with CCM by the same practitioner
R-PCM-2|policy|cap_99425, cap_99427
R-PCM-3|decides|partner (contracted) staff minutes count under general supervision
R-RHC-1|policy|g0511_last_payable_date; G0511 offered as an alternative during the 2025 transition
R-RHC-2|decides|G0511 priced from the 2025 file, absent from 2026
R-RHC-3|decides|2026 APCM behavioral-health add-ons available to RHC/FQHC settings
R-RHC-4|reports|RHC/FQHC institutional claim at the national non-facility rate
R-APCM-1|decides|G0556/G0557/G0558 by chronic-condition count and QMB
R-APCM-2|decides|no time threshold; once per month; one APCM practitioner
R-APCM-3|decides|consent and a shared care plan required; other elements are program workflow
R-APCM-4|policy|initiating_visit_months_apcm (36): any known professional service of the practitioner or group
R-APCM-5|decides|20% coinsurance, none for QMB
R-APCM-6|policy|hold_ccm_in_other_practitioner_apcm_month (opt-in); same practitioner's CCM/PCM/TCM exclude APCM
R-APCM-7|decides|auxiliary (including partner) staff furnish APCM; time is not required
R-2026-1|decides|G0568–G0570 with the APCM base, same practitioner; a documented activity, no minutes; never the mirror
R-2026-2|decides|2026 conversion factor 33.4009, QP 33.5675
R-2026-3|decides|RVUs of time-based codes carry no efficiency adjustment (packaged 2026 file)
R-2026-4|decides|the same ladders in 2025 and 2026
R-2026-5|reports|RPM 99445/99470, RTM 98984/98985/98986/98979: known concurrent services, minutes counted once
R-G0506-1|reports|G0506 suggested with the initiating visit; a G0506 on another date is flagged
R-TIME-1|decides|one calendar month; other months' minutes excluded (OTHER_MONTH)
R-TIME-2|decides|full minutes and full increments, no rounding
R-TIME-3|decides|non-clinical time excluded; billing practitioner time counts as staff time
R-TIME-4|decides|no practitioner minutes required for staff codes
R-TIME-5|decides|minutes counted for another service excluded (COUNTED_ELSEWHERE)
R-TIME-6|policy|facility_stay_whole_days; stay days excluded (FACILITY_STAY)
R-TIME-7|decides|minutes before consent or initiating visit excluded
R-TIME-8|policy|require_signed_notes; each entry carries start, minutes, staff, role, employer and its note
R-TIME-9|policy|simultaneous_staff_count_once; overlaps counted once (OVERLAP)
R-TIME-10|decides|month in the practice's time zone
R-ELIG-1|decides|two or more qualifying chronic conditions for CCM
R-ELIG-2|decides|complex CCM eligibility: MDM and care-plan event
R-ELIG-3|policy|pcm_requires_complexity_reason; a disease-specific plan; CCM patients are billed CCM
R-ELIG-4|decides|APCM: practitioner responsible for all primary care; QMB verified per month
R-ELIG-5|decides|billing credential MD, DO, NP, PA, CNS or CNM (contract validation)
R-INIT-1|policy|initiating_visit_months_ccm_pcm; required when not seen in the window
R-INIT-2|decides|E/M 2–5, AWV, IPPE or TCM face-to-face; 99211 does not qualify
R-INIT-3|decides|the billing practitioner's visit that discussed care management
R-INIT-4|decides|consent need not be on the initiating visit's date
R-INIT-5|policy|initiating_visit_months_apcm (36); visits and known services of the group count
R-CONS-1|decides|documented consent required before minutes count
R-CONS-2|decides|all three elements; revocation effective at month end
R-CONS-3|decides|new practitioner needs a new consent
R-CONS-4|workflow|consent record in every audit packet (month close)
R-CONS-5|decides|coinsurance always computed (never waived), except QMB
R-CONS-6|decides|APCM needs its own consent; a CCM consent never covers it
R-PLAN-1|decides|a care plan on file for the month (content validated by care-plan workflow)
R-PLAN-2|decides|no plan for the month, no bill
R-PLAN-3|decides|plan not given to the patient holds the month
R-PLAN-4|workflow|electronic care plan shared with the care team and outside providers
R-EHR-1|workflow|structured problems, medications and allergies in the registry
R-ACCESS-1|workflow|24/7 access is a program attestation of the practice
R-CONT-1|workflow|designated care-team member per enrolled patient
R-TRANS-1|workflow|care-transition follow-up tasks on the worklist
R-HCBS-1|workflow|community-service coordination notes
R-COMM-1|workflow|enhanced communication channels on outreach
R-SUP-1|decides|staff minutes count under general supervision whoever employs them
R-SUP-2|decides|partner employer minutes count like practice minutes
R-SUP-3|decides|minutes of staff outside the U.S. excluded (OUTSIDE_US)
R-SUP-4|workflow|licensure of partner staff checked at onboarding
R-SUP-5|reports|RHC/FQHC care management under general supervision today
R-SUP-6|workflow|partner staff document in the practice's record; BAA on the engagement
R-PAY-1|decides|20% coinsurance of the allowed amount
R-PAY-2|decides|no cost sharing for QMB
R-PAY-3|reports|amounts are allowed amounts before sequestration
R-CLM-DOS-1|policy|date_of_service threshold_reached (default)
R-CLM-DOS-2|policy|date_of_service last_day_of_month; APCM last day; never after the date of death
R-CLM-FORM-1|decides|ICD-10-CM diagnoses for the qualifying conditions, two for CCM; MBI and NPIs checked at export
R-CLM-FORM-2|reports|RHC/FQHC institutional claim
R-CLM-POS-1|decides|office setting prices non-facility; facility setting prices facility
R-CLM-EDIT-1|decides|99490 once per month; duplicate claims held; 99439 never above 2 (cap_99439 maximum)
R-2026-6|reports|G0136 is a physical-activity and nutrition assessment from 2026, not SDOH screening: a known code only
R-2026-7|decides|DMHT G0552–G0554 are known services; minutes counted for them never count for CCM or BHI
R-2027-1|reports|the CY2027 rule set rests on the proposed rule CMS-1848-P until the final fee file is loaded
R-2027-2|decides|CY2027 provisional conversion factors 32.8409, QP 33.1693 (rules/years/cy2027.py)
R-2027-3|policy|provisional_fees; fee files are data (ccmops rules load-fees); fee_source on every decision
R-2027-4|decides|CY2027 inherits the 2026 rules unchanged
R-2027-5|reports|the employer of every counted minute is kept; the RPM/RTM employed-staff proposal is not applied
R-2027-6|reports|requests for information only: supervision rules unchanged
R-2027-7|reports|items to re-check when the final rule's file is loaded
R-BHI-1|reports|99484, 99492–99494 and G2214 are known services; the engine does not bill them
R-BHI-2|decides|CCM with BHI is allowed; APCM add-ons never with 99484/99492/99493/99494/G2214
R-BHI-3|reports|RHC/FQHC report 99492–99494 and G2214 from 2026
R-CLM-CHG-1|reports|amounts are allowed-amount estimates; claims carry the practice's charge schedule
R-CONS-7|decides|BHI/CoCM consent records permission to consult specialists
R-COV-1|policy|unknown_coverage; Medicare Advantage and non-Medicare months are not billed to the MAC
R-COV-2|decides|no minute counted and no date of service after the date of death; APCM in the month of death held
R-DOC-1|policy|require_signed_notes: counted minutes need a note signed by its author
R-DX-1|decides|header codes hold the month naming their billable children; never sent
R-DX-2|decides|acute-episode codes (stroke, TIA, acute MI, initial encounter) neither qualify nor go on a claim
R-DX-3|policy|hold_unconfirmed_crosswalk_diagnoses; an unspecified code is dropped beside a specific one
R-FAM-1|policy|family_choice most_specific (default) or highest_paying
R-INIT-6|policy|initiating_visit_reading conservative (default) or literal
R-PAY-4|decides|NP, PA and CNS billing practitioners at 85% of the fee schedule amount
R-PAY-5|decides|patient share 20% per line, an estimate; nothing for QMB
"""

CATALOGUE: dict[str, RuleHandling] = {}
for _row in _ROWS.strip().splitlines():
    _rule, _handling, _how = _row.split("|")
    CATALOGUE[_rule] = RuleHandling(_rule, _handling, _how)
