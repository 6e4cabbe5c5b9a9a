"""Every table downloadable as CSV (UTF-8 with a BOM, so Excel reads the Chinese) or Excel
(.xlsx by openpyxl). A table is ``honours.dashboard.Table``: columns and rows."""

from __future__ import annotations

import csv
import io
from datetime import datetime

from sqlalchemy import select

from honours import honours
from honours.dashboard import Table
from honours.models import RankingRow, RankingSnapshot
from ledger.clock import CHINA
from ledger.spreadsheet import safe_cell, safe_row
from volunteers.models import User

FORMATS = {"csv": "text/csv; charset=utf-8",
           "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
PROGRESS_EVERY_ROWS = 10_000
ROWS_PER_READ = 50_000

RANKING_COLUMNS = [("position", "Position"), ("rank", "Rank"), ("volunteer_id", "Volunteer id"),
                   ("display_name", "Name"), ("points", "Points earned"),
                   ("reached_at", "Reached at"), ("tier", "Tier"), ("bonus_yuan", "Bonus (yuan)")]


def _cell(value):
    if isinstance(value, datetime):
        return value.astimezone(CHINA).strftime("%Y-%m-%d %H:%M:%S")
    return safe_cell(value)


def ranking_table(session, snapshot: RankingSnapshot, titles=None) -> Table:
    """Every row of a published ranking, read in slices (a million rows fit)."""
    names = honours.tier_names(snapshot.config)
    table = Table("ranking", f"{snapshot.programme.code} {snapshot.year}",
                  [(key, (titles or {}).get(key, title)) for key, title in RANKING_COLUMNS])
    last = 0
    while True:
        rows = session.execute(
            select(RankingRow.position, RankingRow.rank, RankingRow.volunteer_id,
                   User.display_name, RankingRow.points, RankingRow.reached_at,
                   RankingRow.tier, RankingRow.bonus_fen)
            .join(User, User.id == RankingRow.volunteer_id)
            .where(RankingRow.snapshot_id == snapshot.id, RankingRow.position > last)
            .order_by(RankingRow.position).limit(ROWS_PER_READ)).all()
        if not rows:
            return table
        for position, rank, vid, name, points, reached_at, tier, bonus_fen in rows:
            table.rows.append([position, rank, vid, name, points, reached_at,
                               names.get(tier, ""), f"{bonus_fen / 100:.2f}"])
        last = rows[-1][0]


def render(table: Table, fmt: str, progress=None) -> bytes:
    if fmt == "csv":
        return _csv(table, progress)
    if fmt == "xlsx":
        return _xlsx(table, progress)
    raise ValueError(f"unknown format {fmt}")


def _csv(table: Table, progress) -> bytes:
    stream = io.StringIO()
    writer = csv.writer(stream)
    writer.writerow(safe_row(str(title) for _, title in table.columns))
    for index, row in enumerate(table.rows, start=1):
        writer.writerow([_cell(value) for value in row])
        if progress and index % PROGRESS_EVERY_ROWS == 0:
            progress(PROGRESS_EVERY_ROWS)
    return ("\ufeff" + stream.getvalue()).encode("utf-8")


def _xlsx(table: Table, progress) -> bytes:
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=table.key[:31])
    sheet.append(safe_row(str(title) for _, title in table.columns))
    for index, row in enumerate(table.rows, start=1):
        sheet.append([_cell(value) for value in row])
        if progress and index % PROGRESS_EVERY_ROWS == 0:
            progress(PROGRESS_EVERY_ROWS)
    stream = io.BytesIO()
    workbook.save(stream)
    return stream.getvalue()
