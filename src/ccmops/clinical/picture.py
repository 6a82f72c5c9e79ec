"""The clinical picture a care manager reads before and during a call (read-only): active medications with
prescriber, dose and start; allergies; the latest vital signs and laboratory results with their trend over the
last two years and a flag when out of range; immunizations due, as information.

Out of range means outside the reference range the result came with; a result without one is compared with the
range named here (with its source), and the flag says which range it was compared with."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Count, Q

from ccmops.clinical.instruments import HRSN, INSTRUMENTS
from ccmops.clinical.models import (
    Allergy,
    AssessmentResponse,
    Immunization,
    Medication,
    Observation,
    ReconciledItem,
    Reconciliation,
)
from ccmops.rules.careplan import Finding

TREND_MONTHS = 24


@dataclass(frozen=True)
class Measure:
    """A key measure: the LOINC codes that carry it (the first is preferred) and its usual range."""

    key: str
    label: str
    codes: tuple[str, ...]
    low: Decimal | None = None
    high: Decimal | None = None
    basis: str = ""  # where the range comes from, shown with the flag


MEASURES = (
    Measure(
        "systolic", "Systolic blood pressure", ("8480-6",), Decimal(90), Decimal(139),
        "ACC/AHA 2017: 140 or above is stage 2",
    ),
    Measure(
        "diastolic", "Diastolic blood pressure", ("8462-4",), Decimal(60), Decimal(89),
        "ACC/AHA 2017: 90 or above is stage 2",
    ),
    Measure("heart_rate", "Heart rate", ("8867-4",), Decimal(50), Decimal(100), "adult resting 50–100/min"),
    Measure("weight", "Body weight", ("29463-7", "3141-9")),
    Measure("bmi", "Body mass index", ("39156-5",), Decimal("18.5"), Decimal("29.9"), "CDC: 30 or above is obesity"),
    Measure(
        "a1c", "Hemoglobin A1c", ("4548-4", "17856-6"), None, Decimal("6.9"),
        "ADA: a target below 7 % for many adults",
    ),
    Measure(
        "egfr", "eGFR", ("33914-3", "62238-1", "98979-8", "69405-9"), Decimal(60), None,
        "KDIGO: below 60 for 3 months is CKD",
    ),
    Measure(
        "ldl", "LDL cholesterol", ("18262-6", "2089-1", "13457-7"), None, Decimal(189),
        "ACC/AHA 2018: 190 or above is very high",
    ),
)  # fmt: skip
MEASURE_OF_CODE = {code: m for m in MEASURES for code in m.codes}

# CVX codes (CDC's vaccine code set) of the vaccines the picture looks for.
INFLUENZA_CVX = frozenset(
    {"88", "135", "140", "141", "144", "149", "150", "151", "153", "155", "158", "161", "166", "168", "171", "185",
     "186", "197", "200", "201", "202", "205", "231", "320"}
)  # fmt: skip
PNEUMOCOCCAL_CONJUGATE_CVX = frozenset({"100", "133", "215", "216", "327"})  # PCV7, PCV13, PCV15, PCV20, PCV21
PNEUMOCOCCAL_CVX = PNEUMOCOCCAL_CONJUGATE_CVX | {"33", "109", "152"}  # and PPSV23, unspecified


@dataclass(frozen=True)
class Reading:
    code: str
    label: str
    when: dt.datetime
    value: Decimal | None
    unit: str
    text: str
    flag: str  # "" | "high" | "low"
    compared_with: str  # the range the flag rests on, in words
    over_a_year_old: bool = False


@dataclass
class Picture:
    medications: list[Medication] = field(default_factory=list)
    allergies: list[Allergy] = field(default_factory=list)
    readings: list[Reading] = field(default_factory=list)  # the latest of each measure, then other results
    trends: dict[str, list[tuple[dt.date, Decimal]]] = field(default_factory=dict)  # measure key -> every point
    immunizations: list[Immunization] = field(default_factory=list)
    due: list[str] = field(default_factory=list)
    reconciled: Reconciliation | None = None  # the latest reconciled list version (its discrepancies counted)

    @property
    def empty(self) -> bool:
        return not (self.medications or self.allergies or self.readings or self.immunizations)


def _plain(number: Decimal) -> str:
    """4.0000 → 4, 5.6000 → 5.6, 100 → 100."""
    return f"{Decimal(number).normalize():f}"


def _range_words(low, high, unit: str, basis: str) -> str:
    if low is not None and high is not None:
        span = f"{_plain(low)}–{_plain(high)}"
    else:
        span = f"{_plain(high)} or below" if high is not None else f"{_plain(low)} or above"
    return f"{span} {unit}".strip() + (f" ({basis})" if basis else " (the lab's range)")


def _flag(value: Decimal | None, obs: Observation, measure: Measure | None, unit: str) -> tuple[str, str]:
    if value is None:
        return "", ""
    if obs.low is not None or obs.high is not None:
        low, high, basis = obs.low, obs.high, ""
    elif measure is not None and (measure.low is not None or measure.high is not None):
        low, high, basis = measure.low, measure.high, measure.basis
    else:
        return "", ""
    words = _range_words(low, high, unit, basis)
    if high is not None and value > high:
        return "high", words
    if low is not None and value < low:
        return "low", words
    return "", words


# UCUM units as a person writes them.
UNIT_WORDS = {
    "mm[Hg]": "mmHg",
    "kg/m2": "kg/m²",
    "mL/min/{1.73_m2}": "mL/min/1.73 m²",
    "/min": "/min",
    "[lb_av]": "lb",
    "[in_i]": "in",
    "{score}": "",
    "{ratio}": "",
}


def unit_words(unit: str) -> str:
    return UNIT_WORDS.get(unit, unit.replace("{", "").replace("}", "").replace("_", " "))


def _reading(obs: Observation, label: str, measure: Measure | None, today: dt.date) -> Reading:
    value = obs.value.quantize(Decimal("0.1")) if obs.value is not None else None
    unit = unit_words(obs.unit)
    flag, words = _flag(value, obs, measure, unit)
    old = (today - obs.effective.date()).days > 365
    return Reading(obs.code, label, obs.effective, value, unit, obs.value_text, flag, words, old)


def _immunizations_due(patient, given: list[Immunization], today: dt.date) -> list[str]:
    """What the CDC's adult schedule would prompt a care manager to ask about (information, not an order)."""
    due = []
    season = dt.date(today.year if today.month >= 8 else today.year - 1, 8, 1)
    if not any(i.code in INFLUENZA_CVX and i.occurred >= season and i.status == "completed" for i in given):
        due.append(f"Influenza: none on record this season (since {season:%B} {season.day}, {season.year}).")
    if patient.age_on(today) >= 65:
        pcv = [i for i in given if i.code in PNEUMOCOCCAL_CONJUGATE_CVX and i.status == "completed"]
        if not pcv:
            had = [i for i in given if i.code in PNEUMOCOCCAL_CVX and i.status == "completed"]
            before = f" (on record: {', '.join(sorted({i.display for i in had}))})" if had else ""
            due.append(f"Pneumococcal: no conjugate vaccine (PCV15, PCV20 or PCV21) on record at 65 or over{before}.")
    return due


def active_medications(patient) -> list[Medication]:
    """One line per medication (its newest prescription or statement), the active ones, by name."""
    latest: dict[str, Medication] = {}
    for m in Medication.objects.filter(patient=patient).order_by("start", "id"):
        latest[m.code or m.display] = m
    return sorted((m for m in latest.values() if m.active), key=lambda m: m.display.lower())


def clinical_picture(patient, today: dt.date) -> Picture:
    picture = Picture()
    picture.medications = active_medications(patient)
    picture.allergies = list(
        Allergy.objects.filter(patient=patient).exclude(clinical_status__in=["inactive", "resolved"])
    )
    observations = list(Observation.objects.filter(patient=patient).order_by("code", "effective", "id"))
    newest: dict[str, Observation] = {}
    for obs in observations:
        newest[obs.code] = obs
        measure = MEASURE_OF_CODE.get(obs.code)
        if measure is not None and obs.value is not None:
            picture.trends.setdefault(measure.key, []).append((obs.effective.date(), obs.value))
    shown_measures = set()
    for measure in MEASURES:
        obs = max((newest[c] for c in measure.codes if c in newest), key=lambda o: o.effective, default=None)
        if obs is not None:
            picture.readings.append(_reading(obs, measure.label, measure, today))
            shown_measures.update(measure.codes)
    others = [o for code, o in newest.items() if code not in shown_measures and o.category == "laboratory"]
    for obs in sorted(others, key=lambda o: o.effective, reverse=True):
        picture.readings.append(_reading(obs, obs.display, None, today))
    given = list(Immunization.objects.filter(patient=patient))
    picture.immunizations = [i for i in given if i.status == "completed"][:8]
    picture.due = _immunizations_due(patient, given, today)
    picture.reconciled = (
        Reconciliation.objects.filter(patient=patient)
        .select_related("performed_by")
        .annotate(discrepancies=Count("items", filter=Q(items__answer__in=ReconciledItem.DISCREPANCIES)))
        .first()
    )
    return picture


def _day(when) -> str:
    return f"{when:%b} {when.day}, {when.year}"


# Dose forms and units: not what names a medication in a care plan.
_FORM_WORDS = frozenset({
    "tablet", "tablets", "capsule", "capsules", "oral", "actuat", "metered", "inhaler", "inhalation", "solution",
    "injection", "injectable", "extended", "release", "delayed", "topical", "cream", "ointment", "suspension",
    "chewable", "disintegrating", "powder", "spray", "nasal", "patch", "transdermal", "prefilled", "syringe", "syrup",
    "daily", "units",
})  # fmt: skip
SCREEN_WORDS = {  # the words a plan's problem list or goals uses for what a positive screen found
    "phq2": ("depress", "mood"),
    "phq9": ("depress", "mood"),
    "gad7": ("anxi", "worry"),
    "steadi": ("fall",),
}
NEED_WORDS = {  # the AHC social-needs domains, as community services or problems name them
    "housing": ("housing", "shelter", "home repair", "pest", "mold", "heat"),
    "food": ("food", "meal", "snap", "pantry", "nutrition assistance"),
    "transportation": ("transport", "ride"),
    "utilities": ("utilit", "liheap", "electric", "shut-off", "shutoff"),
    "safety": ("safety", "violence", "abuse", "safe"),
}


def medication_words(display: str) -> tuple[str, ...]:
    """The words that name a medication ("Lisinopril 10 MG Oral Tablet" -> ("lisinopril",)): alphabetic, five
    letters or more, not a dose form; the whole display when none is left."""
    words = tuple(
        w for w in (part.strip("[]().,;:/-").lower() for part in display.split())
        if len(w) >= 5 and w.isalpha() and w not in _FORM_WORDS
    )  # fmt: skip
    return words or (display.lower(),)


def plan_findings(patient, today: dt.date) -> list[Finding]:
    """What the plan must address from the clinical picture (`rules.careplan.Finding`): each current medication —
    as last reconciled (not those the patient stopped), else the EHR's active list — and the latest result of each
    screen given in the last year when it was positive."""
    zone = zoneinfo.ZoneInfo(patient.practice.time_zone)
    out: list[Finding] = []
    version = Reconciliation.objects.filter(patient=patient).order_by("-number").first()
    if version is not None:
        names = [i.display for i in version.items.all() if i.answer != "stopped"]
    else:
        names = [m.display for m in active_medications(patient)]
    need = "medication management: name the patient's current medications (Pull from the clinical picture)"
    out += [Finding("medication_management", medication_words(name), need, name) for name in names]
    latest: dict[str, AssessmentResponse] = {}
    since = dt.datetime.combine(today - dt.timedelta(days=365), dt.time(), tzinfo=zone)
    for a in AssessmentResponse.objects.filter(patient=patient, performed_at__gte=since).order_by("performed_at", "id"):
        latest[a.instrument] = a
    if "phq9" in latest and "phq2" in latest and latest["phq9"].performed_at >= latest["phq2"].performed_at:
        del latest["phq2"]  # the PHQ-9 that followed the screen says more
    for key, a in latest.items():
        if not a.positive or key not in INSTRUMENTS:
            continue
        when = _day(a.performed_at.astimezone(zone))
        title = INSTRUMENTS[key].title
        if key in SCREEN_WORDS:
            out.append(Finding("problems", SCREEN_WORDS[key], "problem list or goals: address the positive screen",
                               f"{title} of {when}: {a.band}"))  # fmt: skip
        else:
            for item_domain in dict.fromkeys(i.domain for i in HRSN.items):
                if item_domain in a.band.removeprefix("needs: ").split(", "):
                    out.append(Finding("community_services", NEED_WORDS[item_domain],
                                       "community and social services: address the social needs found",
                                       f"{item_domain} ({title.split(':')[0].lower()} of {when})"))  # fmt: skip
    return out


def care_plan_lines(patient, today: dt.date) -> tuple[str, str]:
    """What the clinical picture adds to a care plan (issue 33): the medication list — as last reconciled with the
    patient, else as the EHR lists it, saying which — for medication management, and the latest readings with
    their flags for symptom management."""
    picture = clinical_picture(patient, today)
    zone = zoneinfo.ZoneInfo(patient.practice.time_zone)
    version = picture.reconciled
    if version is not None:
        taken = [
            f"{i.display}" + (f" ({i.get_answer_display().lower()}: {i.detail})" if i.answer != "taking" else "")
            for i in version.items.all()
            if i.answer != "stopped"
        ]
        medications = (
            f"Medications as reconciled with the patient on {_day(version.performed_at.astimezone(zone))} (version "
            f"{version.number}, against {version.source}): " + "; ".join(taken) + "."
        )
    elif picture.medications:
        medications = (
            "Medications on the EHR's list (not yet reconciled with the patient): "
            + "; ".join(m.display + (f", {m.dosage}" if m.dosage else "") for m in picture.medications)
            + "."
        )
    else:
        medications = ""
    measured = [r for r in picture.readings if r.code in MEASURE_OF_CODE and r.value is not None]
    readings = "; ".join(
        f"{r.label} {_plain(r.value)} {r.unit}".rstrip() + f" ({r.when.astimezone(zone):%b %Y}"
        + (", above range" if r.flag == "high" else ", below range" if r.flag == "low" else "") + ")"
        for r in measured
    )  # fmt: skip
    return medications, (f"Latest readings: {readings}." if readings else "")
