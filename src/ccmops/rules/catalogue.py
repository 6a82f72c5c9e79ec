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
R-APCM-4|policy|initiating_visit_months_apcm, apcm_recent_care_management_waives_visit
R-APCM-5|decides|20% coinsurance, none for QMB
R-APCM-6|decides|CCM/PCM/TCM/bundled CTBS by the same practitioner exclude APCM
R-APCM-7|decides|auxiliary (including partner) staff furnish APCM; time is not required
R-2026-1|decides|G0568–G0570 only with the APCM base, same practitioner; never with the mirror CPT code
R-2026-2|decides|2026 conversion factor 33.4009, QP 33.5675
R-2026-3|decides|RVUs of time-based codes carry no efficiency adjustment (packaged 2026 file)
R-2026-4|decides|the same ladders in 2025 and 2026
R-2026-5|reports|RPM 99445/99470 recognised as concurrent services, minutes not double counted
R-G0506-1|reports|G0506 suggested with the initiating visit; a G0506 on another date is flagged
R-TIME-1|decides|one calendar month; other months' minutes excluded (OTHER_MONTH)
R-TIME-2|decides|full minutes and full increments, no rounding
R-TIME-3|decides|non-clinical time excluded; billing practitioner time counts as staff time
R-TIME-4|decides|no practitioner minutes required for staff codes
R-TIME-5|decides|minutes counted for another service excluded (COUNTED_ELSEWHERE)
R-TIME-6|policy|facility_stay_whole_days; stay days excluded (FACILITY_STAY)
R-TIME-7|decides|minutes before consent or initiating visit excluded
R-TIME-8|decides|each entry carries start, minutes, staff, role, employer (contract validation)
R-TIME-9|policy|simultaneous_staff_count_once; overlaps counted once (OVERLAP)
R-TIME-10|decides|month in the practice's time zone
R-ELIG-1|decides|two or more qualifying chronic conditions for CCM
R-ELIG-2|decides|complex CCM eligibility: MDM and care-plan event
R-ELIG-3|decides|PCM needs one qualifying condition
R-ELIG-4|decides|APCM: practitioner responsible for all primary care; QMB verified per month
R-ELIG-5|decides|billing credential MD, DO, NP, PA, CNS or CNM (contract validation)
R-INIT-1|policy|initiating_visit_months_ccm_pcm; required when not seen in the window
R-INIT-2|decides|E/M 2–5, AWV, IPPE or TCM face-to-face; 99211 does not qualify
R-INIT-3|decides|the billing practitioner's visit that discussed care management
R-INIT-4|decides|consent need not be on the initiating visit's date
R-INIT-5|policy|initiating_visit_months_apcm (36)
R-CONS-1|decides|documented consent required before minutes count
R-CONS-2|decides|all three elements; revocation effective at month end
R-CONS-3|decides|new practitioner needs a new consent
R-CONS-4|workflow|consent record in every audit packet (month close)
R-CONS-5|decides|coinsurance always computed (never waived), except QMB
R-CONS-6|policy|ccm_consent_covers_apcm; APCM needs its own consent
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
R-CLM-DOS-2|policy|date_of_service last_day_of_month; APCM last day
R-CLM-FORM-1|decides|ICD-10-CM diagnoses for the qualifying conditions, two for CCM
R-CLM-FORM-2|reports|RHC/FQHC institutional claim
R-CLM-POS-1|decides|office setting prices non-facility; facility setting prices facility
R-CLM-EDIT-1|decides|99490 once per month; duplicate claims held
"""

CATALOGUE: dict[str, RuleHandling] = {}
for _row in _ROWS.strip().splitlines():
    _rule, _handling, _how = _row.split("|")
    CATALOGUE[_rule] = RuleHandling(_rule, _handling, _how)
