"""Bulk import from the office's spreadsheets: volunteers, merchants, areas and courtyards
from CSV (UTF-8 with or without a BOM, or GBK/GB18030 as Excel writes it) or XLSX. Every row
is checked first and a per-row report says what would be created, updated, left unchanged or
refused (with the column and the reason); a file applies only when no row is refused, in one
transaction, so nothing is ever half applied; importing the same file again changes nothing.
Plain Python and SQLAlchemy."""
