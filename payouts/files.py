"""Batch-transfer files out, result files in: CSV (UTF-8 with BOM, opens in Excel) or XLSX
(openpyxl), in the column layouts of the Alipay batch transfer (批量转账到支付宝账户), the WeChat
Pay transfer-to-balance batch (商家转账到零钱) and a bank's payroll-style 代发 template. Every
file names its batch (``JD<run>``) and each line its reference (``JD<run>L<line>``), which
the channel returns with its result, so a result file is matched line by line."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from .errors import BadResultFile, WrongRun
from .runs import ExportLine, Result

CHANNELS = ("alipay", "wechat", "bank")
FORMATS = ("csv", "xlsx")
MAX_RESULT_BYTES = 2 * 1024 * 1024
MAX_RESULT_ROWS = 2_000
LINE_REFERENCE = re.compile(r"^JD(\d{6})L(\d{8})$")


@dataclass(frozen=True)
class Layout:
    summary_header: tuple[str, ...]
    detail_header: tuple[str, ...]


LAYOUTS = {
    "alipay": Layout(("批次号", "付款日期", "付款方", "总金额（元）", "总笔数"),
                     ("商户流水号", "收款方支付宝账号", "收款方姓名", "金额（元）", "备注")),
    "wechat": Layout(("商家批次单号", "批次名称", "转账总金额（元）", "转账总笔数"),
                     ("商家明细单号", "收款用户openid", "收款用户姓名", "转账金额（元）",
                      "转账备注")),
    "bank": Layout(("代发批次号", "付款单位", "总金额（元）", "总笔数"),
                   ("序号", "收款人姓名", "收款账号", "开户行", "金额（元）", "用途",
                    "业务参考号")),
}


def yuan_text(amount_fen: int) -> str:
    return f"{amount_fen // 100}.{amount_fen % 100:02d}"


def batch_number(run_id: int) -> str:
    return f"JD{run_id:06d}"


def rows_for(channel: str, run_id: int, payer: str, day: str,
             lines: list[ExportLine]) -> list[list[str]]:
    """The file's rows: the batch summary, a blank row, the detail header and a row a line."""
    layout = LAYOUTS[channel]
    total = yuan_text(sum(line.amount_fen for line in lines))
    summary = {"alipay": [batch_number(run_id), day, payer, total, str(len(lines))],
               "wechat": [batch_number(run_id), f"{payer} {day}", total, str(len(lines))],
               "bank": [batch_number(run_id), payer, total, str(len(lines))]}[channel]
    rows = [list(layout.summary_header), summary, [], list(layout.detail_header)]
    for number, line in enumerate(lines, 1):
        amount = yuan_text(line.amount_fen)
        if channel == "alipay":
            rows.append([line.reference, line.account, line.name, amount, line.memo])
        elif channel == "wechat":
            rows.append([line.reference, line.account, line.name, amount, line.memo])
        else:
            rows.append([str(number), line.name, line.account, line.bank, amount, line.memo,
                         line.reference])
    return rows


def render(rows: list[list[str]], fmt: str) -> bytes:
    if fmt == "csv":
        out = io.StringIO()
        csv.writer(out).writerows(rows)
        return ("\ufeff" + out.getvalue()).encode("utf-8")
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = "明细"
    for row in rows:
        sheet.append(row)  # every cell as text: accounts keep their leading digits
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


# --- results --------------------------------------------------------------------------------

REFERENCE_COLUMNS = ("商户流水号", "商家明细单号", "业务参考号", "line_reference")
AMOUNT_COLUMNS = ("金额（元）", "转账金额（元）", "amount_yuan", "金额")
STATUS_COLUMNS = ("状态", "处理结果", "明细状态", "status")
CHANNEL_REFERENCE_COLUMNS = ("支付宝流水号", "微信明细单号", "银行流水号", "渠道流水号",
                             "reference")
REASON_COLUMNS = ("失败原因", "reason")
PAID = {"成功", "已到账", "支付成功", "SUCCESS", "PAID", "paid", "success"}
FAILED = {"失败", "退票", "支付失败", "FAIL", "FAILED", "failed", "fail"}


def read_rows(data: bytes, filename: str) -> list[list[str]]:
    if len(data) > MAX_RESULT_BYTES:
        raise BadResultFile("the result file is larger than 2 MB")
    if filename.lower().endswith(".xlsx"):
        from openpyxl import load_workbook

        try:
            sheet = load_workbook(io.BytesIO(data), read_only=True, data_only=True).active
            rows = [["" if cell is None else str(cell).strip() for cell in row]
                    for row in sheet.iter_rows(values_only=True, max_row=MAX_RESULT_ROWS + 10)]
        except Exception as error:  # a broken workbook is bad input, never a 500
            raise BadResultFile(f"the workbook could not be read: {error}") from error
        return rows
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = data.decode("gb18030")
        except UnicodeDecodeError as error:
            raise BadResultFile("the file is neither UTF-8 nor GB18030 text") from error
    return [[cell.strip() for cell in row] for row in csv.reader(io.StringIO(text))][
        :MAX_RESULT_ROWS + 10]


def _column(header: list[str], names) -> int | None:
    for index, cell in enumerate(header):
        if cell in names:
            return index
    return None


def parse_results(data: bytes, filename: str, run_id: int) -> list[Result]:
    """The channel's result file as results. The batch number above the lines, if any, and
    every line reference must be this run's (``wrong_run``)."""
    rows = read_rows(data, filename)
    header_at = next((i for i, row in enumerate(rows)
                      if _column(row, REFERENCE_COLUMNS) is not None), None)
    if header_at is None:
        raise BadResultFile("no header row with a line reference column (商户流水号, "
                            "商家明细单号 or 业务参考号)")
    for row in rows[:header_at]:
        for cell in row:
            if re.fullmatch(r"JD\d{6}", cell) and cell != batch_number(run_id):
                raise WrongRun(f"the file is for batch {cell}, not {batch_number(run_id)}",
                               run_id=run_id)
    header = rows[header_at]
    at = {name: _column(header, names) for name, names in (
        ("reference", REFERENCE_COLUMNS), ("amount", AMOUNT_COLUMNS),
        ("status", STATUS_COLUMNS), ("channel_reference", CHANNEL_REFERENCE_COLUMNS),
        ("reason", REASON_COLUMNS))}
    if at["status"] is None:
        raise BadResultFile("no status column (状态)")
    results = []
    for number, row in enumerate(rows[header_at + 1:], header_at + 2):
        if not any(row):
            continue

        def cell(name, row=row):
            index = at[name]
            return row[index] if index is not None and index < len(row) else ""

        match = LINE_REFERENCE.match(cell("reference"))
        if match is None:
            raise BadResultFile(f"row {number}: {cell('reference')!r} is not a line reference")
        if int(match.group(1)) != run_id:
            raise WrongRun(f"row {number}: line {cell('reference')} belongs to another run",
                           run_id=run_id)
        status = cell("status")
        if status in PAID:
            status = "paid"
        elif status in FAILED:
            status = "failed"
        else:
            raise BadResultFile(f"row {number}: status {status!r} is neither 成功 nor 失败")
        amount_fen = None
        if cell("amount"):
            try:
                amount = Decimal(cell("amount").replace(",", ""))
            except InvalidOperation as error:
                raise BadResultFile(f"row {number}: {cell('amount')!r} is not an amount") \
                    from error
            if amount != amount.quantize(Decimal("0.01")) or amount <= 0:
                raise BadResultFile(f"row {number}: {cell('amount')!r} is not an amount")
            amount_fen = int(amount * 100)
        results.append(Result(int(match.group(2)), status, cell("channel_reference") or None,
                              cell("reason") or None, amount_fen))
    if not results:
        raise BadResultFile("the file has no result lines")
    return results
