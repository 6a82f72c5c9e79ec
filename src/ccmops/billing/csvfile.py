"""The rows of an uploaded CSV (a remittance, known services), each with where it stands in the file."""

from __future__ import annotations

import csv
import io

from ccmops.errors import InvalidInput


def csv_rows(text: str, file_label: str, columns: tuple[str, ...]) -> list[tuple[str, dict]]:
    """(where, row) for each row after the header, `where` naming the file and line.

    Raises:
        InvalidInput: a required column is missing (line 1), or no row follows the header.
    """
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    missing = [c for c in columns if c not in (reader.fieldnames or [])]
    if missing:
        raise InvalidInput(f"{file_label}, line 1: missing column(s) {', '.join(missing)}")
    rows = [(f"{file_label}, line {n}", row) for n, row in enumerate(reader, start=2)]
    if not rows:
        raise InvalidInput(f"{file_label}: no rows after the header")
    return rows
