"""Code families and their time ladders (R-CCM-1..5, R-PCM-1..2, R-TIME-2). One family per practitioner-month."""

from __future__ import annotations

from dataclasses import dataclass

from ccmops.rules.policies import DEFAULT_POLICIES, Policies

STAFF_ROLES = frozenset({"clinical_staff", "billing_practitioner", "other_practitioner"})
PERSONAL_ROLES = frozenset({"billing_practitioner"})


@dataclass(frozen=True)
class Ladder:
    family: str
    label: str
    program: str
    roles: frozenset[str]
    base: str
    base_minutes: int
    addon: str
    addon_minutes: int
    rules: tuple[str, ...]

    def units(self, minutes: int, policies: Policies) -> tuple[int, int]:
        """(base units, add-on units) for full minutes, no rounding, add-on capped by policy (R-TIME-2)."""
        if minutes < self.base_minutes:
            return 0, 0
        addon = (minutes - self.base_minutes) // self.addon_minutes
        cap = policies.cap(self.addon)
        if cap is not None:
            addon = min(addon, cap)
        return 1, addon

    def used_minutes(self, base_units: int, addon_units: int) -> int:
        return base_units * self.base_minutes + addon_units * self.addon_minutes


LADDERS = {
    "ccm": Ladder(
        "ccm",
        "non-complex CCM",
        "ccm",
        STAFF_ROLES,
        "99490",
        20,
        "99439",
        20,
        ("R-CCM-1", "R-CCM-2", "R-TIME-2"),
    ),
    "ccm_complex": Ladder(
        "ccm_complex", "complex CCM", "ccm", STAFF_ROLES, "99487", 60, "99489", 30, ("R-CCM-5", "R-TIME-2")
    ),
    "ccm_personal": Ladder(
        "ccm_personal",
        "practitioner-personal CCM",
        "ccm",
        PERSONAL_ROLES,
        "99491",
        30,
        "99437",
        30,
        ("R-CCM-3", "R-TIME-2"),
    ),
    "pcm": Ladder("pcm", "PCM by clinical staff", "pcm", STAFF_ROLES, "99426", 30, "99427", 30, ("R-PCM-1", "R-PCM-2")),
    "pcm_personal": Ladder(
        "pcm_personal",
        "PCM by the practitioner",
        "pcm",
        PERSONAL_ROLES,
        "99424",
        30,
        "99425",
        30,
        ("R-PCM-1", "R-PCM-2"),
    ),
}

CCM_CODES = frozenset({"99490", "99439", "99487", "99489", "99491", "99437", "G0511"})
PCM_CODES = frozenset({"99424", "99425", "99426", "99427"})
APCM_CODES = frozenset({"G0556", "G0557", "G0558"})
APCM_BH_ADDONS = {"G0568": "99492", "G0569": "99493", "G0570": "99484"}  # add-on -> mirrored CPT (R-2026-1)
TCM_CODES = frozenset({"99495", "99496"})
RPM_CODES = frozenset(
    {
        "99453",
        "99454",
        "99457",
        "99458",
        "99091",
        "99445",
        "99470",
        "98975",
        "98976",
        "98977",
        "98980",
        "98981",
        # 2026 RTM codes (R-2026-5): device supply 2–15 days, treatment management first 10 minutes
        "98984",
        "98985",
        "98986",
        "98979",
    }
)
CPO_CODES = frozenset({"G0181", "G0182"})
ESRD_CODES = frozenset(str(c) for c in range(90951, 90971))
BHI_CODES = frozenset({"99484", "99492", "99493", "99494", "G2214"})  # G2214: CoCM first 30 min (R-BHI-1)
DMHT_CODES = frozenset({"G0552", "G0553", "G0554"})  # digital mental health treatment (R-2026-7)
ASSESSMENT_CODES = frozenset({"G0136"})  # physical activity and nutrition assessment from 2026 (R-2026-6)
APCM_BUNDLED_CTBS = frozenset(
    {
        "99446",
        "99447",
        "99448",
        "99449",
        "99451",
        "99452",
        "G2250",
        "G2251",
        "G2252",
        "98970",
        "98971",
        "98972",
    }
    | {"99421", "99422", "99423"}
)

# The services weighed against CCM, PCM and APCM when known for the patient-month (`other_services`), by family.
OTHER_SERVICE_FAMILIES = (
    ("Chronic care management (CCM)", CCM_CODES),
    ("Principal care management (PCM)", PCM_CODES),
    ("Advanced primary care management (APCM)", APCM_CODES),
    ("Transitional care management (TCM)", TCM_CODES),
    ("Behavioral health integration (BHI, CoCM)", BHI_CODES),
    ("Care plan oversight", CPO_CODES),
    ("ESRD monthly services", ESRD_CODES),
    ("Remote physiologic or therapeutic monitoring", RPM_CODES),
    ("Digital mental health treatment (DMHT)", DMHT_CODES),
    ("Physical activity and nutrition assessment (G0136)", ASSESSMENT_CODES),
    ("Interprofessional consultations, virtual check-ins, online visits", APCM_BUNDLED_CTBS),
)
OTHER_SERVICE_FAMILY = {code: label for label, codes in OTHER_SERVICE_FAMILIES for code in codes}


def time_steps(program: str, policies: Policies = DEFAULT_POLICIES) -> list[tuple[int, str]]:
    """A program's clinical-staff time ladder as (minutes, code) steps — its base code, then each add-on unit the
    policies' cap allows (two when uncapped): what a care manager works towards this month. An empty list for a
    program billed by the month rather than by time (APCM)."""
    ladder = LADDERS.get(program)
    if ladder is None:
        return []
    cap = policies.cap(ladder.addon)
    units = 2 if cap is None else cap
    return [(ladder.base_minutes, ladder.base)] + [
        (ladder.base_minutes + k * ladder.addon_minutes, ladder.addon) for k in range(1, units + 1)
    ]
