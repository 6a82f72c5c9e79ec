"""The demo cast. Names here are used by the demo, the tests and the docs; keep them stable."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.utils import timezone

from ccmops.access.operating_model import Preset
from ccmops.access.policy import OrgKind, Role

DEMO_PASSWORD = "ccmops-demo-2026"


def _first_of_month(months_ago: int) -> dt.date:
    """The first day of the month `months_ago` months before the current one (in the project's time zone once
    Django is configured, as the demo's history dates its months)."""

    today = timezone.localdate() if settings.configured else dt.date.today()
    total = today.year * 12 + today.month - 1 - months_ago
    return dt.date(total // 12, total % 12 + 1, 1)


# The demo's story is dated from today, so that its six months of history always hold Riverbend's switch with
# months before and after it (fixed dates slid out of that window as the calendar moved on).
LAUNCHED = _first_of_month(10)  # the programs start, run in-house
PARTNER_ENGAGED = _first_of_month(5)  # Riverbend engages Summit …
HYBRID_FROM = _first_of_month(4)  # … and hands it the monthly work from the month after


@dataclass(frozen=True)
class OrgSpec:
    slug: str
    kind: OrgKind
    name: str
    time_zone: str
    npi: str = ""
    tin: str = ""
    address_line: str = ""
    city: str = ""
    state: str = ""
    postal_code: str = ""
    mac_name: str = ""
    mac_id: str = ""
    submitter_id: str = ""  # the EDI submitter ID its Medicare contractor assigned (fictional in the demo)
    contact_name: str = ""  # the billing contact on the practice's 837P files
    contact_phone: str = ""


@dataclass(frozen=True)
class StaffSpec:
    username: str
    first_name: str
    last_name: str
    org: str
    role: Role
    title: str = ""
    credential: str = ""
    clinical: bool = False
    practitioner_npi: str = ""
    hours: float = 0.0  # committed CCM hours a week (capacity planning)


@dataclass(frozen=True)
class MatrixSpec:
    practice: str
    preset: Preset
    effective_from: dt.date
    reason: str
    partner: str | None = None


@dataclass(frozen=True)
class PatientSpec:
    file_prefix: str  # the Synthea bundle in demo/data/synthea/ (its MRN identifier becomes the patient's MRN)
    practice: str
    care_manager: str | None
    billing_npi: str | None


MAPLE, RIVERBEND, SUMMIT = (
    "maple-street-family-medicine",
    "riverbend-internal-medicine",
    "summit-care-partners",
)

ORGANIZATIONS = (
    OrgSpec(
        MAPLE,
        OrgKind.PRACTICE,
        "Maple Street Family Medicine",
        "America/Chicago",
        "1003000993",
        "741234567",
        "1200 Maple Street",
        "Springfield",
        "IL",
        "62704-1248",
        mac_name="NGS MEDICARE J6 DEMO",
        mac_id="06102",
        submitter_id="DEMO0MAPLE1",
        contact_name="Ben Arnaud",
        contact_phone="2175550142",
    ),
    OrgSpec(
        RIVERBEND,
        OrgKind.PRACTICE,
        "Riverbend Internal Medicine",
        "America/Denver",
        "1003000985",
        "841234567",
        "45 Riverbend Road",
        "Boulder",
        "CO",
        "80302-5617",
        mac_name="NOVITAS JH DEMO",
        mac_id="04112",
        submitter_id="DEMO0RIVER1",
        contact_name="Riverbend billing office",
        contact_phone="3035550187",
    ),
    OrgSpec(SUMMIT, OrgKind.PARTNER, "Summit Care Partners", "America/Denver"),
)

STAFF = (
    StaffSpec("nora.rn", "Nora", "Lindqvist", MAPLE, Role.CARE_MANAGER, "Care manager", "RN", True, hours=20),
    StaffSpec("dr.patel", "Anika", "Patel", MAPLE, Role.BILLING_PRACTITIONER, "Physician", "MD", True, "1003000019"),
    StaffSpec("ben.biller", "Ben", "Arnaud", MAPLE, Role.BILLER, "Billing specialist"),
    StaffSpec("olivia.owner", "Olivia", "Grant", MAPLE, Role.PROGRAM_OWNER, "Practice administrator"),
    StaffSpec("carl.compliance", "Carl", "Mendes", MAPLE, Role.COMPLIANCE_REVIEWER, "Compliance officer"),
    StaffSpec(
        "dr.okafor",
        "Chidi",
        "Okafor",
        RIVERBEND,
        Role.BILLING_PRACTITIONER,
        "Physician",
        "DO",
        True,
        "1003000027",
    ),
    StaffSpec("maya.ma", "Maya", "Torres", RIVERBEND, Role.CARE_MANAGER, "Medical assistant", "MA", True, hours=8),
    StaffSpec("rita.owner", "Rita", "Svensson", RIVERBEND, Role.PROGRAM_OWNER, "Practice manager"),
    StaffSpec("rick.biller", "Rick", "Hale", RIVERBEND, Role.BILLER, "Biller"),
    StaffSpec("sam.lead", "Sam", "Whitaker", SUMMIT, Role.PARTNER_OPS_LEAD, "Operations lead"),
    StaffSpec("pat.rn", "Pat", "Quinn", SUMMIT, Role.CARE_MANAGER, "Care manager", "RN", True, hours=30),
    StaffSpec("lee.lpn", "Lee", "Moreno", SUMMIT, Role.CARE_MANAGER, "Care manager", "LPN", True, hours=24),
)
ADMIN_USERNAME = "admin"

ENGAGEMENTS = ((RIVERBEND, SUMMIT, PARTNER_ENGAGED),)

MATRICES = (
    MatrixSpec(MAPLE, Preset.IN_HOUSE, LAUNCHED, "Program launch: all functions run by practice staff."),
    MatrixSpec(RIVERBEND, Preset.IN_HOUSE, LAUNCHED, "Program launch, in-house."),
    MatrixSpec(
        RIVERBEND,
        Preset.HYBRID_PARTNER_MONTHLY,
        HYBRID_FROM,
        "Monthly follow-up fell behind after our RN left; Summit runs outreach, coordination, time and notes.",
        SUMMIT,
    ),
)

PATIENTS = (
    PatientSpec("Twyla_Moen", MAPLE, "nora.rn", "1003000019"),
    PatientSpec("Latanya_Kohler", MAPLE, "nora.rn", "1003000019"),
    PatientSpec("Adalberto_Hartmann", MAPLE, "nora.rn", "1003000019"),
    PatientSpec("Stanford_Windler", MAPLE, "nora.rn", "1003000019"),
    PatientSpec("Weston_Fay", MAPLE, None, "1003000019"),
    PatientSpec("Isabel_Runte", MAPLE, None, None),
    PatientSpec("Murray_Hane", MAPLE, None, None),
    PatientSpec("Elvina_Lemke", RIVERBEND, "pat.rn", "1003000027"),
    PatientSpec("Gayla_Ferry", RIVERBEND, "pat.rn", "1003000027"),
    PatientSpec("Jerrell_Gerlach", RIVERBEND, "lee.lpn", "1003000027"),
    PatientSpec("Kirsten_Witting", RIVERBEND, "lee.lpn", "1003000027"),
    PatientSpec("Clarine_OKeefe", RIVERBEND, "maya.ma", "1003000027"),
    PatientSpec("Trey_Berge", RIVERBEND, "pat.rn", "1003000027"),
    PatientSpec("Jed_Pollich", RIVERBEND, None, None),
)


# Patients with a running CCM program: (family name, care manager, minutes last month, minutes this month so far).
# Riverbend's monthly work is Summit's (hybrid), so Summit's care managers log that time.
ACTIVE_CCM = (
    ("Moen", "nora.rn", (25, 20), (12,)),
    ("Kohler", "nora.rn", (15, 28, 21), ()),
    ("Hartmann", "nora.rn", (18,), (9, 6)),
    ("Lemke", "pat.rn", (22, 25, 16), (14,)),
    ("Ferry", "pat.rn", (12,), ()),
    ("Gerlach", "lee.lpn", (35, 30), (20,)),
)

# The demo practices' charge schedule (R-CLM-CHG-1): their own usual charges, above Medicare's allowed amounts as a
# practice's charge master usually is; the claims carry these, not the allowed amounts.
CHARGES = {
    "99490": "85.00", "99439": "65.00", "99487": "180.00", "99489": "95.00", "99491": "110.00", "99437": "80.00",
    "99424": "110.00", "99425": "80.00", "99426": "85.00", "99427": "70.00", "G0556": "25.00", "G0557": "70.00",
    "G0558": "150.00", "G0568": "205.00", "G0569": "185.00", "G0570": "75.00",
}  # fmt: skip

# The call whose note the care manager left as a draft: (patient, index of last month's entry). Last month's close
# holds Kohler until the note is signed (R-DOC-1); every other call of the demo is documented by a signed note.
UNSIGNED_NOTE = ("Kohler", 2)

# Known to be billed elsewhere: (patient, the other practitioner's NPI, how the practice learned of it).
KNOWN_ELSEWHERE = (
    "Lemke",
    "1234567893",
    "On the outreach call the patient said a cardiology group's nurse calls her every month about her care plan",
)


# Program history (seeded with `seed_demo(with_history=True)`, which the demo uses): two more practices and six
# months of recorded work, so program health, drift, the partner workspace and the model-fit assessment have real
# months to show. Cedar Hill runs CCM in-house and is drifting: one part-time RN, and every consistency figure
# falls over the last three months. Lakeside is managed by Summit. Riverbend's history shows its in-house months
# slipping before the move to hybrid and Summit's months after it.
CEDAR, LAKESIDE = "cedar-hill-family-practice", "lakeside-medical-group"

HISTORY_ORGANIZATIONS = (
    OrgSpec(
        CEDAR,
        OrgKind.PRACTICE,
        "Cedar Hill Family Practice",
        "America/New_York",
        "1003000100",
        "521234567",
        "8 Cedar Hill Road",
        "Dover",
        "DE",
        "19901-3620",
        mac_name="NOVITAS JL DEMO",
        mac_id="12202",
        submitter_id="DEMO0CEDAR1",
        contact_name="Cedar Hill billing office",
        contact_phone="3025550164",
    ),
    OrgSpec(
        LAKESIDE,
        OrgKind.PRACTICE,
        "Lakeside Medical Group",
        "America/Denver",
        "1003000118",
        "871234567",
        "300 Lakeside Drive",
        "Fort Collins",
        "CO",
        "80521-2713",
        mac_name="NOVITAS JH DEMO",
        mac_id="04112",
        submitter_id="DEMO0LAKES1",
        contact_name="Lakeside billing office",
        contact_phone="9705550123",
    ),
)

HISTORY_STAFF = (
    StaffSpec("gwen.rn", "Gwen", "Okoye", CEDAR, Role.CARE_MANAGER, "Care manager (part time)", "RN", True, hours=6),
    StaffSpec("dr.huang", "Lily", "Huang", CEDAR, Role.BILLING_PRACTITIONER, "Physician", "MD", True, "1003000126"),
    StaffSpec("hank.owner", "Hank", "Brennan", CEDAR, Role.PROGRAM_OWNER, "Practice administrator"),
    StaffSpec("cora.biller", "Cora", "Lind", CEDAR, Role.BILLER, "Biller"),
    StaffSpec("dr.silva", "Marco", "Silva", LAKESIDE, Role.BILLING_PRACTITIONER, "Physician", "MD", True, "1003000134"),
    StaffSpec("lara.owner", "Lara", "Novak", LAKESIDE, Role.PROGRAM_OWNER, "Practice manager"),
)

HISTORY_ENGAGEMENTS = ((LAKESIDE, SUMMIT, LAUNCHED),)

HISTORY_MATRICES = (
    MatrixSpec(CEDAR, Preset.IN_HOUSE, LAUNCHED, "Program launch: our RN runs CCM part time."),
    MatrixSpec(LAKESIDE, Preset.MANAGED, LAUNCHED, "No staff for CCM; Summit runs the program.", SUMMIT),
)


@dataclass(frozen=True)
class CohortSpec:
    practice: str
    patients: int
    seed: int
    practitioner_npi: str
    practice_staff: tuple[str, ...]  # care managers when the practice owns the monthly work
    partner_staff: tuple[str, ...] = ()  # … when a partner owns it
    practice_profile: str = "steady"
    partner_profile: str = "steady"
    population: int = 0  # generated patients imported into the practice (0: four for each enrolled)
    minute: int | None = None  # calls begin 5 minutes after it (None: a minute of the hour chosen by the seed)
    reviewed: bool = False  # its biller resolved the holds of closed months (HOLD_RESOLUTIONS), not left them


HISTORY_MONTHS = 6
COHORTS = (
    # Maple Street, where the README's walk-throughs start: a panel of a few hundred, four dozen in CCM with Nora.
    # Its calls take the second half of each hour: the first half holds Nora's calls of the demo's activity.
    CohortSpec(MAPLE, 48, 14, "1003000019", ("nora.rn",), population=260, minute=26, reviewed=True),
    CohortSpec(CEDAR, 12, 11, "1003000126", ("gwen.rn",), practice_profile="drifting"),
    CohortSpec(RIVERBEND, 10, 12, "1003000027", ("maya.ma",), ("pat.rn", "lee.lpn"), practice_profile="slipping"),
    CohortSpec(LAKESIDE, 8, 13, "1003000134", (), ("lee.lpn", "pat.rn")),
)


@dataclass(frozen=True)
class EventSpec:
    """Something that happens to one cohort patient in one history month, as it does in a real program, and how
    the practice's biller resolved the month it held (empty: left in the review queue, or nothing held)."""

    practice: str
    months_ago: int
    patient: int  # index among the cohort's patients
    kind: str  # billed_elsewhere | medicare_advantage | died | revoked
    detail: str  # the source or reason, as it was recorded
    resolution: str = ""


# How a reviewing biller resolved a hold the demo's data gives rise to without an event (by the finding's code).
HOLD_RESOLUTIONS = {
    "COVERAGE.UNKNOWN": "Part B began mid-month (eligibility response); the month is not billed.",
}

ELSEWHERE_NPI = "1234567893"  # a cardiology group's (fictional) NPI
EVENTS = (
    EventSpec(
        MAPLE,
        4,
        7,
        "billed_elsewhere",
        "Remittance of the month's claim: denied, CCM already paid to another practitioner (CARC B20)",
        "The patient confirmed her cardiologist's nurse manages her care plan this month; not billed by us.",
    ),
    EventSpec(MAPLE, 3, 11, "medicare_advantage", "Eligibility response (271): enrolled in a Medicare Advantage plan"),
    EventSpec(MAPLE, 2, 15, "died", "Obituary notice forwarded by the patient's daughter; confirmed by the hospital"),
    EventSpec(
        MAPLE,
        1,
        19,
        "billed_elsewhere",
        "On the monthly call the patient said a cardiology nurse has started calling her about her care plan",
    ),
    EventSpec(MAPLE, 1, 23, "revoked", "Patient asked to stop the calls: her daughter now coordinates her care"),
)

# Execution profiles, oldest history month first: share touched, share billable, share of time live, mean note
# completeness (0–100), share of calls reaching the patient, median lag of late entries (hours).
PROFILES = {
    "steady": {
        "touched": (0.92, 0.92, 0.92, 0.92, 0.92, 0.92),
        "billable": (0.8, 0.8, 0.84, 0.8, 0.84, 0.8),
        "live": (0.85, 0.85, 0.85, 0.85, 0.85, 0.85),
        "completeness": (92, 90, 92, 91, 92, 90),
        "reach": (0.8, 0.8, 0.8, 0.8, 0.8, 0.8),
        "lag_hours": (6, 6, 6, 6, 6, 6),
    },
    # Billed months' notes are signed, so complete in every required field (R-DOC-1): the completeness that falls
    # is that of the calls that reached the patient without billing, which grow as the billable share falls.
    "drifting": {
        "touched": (0.92, 0.92, 0.92, 0.92, 0.84, 0.75),
        "billable": (0.84, 0.84, 0.84, 0.67, 0.5, 0.34),
        "live": (0.85, 0.85, 0.8, 0.62, 0.5, 0.34),
        "completeness": (92, 90, 90, 78, 66, 55),
        "reach": (0.85, 0.85, 0.85, 0.72, 0.6, 0.5),
        "lag_hours": (6, 6, 8, 30, 60, 96),
    },
    "slipping": {
        "touched": (0.8, 0.7, 0.6, 0.5, 0.5, 0.5),
        "billable": (0.6, 0.5, 0.4, 0.34, 0.34, 0.34),
        "live": (0.5, 0.4, 0.34, 0.3, 0.3, 0.3),
        "completeness": (70, 64, 58, 55, 55, 55),
        "reach": (0.6, 0.55, 0.5, 0.5, 0.5, 0.5),
        "lag_hours": (48, 60, 72, 72, 72, 72),
    },
}
