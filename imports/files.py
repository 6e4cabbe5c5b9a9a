"""Reading the office's spreadsheets: CSV in UTF-8 (with or without a BOM) or GBK/GB18030 as
Excel saves it on a Chinese Windows, or XLSX; the first row names the columns."""

from __future__ import annotations

import csv
import io

from volunteers.errors import Invalid

MAX_FILE_BYTES = 20 * 1024 * 1024
MAX_ROWS = 20_000
MAX_CELL_LENGTH = 500
XLSX_MAGIC = b"PK\x03\x04"


class TooManyRows(Invalid):
    """The file holds more rows than one import takes."""

    code = "too_many_rows"
    status = 413


def decode(data: bytes) -> str:
    """UTF-8 (a BOM is dropped) when the bytes are UTF-8, else GB18030 (a superset of GBK and
    GB2312); neither: refused."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030")
    except UnicodeDecodeError as error:
        raise Invalid("the file is neither UTF-8 nor GBK text",
                      errors={"file": ["save it as CSV UTF-8 or as an Excel workbook"]}) \
            from error


def read_table(data: bytes, filename: str = "") -> tuple[list[str], list[list[str]]]:
    """The header and the data rows (as text, blank rows dropped) of a CSV or XLSX file."""
    if len(data) > MAX_FILE_BYTES:
        raise TooManyRows(f"the file is over {MAX_FILE_BYTES // (1024 * 1024)} MB",
                          errors={"file": ["too large"]})
    if data.startswith(XLSX_MAGIC) or filename.lower().endswith(".xlsx"):
        rows = _xlsx_rows(data)
    else:
        rows = list(csv.reader(io.StringIO(decode(data))))
    rows = [[_cell(value) for value in row] for row in rows]
    rows = [row for row in rows if any(row)]
    if not rows:
        raise Invalid("the file is empty", errors={"file": ["no header row"]})
    header, body = rows[0], rows[1:]
    if len(body) > MAX_ROWS:
        raise TooManyRows(f"{len(body)} rows: at most {MAX_ROWS} in one import",
                          errors={"file": [f"at most {MAX_ROWS} rows; split the file"]})
    return header, body


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # Excel stores a phone number typed as a number as 1.38e10
    return str(value).strip()[:MAX_CELL_LENGTH]


def _xlsx_rows(data: bytes) -> list[list]:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises several kinds for a broken workbook
        raise Invalid("not a readable XLSX workbook",
                      errors={"file": ["save it again as .xlsx or as CSV"]}) from error
    try:
        sheet = workbook.worksheets[0]
        rows = []
        for row in sheet.iter_rows(values_only=True):
            rows.append(list(row))
            if len(rows) > MAX_ROWS + 1:
                break
        return rows
    finally:
        workbook.close()


def write_csv(header: list[str], rows: list[list]) -> bytes:
    """UTF-8 with a BOM (Excel then reads the Chinese right); formula-like cells quoted."""
    from volunteers.audit import safe_cell

    stream = io.StringIO()
    writer = csv.writer(stream)
    writer.writerow(header)
    for row in rows:
        writer.writerow([safe_cell(value) for value in row])
    return ("\ufeff" + stream.getvalue()).encode("utf-8")


def write_xlsx(header: list[str], rows: list[list]) -> bytes:
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.append(header)
    for row in rows:
        sheet.append(list(row))
    stream = io.BytesIO()
    workbook.save(stream)
    return stream.getvalue()


def activation_csv(issued) -> bytes:
    """The office's list of activation codes: who, their phone, the code, until when."""
    from ledger.clock import CHINA

    return write_csv(
        ["用户名", "姓名", "手机号", "激活码", "有效期至"],
        [[person.username, person.display_name, person.phone or "", code,
          expires_at.astimezone(CHINA).strftime("%Y-%m-%d %H:%M")]
         for person, code, expires_at in issued])
