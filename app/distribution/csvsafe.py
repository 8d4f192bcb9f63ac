"""CSV export safe from formula injection: every CSV the service writes goes through here.

A spreadsheet runs a cell that starts with =, +, -, @ (and, in some, a tab or carriage
return) as a formula, so a customer named `=HYPERLINK(...)` could run one on the merchant's
computer. Such cells are written with a leading apostrophe, which spreadsheets show as
text (OWASP's advice on CSV injection).
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from typing import IO, Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> str:
    """A value as CSV text that no spreadsheet runs as a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def write_rows(out: IO[str], rows: Iterable[Iterable[Any]]) -> None:
    """Write rows as CSV, every cell made safe (open `out` with newline="")."""
    writer = csv.writer(out)
    for row in rows:
        writer.writerow([safe_cell(v) for v in row])
