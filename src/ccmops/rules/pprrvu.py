"""CMS's Physician Fee Schedule relative value file (PPRRVU) in its published CSV layout, read into a
`FeeSchedule` (R-2027-3: a rule year's fee schedule is data).

The one way fees are read: the files ccmops ships (`data/fees/`) and a file an administrator loads
(`ccmops rules load-fees`) go through `parse_pprrvu`. CMS's file opens with title rows (the year and release),
then a header row beginning HCPCS; its columns are named a little differently from release to release, so they
are found by their words. Only the care-management codes ccmops prices are kept, global rows only (no modifier).
Every problem is collected and named with its line; nothing is returned when there is one.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from ccmops.rules.fees import FeeSchedule

# The codes priced by the engine or shown with its alternatives (cms-rules.md §7).
PRICED_CODES = frozenset(
    {
        "99490", "99439", "99487", "99489", "99491", "99437",
        "99424", "99425", "99426", "99427", "G0506",
        "G0556", "G0557", "G0558", "G0568", "G0569", "G0570", "G0511",
        "99484", "99492", "99493", "99494", "G2214", "99495", "99496", "99457", "99470",
    }
)  # fmt: skip
# Without these a year's care-management claims cannot be priced: a file lacking one is refused.
REQUIRED_CODES = frozenset({"99490", "99439", "99487", "99489", "99491", "99437", "99424", "99425", "99426", "99427"})


def required_codes(year: int) -> frozenset[str]:
    """The codes a file for `year` must price: APCM from 2025 (R-APCM-1); its add-ons from 2026 (R-2026-1)."""
    out = set(REQUIRED_CODES)
    if year >= 2025:
        out |= {"G0556", "G0557", "G0558"}
    if year >= 2026:
        out |= {"G0568", "G0569", "G0570"}
    return frozenset(out)


class FeeFileError(ValueError):
    """The file is not a usable PPRRVU file; `problems` name each line or column and what was expected."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("; ".join(problems))


@dataclass(frozen=True)
class _Columns:
    hcpcs: int
    mod: int | None
    status: int | None
    work: int | None
    nf_pe: int | None
    f_pe: int | None
    mp: int | None
    nf_total: int | None
    f_total: int | None
    cf: int | None


def _words(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", " ", name.lower()).strip()


def _find(header: list[str], test) -> int | None:
    for i, name in enumerate(header):
        if test(_words(name)):
            return i
    return None


def _columns(header: list[str]) -> tuple[_Columns | None, list[str]]:
    def nonfac(w: str) -> bool:
        return "non" in w and "fac" in w

    cols = _Columns(
        hcpcs=_find(header, lambda w: w.startswith("hcpcs")),
        mod=_find(header, lambda w: w in ("mod", "modifier")),
        status=_find(header, lambda w: w.startswith("status")),
        work=_find(header, lambda w: w.startswith("work") and "rvu" in w),
        nf_pe=_find(header, lambda w: nonfac(w) and "pe" in w.split() and "opps" not in w and "na" not in w.split()),
        f_pe=_find(
            header,
            lambda w: "fac" in w and not nonfac(w) and "pe" in w.split() and "opps" not in w and "na" not in w.split(),
        ),
        mp=_find(header, lambda w: (w.startswith("mp") or "malpractice" in w) and "opps" not in w),
        nf_total=_find(header, lambda w: nonfac(w) and "total" in w),
        f_total=_find(header, lambda w: "fac" in w and not nonfac(w) and "total" in w),
        cf=_find(header, lambda w: w.startswith("conv")),
    )
    problems = []
    if cols.hcpcs is None:
        problems.append("no HCPCS column")
    if cols.cf is None:
        problems.append("no conversion factor column")
    if cols.nf_total is None and None in (cols.work, cols.nf_pe, cols.mp):
        problems.append("neither a non-facility total column nor work, non-facility PE and MP RVU columns")
    return (None if problems else cols), problems


def _year_in(text: str) -> int | None:
    found = re.findall(r"\b(20\d\d)\b", text)
    return int(found[0]) if found else None


def _year_of_name(name: str) -> int | None:
    m = re.search(r"rvu(\d{2})(?!\d)", name.lower())
    return 2000 + int(m.group(1)) if m else None


def parse_pprrvu(text: str, *, year: int, source: str, qp_conversion_factor: Decimal | None = None) -> FeeSchedule:
    """The care-management codes' RVUs and the conversion factor of a PPRRVU file for `year`.

    `source` names the file (its name, and the release where the title says it). A file whose title rows or
    name say another year is refused.

    Raises:
        FeeFileError: every problem found, each with its line (1-based) or column.
    """
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    problems: list[str] = []
    titles: list[str] = []
    start = None
    for i, row in enumerate(rows):
        if row and _words(row[0]).startswith("hcpcs"):
            start = i
            break
        titles.append(" ".join(row))
    if start is None:
        raise FeeFileError([f"{source}: no header row beginning HCPCS; expected CMS's PPRRVU CSV layout"])
    named = _year_in(" ".join(titles)) or _year_of_name(source)
    if named is not None and named != year:
        problems.append(f"{source}: the file is for {named}, not {year}")
    cols, missing = _columns(rows[start])
    if cols is None:
        raise FeeFileError([f"{source} line {start + 1}: {m}" for m in missing] + problems)

    nf: dict[str, Decimal] = {}
    fac: dict[str, Decimal] = {}
    status: dict[str, str] = {}
    factors: set[Decimal] = set()

    def cell(row: list[str], idx: int | None) -> str:
        return row[idx].strip() if idx is not None and idx < len(row) else ""

    def number(row: list[str], idx: int | None, what: str, line: int) -> Decimal | None:
        raw = cell(row, idx)
        if raw == "":
            return None
        try:
            value = Decimal(raw)
        except InvalidOperation:
            problems.append(f"{source} line {line}: {what} {raw!r} is not a number")
            return None
        if not value.is_finite() or value < 0:
            problems.append(f"{source} line {line}: {what} {raw!r} is not a non-negative number")
            return None
        return value

    for i, row in enumerate(rows[start + 1 :], start=start + 2):
        code = cell(row, cols.hcpcs).upper()
        if code not in PRICED_CODES or cell(row, cols.mod):
            continue
        if code in nf:
            problems.append(f"{source} line {i}: {code} appears twice without a modifier")
            continue
        total = number(row, cols.nf_total, f"{code} non-facility total", i)
        if total is None:
            parts = [
                number(row, c, f"{code} {w}", i)
                for c, w in ((cols.work, "work RVU"), (cols.nf_pe, "PE RVU"), (cols.mp, "MP RVU"))
            ]
            if None in parts:
                problems.append(f"{source} line {i}: {code} has no non-facility total and no complete RVUs")
                continue
            total = sum(parts, Decimal(0))
        ftotal = number(row, cols.f_total, f"{code} facility total", i)
        if ftotal is None and cols.f_total is None and None not in (cols.work, cols.f_pe, cols.mp):
            parts = [number(row, c, code, i) for c in (cols.work, cols.f_pe, cols.mp)]
            ftotal = None if None in parts else sum(parts, Decimal(0))
        cf = number(row, cols.cf, f"{code} conversion factor", i)
        if cf is None or cf == 0:
            problems.append(f"{source} line {i}: {code} has no conversion factor")
            continue
        factors.add(cf)
        nf[code] = total
        if ftotal is not None and ftotal > 0:
            fac[code] = ftotal
        status[code] = cell(row, cols.status).upper()
    missing_codes = sorted(required_codes(year) - set(nf))
    if missing_codes:
        problems.append(f"{source}: care-management codes missing: {', '.join(missing_codes)}")
    if len(factors) > 1:
        problems.append(
            f"{source}: rows carry different conversion factors ({', '.join(str(f) for f in sorted(factors))})"
        )
    if problems:
        raise FeeFileError(problems)
    cf = factors.pop()
    release = next((t.strip() for t in titles if t.strip()), "")[:200]  # the title row: year and release
    return FeeSchedule(
        year=year,
        nonfacility_rvu=nf,
        facility_rvu=fac,
        conversion_factor=cf,
        conversion_factor_qp=qp_conversion_factor or cf,
        source=f"{source}{f' ({release})' if release else ''}",
        provisional=False,
        status=status,
    )
