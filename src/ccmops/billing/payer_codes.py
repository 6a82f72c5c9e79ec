"""What the payer's codes mean, in plain words, and what a biller does next (issue 35). Claim adjustment reason
codes (CARC), remittance advice remark codes (RARC), adjustment groups, 277CA status categories and 999 error codes
are X12/WPC code lists; the common ones in a care-management practice's remittances are said here in ccmops's own
words (a code not listed is shown as its code). Pure: no database.

Denial triage (ENGINE POLICY, cms-rules.md R-CONS-2 for another provider's CCM): which reason codes mean that
another practitioner billed the service, that the coverage is wrong, that information is missing or invalid, or a
duplicate. Which CARC a Medicare contractor uses for a second practitioner's CCM in the same month is UNCONFIRMED;
B20 ("furnished by another provider") is read as that."""

from __future__ import annotations

GROUPS = {
    "CO": "contractual obligation",
    "PR": "patient responsibility",
    "OA": "other adjustment",
    "PI": "payer-initiated reduction",
    "CR": "correction or reversal",
}
CARC = {
    "1": "deductible",
    "2": "coinsurance",
    "3": "co-payment",
    "4": "the procedure code does not fit its modifier, or a modifier is missing",
    "5": "the procedure code or bill type does not fit the place of service",
    "11": "the diagnosis does not fit the procedure",
    "16": "the claim lacks information or has a billing error (see the remark codes)",
    "18": "an exact duplicate of a claim or service already processed",
    "22": "another payer may cover it (coordination of benefits)",
    "24": "covered under a managed-care plan or capitation (Medicare Advantage)",
    "26": "the service was before the patient's coverage began",
    "27": "the service was after the patient's coverage ended",
    "29": "the time limit for filing has passed",
    "31": "the patient is not identified as the payer's insured",
    "45": "the charge exceeds the fee schedule (contractual adjustment)",
    "50": "not medically necessary in the payer's judgment",
    "96": "a non-covered charge",
    "97": "paid as part of another service already adjudicated",
    "109": "not covered by this payer or contractor: send it to the right one",
    "119": "the benefit maximum has been reached",
    "125": "a submission or billing error (see the remark codes)",
    "146": "the diagnosis is invalid for the date of service",
    "181": "the procedure code is invalid for the date of service",
    "182": "the modifier is invalid for the date of service",
    "200": "the service was during a lapse in coverage",
    "253": "sequestration: the reduction of federal payments",
    "B13": "already paid in an earlier payment",
    "B20": "furnished, in part or in full, by another provider",
}
RARC = {
    "M51": "the procedure code is missing, incomplete or invalid",
    "MA04": "secondary payment needs the primary payer's information",
    "MA130": "the claim has incomplete or invalid information: correct it and send it again (no appeal)",
    "N20": "not payable with another service on the same date",
    "N290": "the rendering provider's identifier is missing or invalid",
    "N130": "see the plan's benefit documents for restrictions",
    "N382": "the patient's identifier is missing or invalid",
}
# Adjustments of a line that was paid as expected: the fee schedule's contractual part, sequestration and the
# patient's deductible, coinsurance or co-payment.
EXPECTED = {("CO", "45"), ("CO", "253"), ("PR", "1"), ("PR", "2"), ("PR", "3")}
TRIAGE = {
    "another_provider": {"B20"},
    "coverage": {"22", "24", "26", "27", "31", "109", "200"},
    "information": {"4", "5", "11", "16", "125", "146", "181", "182"},
    "duplicate": {"18", "B13"},
}
TRIAGE_ORDER = ("another_provider", "coverage", "duplicate", "information")
NEXT_STEPS = {
    "another_provider": "Another practitioner billed this service for the month (R-CONS-2): recorded as a known "
    "service, so the month is held for review; ask the patient whether they are in another CCM program and, if "
    "so, end CCM here before the next month is billed.",
    "coverage": "Check the patient's coverage on the date of service (Part B dates, Medicare Advantage, Medicare "
    "as secondary) and record it on the patient's page; bill the payer that covers the month.",
    "information": "Correct what the reason and remark codes name and send a corrected claim.",
    "duplicate": "The service was processed before: find that payment; do not send it again.",
    "other": "Read the reason; appeal within 120 days of this notice, or write the balance off.",
}
STC_CATEGORIES = {
    "A0": "forwarded to another entity",
    "A1": "received",
    "A2": "accepted for adjudication",
    "A3": "returned as unprocessable",
    "A4": "not found",
    "A5": "split",
    "A6": "rejected for missing information",
    "A7": "rejected for invalid information",
    "A8": "rejected for a relational field in error",
}
STC_REJECTED = {"A3", "A4", "A6", "A7", "A8"}
IK3_ERRORS = {
    "1": "unrecognized segment",
    "2": "unexpected segment",
    "3": "required segment missing",
    "4": "loop occurs too often",
    "5": "segment used too often",
    "6": "segment not in the transaction set",
    "7": "segment out of sequence",
    "8": "segment has element errors",
}
IK4_ERRORS = {
    "1": "required element missing",
    "2": "conditionally required element missing",
    "3": "too many elements",
    "4": "element too short",
    "5": "element too long",
    "6": "invalid character",
    "7": "invalid code value",
    "8": "invalid date",
    "9": "invalid time",
    "10": "exclusion condition violated",
    "12": "too many repetitions",
    "13": "too many components",
}


def reason_words(group: str, reason: str) -> str:
    said = CARC.get(reason)
    return f"{group}-{reason}" + (f" ({said})" if said else "")


def triage(adjustments: list[dict]) -> str:
    """The denial's kind from its reason codes, the most telling first; "other" when none is known."""
    reasons = {a["reason"] for a in adjustments}
    return next((kind for kind in TRIAGE_ORDER if reasons & TRIAGE[kind]), "other")
