"""The demo cast. Names here are used by the demo, the tests and the docs; keep them stable."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from ccmops.access.operating_model import Preset
from ccmops.access.policy import OrgKind, Role

DEMO_PASSWORD = "ccmops-demo-2026"


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
        "62704",
        mac_name="NGS MEDICARE J6 DEMO",
        mac_id="06102",
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
        "80302",
        mac_name="NOVITAS JH DEMO",
        mac_id="04112",
    ),
    OrgSpec(SUMMIT, OrgKind.PARTNER, "Summit Care Partners", "America/Denver"),
)

STAFF = (
    StaffSpec("nora.rn", "Nora", "Lindqvist", MAPLE, Role.CARE_MANAGER, "Care manager", "RN", True),
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
    StaffSpec("maya.ma", "Maya", "Torres", RIVERBEND, Role.CARE_MANAGER, "Medical assistant", "MA", True),
    StaffSpec("rita.owner", "Rita", "Svensson", RIVERBEND, Role.PROGRAM_OWNER, "Practice manager"),
    StaffSpec("rick.biller", "Rick", "Hale", RIVERBEND, Role.BILLER, "Biller"),
    StaffSpec("sam.lead", "Sam", "Whitaker", SUMMIT, Role.PARTNER_OPS_LEAD, "Operations lead"),
    StaffSpec("pat.rn", "Pat", "Quinn", SUMMIT, Role.CARE_MANAGER, "Care manager", "RN", True),
    StaffSpec("lee.lpn", "Lee", "Moreno", SUMMIT, Role.CARE_MANAGER, "Care manager", "LPN", True),
)
ADMIN_USERNAME = "admin"

ENGAGEMENTS = ((RIVERBEND, SUMMIT, dt.date(2026, 6, 1)),)

MATRICES = (
    MatrixSpec(MAPLE, Preset.IN_HOUSE, dt.date(2026, 1, 1), "Program launch: all functions run by practice staff."),
    MatrixSpec(RIVERBEND, Preset.IN_HOUSE, dt.date(2026, 1, 1), "Program launch, in-house."),
    MatrixSpec(
        RIVERBEND,
        Preset.HYBRID_PARTNER_MONTHLY,
        dt.date(2026, 7, 1),
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
