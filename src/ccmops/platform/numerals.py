"""Numbers typed by people and machines: ASCII digits only. `str.isdigit()` is true for "²", "٣" and "８",
which `int()` then refuses or reads as another number; every parser of an id, code, page or count uses this."""

from __future__ import annotations


def ascii_digits(text: str) -> bool:
    """True for a non-empty string of the digits 0–9 only."""
    return text.isascii() and text.isdigit()
