"""Reading the X12 files a payer or clearinghouse sends back (issue 35): 999 and 277CA acknowledgments and 835
remittances. pyx12 (already the 837P's validator) does the reading: its `X12Reader` splits the interchange with the
delimiters the ISA declares, and its maps for 999 (005010X231A1), 277CA (005010X214) and 835 (005010X221A1)
validate the file against the implementation guide before anything is read from it. A file that fails is refused
whole, with pyx12's error naming the segment. Pure: no database."""

from __future__ import annotations

import io
import logging
from dataclasses import dataclass, field

import pyx12.errors
import pyx12.params
import pyx12.x12file
import pyx12.x12n_document

from ccmops.billing.x12_maps import map_path
from ccmops.errors import InvalidInput

# GS01 (functional identifier) and GS08 (version) of what ccmops reads
KINDS = {
    ("FA", "005010X231A1"): "999",
    ("HN", "005010X214"): "277ca",
    ("HP", "005010X221A1"): "835",
    ("HB", "005010X279A1"): "271",
}
NAMES = {"HC": "an 837 claim file", "HS": "a 270 eligibility inquiry"}


@dataclass(frozen=True)
class Seg:
    """One segment: its id and its elements (a composite element as a list of its components)."""

    id: str
    elements: tuple
    line: int

    def get(self, n: int, component: int = 0) -> str:
        """Element `n` (1-based, as the guide numbers it); `component` (1-based) of a composite."""
        if n > len(self.elements):
            return ""
        value = self.elements[n - 1]
        if isinstance(value, list):
            return value[component - 1] if component and component <= len(value) else value[0]
        return value if component in (0, 1) else ""


@dataclass
class Interchange:
    kind: str  # 999 | 277ca | 835 | 271
    sender: str  # ISA06
    receiver: str  # ISA08
    control_number: str  # ISA13
    production: bool  # ISA15 = P
    segments: list[Seg] = field(default_factory=list)


def _segments(text: str, label: str) -> list[Seg]:
    try:
        reader = pyx12.x12file.X12Reader(io.StringIO(text))
        out = []
        for seg in reader:
            raw = seg.format(seg_term="", ele_term="\x1d", subele_term="\x1f")
            parts = raw.split("\x1d")
            elements = tuple(p.split("\x1f") if "\x1f" in p else p for p in parts[1:])
            out.append(Seg(parts[0], elements, reader.get_cur_line()))
        return out
    except pyx12.errors.X12Error as exc:
        raise InvalidInput(f"{label}: not a readable X12 interchange: {exc}") from None


def validate_with_guide(text: str, label: str) -> None:
    """pyx12 checks the file against its implementation guide's map (`x12_maps`: pyx12's, and the 270/271 maps);
    its errors name the segment.

    Raises:
        InvalidInput: the file does not follow its guide, with pyx12's errors.
    """
    log = io.StringIO()
    handler = logging.StreamHandler(log)
    logger = logging.getLogger("pyx12")
    logger.addHandler(handler)
    previous = logger.level
    logger.setLevel(logging.ERROR)
    ack = io.StringIO()
    try:
        ok = pyx12.x12n_document.x12n_document(
            param=pyx12.params.params(), src_file=io.StringIO(text), fd_997=ack, fd_html=None, fd_xmldoc=None,
            xslt_files=None, map_path=map_path(),
        )  # fmt: skip
    except pyx12.errors.X12Error as exc:
        raise InvalidInput(f"{label}: not a valid X12 interchange: {exc}") from None
    finally:
        logger.removeHandler(handler)
        logger.setLevel(previous)
    if not ok:
        errors = "; ".join(line.strip() for line in log.getvalue().splitlines() if line.strip())[:1500]
        raise InvalidInput(f"{label}: does not follow its implementation guide (pyx12): {errors or 'rejected'}")


def read_interchange(text: str, label: str) -> Interchange:
    """The interchange's envelope and segments, validated; refused whole (InvalidInput naming the file and the
    segment) when it is not X12, not a 999, 277CA, 835 or 271 of version 5010, or not valid against its guide."""
    text = text.lstrip("\ufeff").strip()
    if not text.startswith("ISA"):
        raise InvalidInput(f"{label}: not an X12 interchange: it must begin with an ISA segment")
    segments = _segments(text, label)
    isa = segments[0]
    groups = [s for s in segments if s.id == "GS"]
    if not groups:
        raise InvalidInput(f"{label}: no functional group (GS segment) in the interchange")
    found = {(g.get(1), g.get(8)) for g in groups}
    kinds = {KINDS.get(f) for f in found}
    if None in kinds or len(kinds) != 1:
        gs01, gs08 = next(f for f in found if f not in KINDS) if None in kinds else sorted(found)[0]
        what = NAMES.get(gs01, f"GS01 {gs01!r} with version {gs08!r}")
        raise InvalidInput(
            f"{label}: GS segment: expected a 999 (FA 005010X231A1), 277CA (HN 005010X214), 835 (HP 005010X221A1) "
            f"or 271 (HB 005010X279A1) file, got {what}" + (f" (version {gs08})" if gs01 in NAMES else "")
        )
    if segments[-1].id != "IEA":
        raise InvalidInput(f"{label}: the interchange is truncated: it does not end with its IEA segment")
    validate_with_guide(text, label)
    return Interchange(
        kinds.pop(), isa.get(6).strip(), isa.get(8).strip(), isa.get(13).strip(), isa.get(15) == "P", segments
    )
