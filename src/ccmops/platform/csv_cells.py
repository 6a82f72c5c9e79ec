"""CSV exports opened in a spreadsheet: a cell that starts with =, +, -, @ (or a tab or carriage return) would be
read as a formula, so such text cells are prefixed with an apostrophe (OWASP "CSV injection"). Numbers stay
numbers: a negative amount such as -12.50 is data, not a formula."""

from __future__ import annotations

import csv
import re

_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"^[+-]?\d+(\.\d+)?$")


def safe_cell(value):
    if isinstance(value, str) and value.startswith(_TRIGGERS) and not _NUMBER.match(value):
        return "'" + value
    return value


class SafeWriter:
    """csv.writer whose every text cell goes through `safe_cell`."""

    def __init__(self, stream, **kwargs):
        self._writer = csv.writer(stream, **kwargs)

    def writerow(self, row):
        return self._writer.writerow([safe_cell(v) for v in row])

    def writerows(self, rows):
        for row in rows:
            self.writerow(row)


def writer(stream, **kwargs) -> SafeWriter:
    return SafeWriter(stream, **kwargs)
