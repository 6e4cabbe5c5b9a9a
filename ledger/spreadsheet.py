"""One rule for every cell a CSV or Excel export writes: text that a spreadsheet would read as
a formula (starting with = + - @, a tab or a carriage return) is written with a leading
apostrophe, so a display name like ``=HYPERLINK(...)`` shows as text and never runs. Numbers
are left as they are. Every export (the ledger's, the dashboard's, reports, party duty,
merchant statements) writes its cells through ``safe_cell`` or ``safe_row``."""

from __future__ import annotations

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value):
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def safe_row(values) -> list:
    return [safe_cell(value) for value in values]
