"""The administrators' dashboard page: per programme, area and year, each section of
``honours.dashboard`` as a table, a bar chart drawn server-side as SVG (no script, prints
and works offline), and CSV and Excel downloads of every table."""

from __future__ import annotations

import re
from dataclasses import dataclass

from flask import Blueprint, Response, abort, render_template, request
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from honours import dashboard as sections
from honours import ranking
from honours.dashboard import Table
from volunteers import access

from .. import exports, formatting
from ..extensions import db

bp = Blueprint("dashboard", __name__, url_prefix="/dashboard")

# The sections' English titles, translated here (the domain does not know Flask-Babel).
TITLES = {
    "Points by month": _l("Points by month"),
    "The fund's money in and out": _l("The fund's money in and out"),
    "Active volunteers": _l("Active volunteers"),
    "Fund sources": _l("Fund sources"), "Fund source": _l("Fund source"),
    "Balance": _l("Balance"),
    "Month": _l("Month"), "Issued": _l("Issued"), "Spent": _l("Spent"),
    "Donated": _l("Donated"), "Expired": _l("Expired"), "Cashed out": _l("Cashed out"),
    "Reversed": _l("Reversed"), "Money in": _l("Money in"), "Money out": _l("Money out"),
    "Net": _l("Net"), "Active": _l("Active"),
    "Incident reports by category": _l("Incident reports by category"),
    "Incident reports by month": _l("Incident reports by month"),
    "Category": _l("Category"), "Reports": _l("Reports"), "Submitted": _l("Submitted"),
    "Verified": _l("Verified"), "Dispatched": _l("Dispatched"),
    "In progress": _l("In progress"), "Resolved": _l("Resolved"), "Closed": _l("Closed"),
    "Rejected": _l("Rejected"), "Resolved on time": _l("Resolved on time"),
    "On-time rate (%)": _l("On-time rate (%)"),
    "Service hours by month": _l("Service hours by month"),
    "Hours served": _l("Hours served"), "Volunteers served": _l("Volunteers served"),
    "Activities held": _l("Activities held"),
}
COLOURS = ("#c8961e", "#b42318", "#1a7f37", "#6e6e73", "#2f6fdf", "#8a5a00")
# About a phone's width in CSS pixels, so the SVG's text is drawn near its own size at 320 px.
CHART_WIDTH, CHART_HEIGHT, CHART_MARGIN = 360, 200, 28
LABEL_ROOM = 70  # under the bars, for names written at a slant
MONTH = re.compile(r"^\d{4}-(\d{2})$")


def translated(text: str) -> str:
    return str(TITLES.get(text, text))


@dataclass
class Bar:
    x: float
    y: float
    width: float
    height: float
    colour: str
    label: str


def chart(table: Table) -> dict:
    """Grouped bars, one group per row (month), one bar per charted column."""
    keys = [key for key, _ in table.columns]
    series = [keys.index(name) for name in table.chart]
    peak = max([abs(row[i]) for row in table.rows for i in series] + [1])
    group = (CHART_WIDTH - CHART_MARGIN) / max(len(table.rows), 1)
    width = group * 0.8 / max(len(series), 1)
    plot = CHART_HEIGHT - 2 * CHART_MARGIN
    # Money is charted in yuan (the table's fen, formatted), points as points.
    shown = formatting.yuan if table.unit == "fen" else formatting.points
    months = all(MONTH.match(str(row[0])) for row in table.rows)
    bars, labels = [], []
    for row_index, row in enumerate(table.rows):
        left = CHART_MARGIN + row_index * group + group * 0.1
        name = str(row[0])
        labels.append((left + group * 0.4,
                       str(int(MONTH.match(name).group(1))) if months else name))
        for position, column in enumerate(series):
            height = abs(row[column]) / peak * plot
            bars.append(Bar(left + position * width, CHART_MARGIN + plot - height, width, height,
                            COLOURS[position % len(COLOURS)], f"{name} {shown(row[column])}"))
    legend = [(translated(table.columns[c][1]), COLOURS[p % len(COLOURS)])
              for p, c in enumerate(series)]
    return {"bars": bars, "labels": labels, "legend": legend, "peak": shown(peak),
            "slanted": not months, "width": CHART_WIDTH,
            "height": CHART_HEIGHT + (0 if months else LABEL_ROOM),
            "baseline": CHART_HEIGHT - CHART_MARGIN}


def _programmes():
    return sections.visible_programmes(db.session, current_user)


def _arguments():
    choices = _programmes()
    if not choices:
        return None, None, None, choices
    code = request.args.get("programme", choices[0].code)
    try:
        year = int(request.args.get("year", ranking.china_year_now()))
    except ValueError:
        abort(404)
    area = request.args.get("area") or _default_area(code, choices)
    return code, year, area, choices


def _default_area(code: str, choices) -> str | None:
    """The programme's area if the admin's grant covers it, else their own area inside it."""
    programme = next((p for p in choices if p.code == code), None)
    if programme is None or access.holds(current_user, ("admin",), programme.area):
        return None
    inside = [a for a in access.staff_areas(current_user, ("admin",))
              if programme.area.contains(a)]
    return inside[0].code if inside else None


@bp.route("/")
@login_required
def index():
    access.require(current_user, sections.DASHBOARD_ROLES)
    code, year, area_code, choices = _arguments()
    if code is None:
        return render_template("dashboard/index.html", programmes=[], tables=[])
    programme, area, tables = sections.build(db.session, current_user, code, year, area_code)
    first_year = programme.created_at.year
    return render_template(
        "dashboard/index.html", programmes=choices, programme=programme, area=area, year=year,
        years=range(ranking.china_year_now(), first_year - 1, -1), tables=tables,
        charts={t.key: chart(t) for t in tables}, translated=translated,
        sub_areas=_sub_areas(programme))


def _sub_areas(programme):
    from volunteers.areas import subtree

    return [a for a in subtree(db.session, programme.area)
            if access.holds(current_user, ("admin",), a)]


@bp.route("/<code>/<int:year>/<section>.<fmt>")
@login_required
def download(code, year, section, fmt):
    """One section's table as CSV or Excel."""
    if fmt not in exports.FORMATS:
        abort(404)
    _programme, _area, tables = sections.build(db.session, current_user, code, year,
                                               request.args.get("area") or None)
    table = next((t for t in tables if t.key == section), None)
    if table is None:
        abort(404)
    shown = Table(table.key, table.title, [(k, translated(t)) for k, t in table.columns],
                  table.rows)
    return Response(exports.render(shown, fmt), mimetype=exports.FORMATS[fmt], headers={
        "Content-Disposition": f"attachment; filename=dashboard-{code}-{year}-{section}.{fmt}"})
