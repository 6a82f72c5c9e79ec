"""The words of a patient's record that every layer shares: payers (and how a payer's name or a Source of Payment
Typology code maps to one), the engine's coverage kinds of each, US state codes and the letters of a Medicare
Beneficiary Identifier."""

from __future__ import annotations

PAYERS = (
    "medicare", "dual_eligible", "medicare_advantage", "part_d", "part_a_only", "medicaid", "private", "none", "unknown"
)  # fmt: skip


# Insurers that sell Medicare Advantage and Part D plans: "<insurer> Medicare" names one of those, not original
# Medicare, and which of the two it is cannot be told from the name (R-COV-1).
MEDICARE_PLAN_SELLERS = (
    "humana", "aetna", "united", "uhc", "cigna", "anthem", "wellcare", "kaiser", "blue cross", "bcbs", "centene",
    "molina", "devoted", "clover", "alignment", "scan", "elevance", "highmark", "wellpoint",
)  # fmt: skip
# PHDSC Source of Payment Typology (the code system FHIR Coverage.type commonly carries): prefix -> payer
SOPT = (
    ("11", "medicare_advantage"), ("121", "medicare"), ("122", "part_d"), ("12", "medicare"),
    ("14", "dual_eligible"), ("1", "medicare"), ("2", "medicaid"), ("5", "private"), ("6", "private"),
    ("81", "none"), ("8", "none"),
)  # fmt: skip


def payer_from_sopt(code: str) -> str | None:
    """The payer of a Source of Payment Typology code (longest prefix first), None when not one."""
    code = (code or "").strip()
    if not code.isascii() or not code.isdigit():
        return None
    for prefix, payer in sorted(SOPT, key=lambda p: -len(p[0])):
        if code.startswith(prefix):
            return payer
    return None


def normalize_payer(text: str) -> str | None:
    """A payer name or type as one of PAYERS (None if blank). Original Medicare ("Medicare", "Medicare Part B",
    "Medicare FFS") is `medicare`; Medicare Advantage (Part C), Part D and Part A alone are told apart from it,
    because none of them makes a month billable to the Medicare contractor (R-COV-1); an insurer's "Medicare"
    product is `unknown` (Advantage or Part D, the name does not say)."""
    t = " ".join((text or "").strip().lower().replace("-", " ").replace("_", " ").split())
    if not t:
        return None
    if "dual" in t:
        return "dual_eligible"
    if "advantage" in t or "part c" in t or "medicare hmo" in t or "medicare ppo" in t or "mapd" in t.split():
        return "medicare_advantage"
    if "part d" in t or "prescription drug" in t or "pdp" in t.split():
        return "part_d"
    if "medicare" in t:
        if "part a" in t and "part b" not in t:
            return "part_a_only"
        if any(seller in t for seller in MEDICARE_PLAN_SELLERS):
            return "unknown"
        return "medicare"
    if "medicaid" in t:
        return "medicaid"
    if t.replace(" ", "_") in ("none", "no_insurance", "uninsured", "self_pay", "selfpay", "self"):
        return "none"
    if t in ("unknown", "unk"):
        return "unknown"
    return "private"


# A payer as the rules engine's coverage kinds (contract `CoverageIn.kind`): dual eligibles are Part B
# fee-for-service and Medicaid (R-COV-1).
PAYER_KINDS = {
    "medicare": ("part_b_ffs",),
    "dual_eligible": ("part_b_ffs", "medicaid"),
    "medicare_advantage": ("medicare_advantage",),
    "part_d": ("part_d",),
    "part_a_only": ("part_a_only",),
    "medicaid": ("medicaid",),
    "private": ("commercial",),
    "none": ("none",),
    "unknown": ("unknown",),
}
PAYER_NAMES = {
    "medicare": "Medicare (original, Part B fee-for-service)",
    "dual_eligible": "Medicare and Medicaid (dual eligible)",
    "medicare_advantage": "Medicare Advantage (Part C)",
    "part_d": "Medicare Part D (drugs only)",
    "part_a_only": "Medicare Part A only",
    "medicaid": "Medicaid",
    "private": "Commercial insurance",
    "none": "No insurance",
    "unknown": "Unknown",
}


US_STATES = {
    "alabama": "AL",
    "alaska": "AK",
    "arizona": "AZ",
    "arkansas": "AR",
    "california": "CA",
    "colorado": "CO",
    "connecticut": "CT",
    "delaware": "DE",
    "district of columbia": "DC",
    "florida": "FL",
    "georgia": "GA",
    "hawaii": "HI",
    "idaho": "ID",
    "illinois": "IL",
    "indiana": "IN",
    "iowa": "IA",
    "kansas": "KS",
    "kentucky": "KY",
    "louisiana": "LA",
    "maine": "ME",
    "maryland": "MD",
    "massachusetts": "MA",
    "michigan": "MI",
    "minnesota": "MN",
    "mississippi": "MS",
    "missouri": "MO",
    "montana": "MT",
    "nebraska": "NE",
    "nevada": "NV",
    "new hampshire": "NH",
    "new jersey": "NJ",
    "new mexico": "NM",
    "new york": "NY",
    "north carolina": "NC",
    "north dakota": "ND",
    "ohio": "OH",
    "oklahoma": "OK",
    "oregon": "OR",
    "pennsylvania": "PA",
    "rhode island": "RI",
    "south carolina": "SC",
    "south dakota": "SD",
    "tennessee": "TN",
    "texas": "TX",
    "utah": "UT",
    "vermont": "VT",
    "virginia": "VA",
    "washington": "WA",
    "west virginia": "WV",
    "wisconsin": "WI",
    "wyoming": "WY",
    "puerto rico": "PR",
}


US_STATE_CODES = frozenset(US_STATES.values())
MBI_LETTERS = "ACDEFGHJKMNPQRTUVWXY"  # the Medicare Beneficiary Identifier's letters: A-Z without S, L, O, I, B, Z


def state_code(value: str) -> str:
    v = (value or "").strip()
    return v.upper() if len(v) == 2 else US_STATES.get(v.lower(), "")
