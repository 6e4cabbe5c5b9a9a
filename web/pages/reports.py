"""The report pages: a phone page that files a report in under a minute, the reporter's own
list, the reviewer's queue and a report's page with its steps, the courtyard posters and the
resident's page they open, category management and the monthly assessment."""

from __future__ import annotations

import csv
import io
import math
import uuid
from datetime import date, datetime

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    g,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from markupsafe import escape
from sqlalchemy import select

from ledger.clock import CHINA, now
from ledger.spreadsheet import safe_row
from reports import assessment, categories, departments, reports
from reports.models import STATUSES, Category
from volunteers import access, programmes
from volunteers.errors import DomainError, NotFound
from volunteers.models import Area

from .. import formatting
from ..extensions import db, limiter
from ..messages import message_for
from ..report_support import draft_from, media_path, reporter_name, reporter_phone, upload_dir
from ..report_support import uploads_from as uploads_of
from ..transactions import commit
from .report_forms import (
    URGENCY_LABELS,
    CategoryForm,
    DispatchForm,
    GroupForm,
    NoteForm,
    ReasonForm,
    ReportForm,
    ResidentReportForm,
    ResolveForm,
    ShareForm,
    VerifyForm,
)

bp = Blueprint("reports", __name__)
QUEUE_PAGE_SIZE = 50
RESIDENT_RATE_LIMIT = "20 per hour"
STAFF_ROLES = ("reviewer", "admin")


def status_labels() -> dict:
    """The statuses in the reader's language, built once per request (a queue page asks for
    them on every row)."""
    if "report_status_labels" not in g:
        g.report_status_labels = build_status_labels()
    return g.report_status_labels


def build_status_labels() -> dict:
    return {"submitted": _("Submitted"), "verified": _("Verified"), "rejected": _("Rejected"),
            "dispatched": _("Dispatched"), "in_progress": _("In progress"),
            "resolved": _("Resolved"), "closed": _("Closed")}


def action_labels() -> dict:
    return {"submitted": _("Submitted"), "verified": _("Verified"), "rejected": _("Rejected"),
            "dispatched": _("Dispatched to"), "started": _("Handling started"),
            "resolved": _("Resolved"), "closed": _("Closed"), "escalated": _("Escalated to"),
            "found_false": _("Found false")}


def urgency_names() -> dict:
    if "report_urgency_names" not in g:
        g.report_urgency_names = {code: str(label) for code, label in URGENCY_LABELS.items()}
    return g.report_urgency_names


@bp.app_context_processor
def report_labels():
    return {"report_status_labels": status_labels, "urgency_labels": urgency_names(),
            "handles_reports": handles_reports}


@bp.app_template_filter("clock")
def clock(value: datetime | None) -> str:
    """A moment in the one format of every page (web/formatting.py)."""
    return formatting.moment(value)


def handles_reports() -> bool:
    """Whether the navigation offers the report queue: reviewers, admins, department staff."""
    if not current_user.is_authenticated:
        return False
    return access.holds(current_user, STAFF_ROLES) or bool(
        departments.departments_of(db.session, current_user.id))


def category_choices() -> dict:
    """Categories under their groups (WTForms renders a dict as optgroups)."""
    grouped: dict[str, list] = {}
    for category in categories.active_categories(db.session):
        grouped.setdefault(category.group.name, []).append(
            (category.code, _("%(name)s (%(points)s points)", name=category.name,
                              points=category.points)))
    return grouped


def form_uploads(form) -> dict:
    return {"photos": [f for f in request.files.getlist(form.photos.name) if f.filename],
            "video": request.files.get(form.video.name)}


def save_report(form, actor, **extra):
    """The form's report through the service; None (with the reasons flashed) if refused."""
    photos, video = uploads_of(form_uploads(form))
    values = {"category": form.category.data, "lat": form.lat.data, "lng": form.lng.data,
              "address": form.address.data, "description": form.description.data}
    try:
        report = reports.file_report(db.session, actor, draft_from(values, **extra), photos,
                                     video, upload_dir())
        commit()
    except DomainError as error:
        db.session.rollback()
        flash(message_for(error), "error")
        return None
    return report


@bp.route("/reports/new", methods=["GET", "POST"])
@login_required
def new_report():
    access.require(current_user, ("volunteer",))
    form = ReportForm()
    form.category.choices = category_choices()
    if form.validate_on_submit():
        report = save_report(form, current_user)
        if report is not None:
            flash(_("Thank you! Report #%(id)s was sent. You will hear back within 12 hours.",
                    id=report.id), "success")
            return redirect(url_for("pages.reports.show", report_id=report.id))
    return render_template("reports/new.html", form=form, courtyard=None)


@bp.route("/reports/mine")
@login_required
def mine():
    own = reports.list_reports(db.session, current_user, reports.Filter(
        own_only=True, after_id=request.args.get("before", type=int), limit=QUEUE_PAGE_SIZE))
    following = own[-1].id if len(own) == QUEUE_PAGE_SIZE else None
    return render_template("reports/mine.html", reports=own, now=now(),
                           following=following)


@bp.route("/reports/<int:report_id>")
@login_required
def show(report_id):
    report = reports.get_report(db.session, current_user, report_id)
    staff = reports.is_staff_for(db.session, current_user, report)
    dispatch_form = DispatchForm()
    if staff:
        choices = departments.visible_departments(db.session, current_user)
        dispatch_form.department.choices = [(d.code, d.name) for d in choices]
        if report.category.department:
            dispatch_form.department.data = report.category.department.code
        dispatch_form.deadline_hours.data = report.category.deadline_hours
    return render_template(
        "reports/show.html", report=report, staff=staff, now=now(),
        reviewer=access.holds(current_user, STAFF_ROLES, report.area),
        verify_form=VerifyForm(request_key=uuid.uuid4().hex), reason_form=ReasonForm(),
        note_form=NoteForm(), resolve_form=ResolveForm(), dispatch_form=dispatch_form,
        reporter_name=reporter_name(report) if staff else None,
        reporter_phone=reporter_phone(report) if staff else None,
        action_labels=action_labels(),
        duplicates=linked_reports(report) if staff else [])


def linked_reports(report) -> list:
    from reports.models import Report

    root = report.duplicate_of_id or report.id
    return list(db.session.scalars(
        select(Report).where((Report.duplicate_of_id == root) | (Report.id == root),
                             Report.id != report.id).order_by(Report.id).limit(20)))


@bp.route("/reports/<int:report_id>/media/<int:media_id>")
@login_required
def media(report_id, media_id):
    report = reports.get_report(db.session, current_user, report_id)
    item = next((m for m in report.media if m.id == media_id), None)
    if item is None:
        raise NotFound(f"no media {media_id}")
    thumbnail = request.args.get("size") == "thumbnail"
    return send_file(media_path(item, thumbnail), mimetype=item.content_type, max_age=0)


# What the reviewer reads once a step is taken: what happened, not just "saved".
DONE = {
    "verify": _l("Verified: the reporter is told and receives the points."),
    "reject": _l("Rejected: the reporter is told why."),
    "false": _l("Marked false: the points are taken back and the reporter is told."),
    "dispatch": _l("Dispatched to the department."),
    "start": _l("Marked as being handled."),
    "resolve": _l("Marked resolved: the reporter is told."),
    "close": _l("Closed."),
}


@bp.route("/reports/<int:report_id>/<action>", methods=["POST"])
@login_required
def act(report_id, action):
    steps = {"verify": (VerifyForm, lambda f: reports.verify(
                 db.session, current_user, report_id, f"page:{f.request_key.data}")),
             "reject": (ReasonForm, lambda f: reports.reject(
                 db.session, current_user, report_id, f.reason.data)),
             "false": (ReasonForm, lambda f: reports.mark_false(
                 db.session, current_user, report_id, f.reason.data)),
             "dispatch": (DispatchForm, lambda f: reports.dispatch(
                 db.session, current_user, report_id, f.department.data,
                 f.deadline_hours.data)),
             "start": (NoteForm, lambda f: reports.start(
                 db.session, current_user, report_id, f.note.data)),
             "resolve": (ResolveForm, lambda f: reports.resolve(
                 db.session, current_user, report_id, f.resolution.data)),
             "close": (NoteForm, lambda f: reports.close(
                 db.session, current_user, report_id, f.note.data))}
    if action not in steps:
        abort(404)
    form_class, run = steps[action]
    form = form_class()
    if isinstance(form, DispatchForm):
        form.department.choices = [(d.code, d.name) for d in
                                   departments.visible_departments(db.session, current_user)]
    if not form.validate_on_submit():
        flash(_("Please check the form."), "error")
        return redirect(url_for("pages.reports.show", report_id=report_id))
    run(form)
    commit()
    flash(str(DONE[action]), "success")
    return redirect(url_for("pages.reports.show", report_id=report_id))


@bp.route("/reports/review")
@login_required
def review():
    if not access.holds(current_user, STAFF_ROLES) and not departments.departments_of(
            db.session, current_user.id):
        access.require(current_user, STAFF_ROLES)
    status = request.args.get("status", "submitted")
    wanted = reports.Filter(status=status if status in STATUSES else None,
                            overdue_only=request.args.get("overdue") == "1",
                            area_code=request.args.get("area") or None,
                            after_id=request.args.get("after", type=int),
                            limit=QUEUE_PAGE_SIZE)
    queue = reports.list_reports(db.session, current_user, wanted)
    following = queue[-1].id if len(queue) == QUEUE_PAGE_SIZE else None
    return render_template("reports/review.html", queue=queue, status=status,
                           overdue=wanted.overdue_only, following=following,
                           now=now())


# --- courtyard posters and the resident's page ----------------------------------------------


def courtyard(code: str) -> Area:
    area = db.session.scalar(select(Area).where(Area.code == code, Area.level == "courtyard"))
    if area is None:
        abort(404)
    return area


@bp.route("/courtyards")
@login_required
def courtyards():
    access.require(current_user, STAFF_ROLES)
    grants = access.staff_areas(current_user, STAFF_ROLES)
    rows = db.session.scalars(select(Area).where(Area.level == "courtyard")
                              .order_by(Area.path)).all()
    visible = [a for a in rows if any(g.contains(a) for g in grants)]
    return render_template("reports/courtyards.html", courtyards=visible)


@bp.route("/courtyards/<code>/poster")
@login_required
def poster(code):
    area = courtyard(code)
    access.require(current_user, STAFF_ROLES, area)
    link = url_for("pages.reports.courtyard_report", code=area.code, _external=True)
    return render_template("reports/poster.html", area=area, link=link, qr_png=qr_png(link))


def qr_png(text: str) -> str:
    """The QR as a PNG data URI: it prints sharply at any size and needs no second request."""
    import base64

    import qrcode

    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, box_size=12,
                         border=4)
    code.add_data(text)
    code.make(fit=True)
    out = io.BytesIO()
    code.make_image().save(out)
    return "data:image/png;base64," + base64.b64encode(out.getvalue()).decode("ascii")


@bp.route("/c/<code>", methods=["GET", "POST"])
@limiter.limit(RESIDENT_RATE_LIMIT, methods=["POST"])
def courtyard_report(code):
    """A courtyard poster's page: a signed-in volunteer earns as usual; a resident without an
    account reports with a name and a phone number and earns nothing."""
    area = courtyard(code)
    signed_in = current_user.is_authenticated and access.holds(current_user, ("volunteer",))
    form = ReportForm() if signed_in else ResidentReportForm()
    form.category.choices = category_choices()
    if form.validate_on_submit():
        extra = {"area_code": area.code}
        if not signed_in:
            extra |= {"reporter_name": form.name.data, "reporter_phone": form.phone.data}
        report = save_report(form, current_user if signed_in else None, **extra)
        if report is not None:
            if signed_in:
                flash(_("Thank you! Report #%(id)s was sent.", id=report.id), "success")
                return redirect(url_for("pages.reports.show", report_id=report.id))
            return render_template("reports/thanks.html", area=area, report=report)
    return render_template("reports/new.html", form=form, courtyard=area)


# --- categories and settings ---------------------------------------------------------------


@bp.route("/reports/categories", methods=["GET", "POST"])
@login_required
def manage_categories():
    access.require(current_user, ("admin",))
    form, group_form, share_form = CategoryForm(prefix="c"), GroupForm(prefix="g"), \
        ShareForm(prefix="s")
    form.group.choices = [(g.code, g.name) for g in categories.all_groups(db.session)]
    form.urgency.choices = [(code, str(label)) for code, label in URGENCY_LABELS.items()]
    form.department.choices = [("", "—")] + [
        (d.code, d.name) for d in departments.visible_departments(db.session, current_user)]
    share_form.programme.choices = [
        (p.code, p.name) for p in programmes.visible_programmes(db.session, current_user)]
    if request.method == "POST" and save_settings(form, group_form, share_form):
        return redirect(url_for("pages.reports.manage_categories"))
    edit = request.args.get("edit")
    if edit and request.method == "GET":
        fill_category_form(form, categories.get_category(db.session, edit, active_only=False))
    rows = db.session.scalars(select(Category).order_by(Category.group_id, Category.position,
                                                        Category.id)).all()
    return render_template("reports/categories.html", form=form, group_form=group_form,
                           share_form=share_form, rows=rows)


def fill_category_form(form, category) -> None:
    form.group.data, form.code.data, form.name.data = (category.group.code, category.code,
                                                       category.name)
    form.points.data, form.urgency.data = category.points, category.urgency
    form.deadline_hours.data, form.legal_basis.data = (category.deadline_hours,
                                                       category.legal_basis)
    form.department.data = category.department.code if category.department else ""
    form.active.data = category.active


def save_settings(form, group_form, share_form) -> bool:
    which = request.form.get("which")
    if which == "group" and group_form.validate_on_submit():
        categories.save_group(db.session, current_user, group_form.code.data,
                              group_form.name.data)
    elif which == "category" and form.validate_on_submit():
        department = (departments.get_department(db.session, form.department.data)
                      if form.department.data else None)
        spec = categories.CategorySpec(
            code=form.code.data, name=form.name.data, points=form.points.data or 0,
            urgency=form.urgency.data, deadline_hours=form.deadline_hours.data,
            department_id=department.id if department else None,
            legal_basis=form.legal_basis.data or None, active=form.active.data)
        categories.save_category(db.session, current_user, form.group.data, spec)
    elif which == "share" and share_form.validate_on_submit():
        programme = programmes.get_programme(db.session, share_form.programme.data)
        reports.set_duplicate_share(db.session, current_user, programme,
                                    share_form.duplicate_share_percent.data or 0)
    else:
        flash(_("Please check the form."), "error")
        return False
    commit()
    flash(_("Saved."), "success")
    return True


# --- assessment ----------------------------------------------------------------------------


def chosen_month() -> date:
    text = request.args.get("month", "")
    try:
        chosen = datetime.strptime(text, "%Y-%m")
    except ValueError:
        today = now().astimezone(CHINA)
        return date(today.year, today.month, 1)
    return date(chosen.year, chosen.month, 1)


@bp.route("/reports/assessment")
@login_required
def assessment_page():
    month = chosen_month()
    result = assessment.monthly_report(db.session, current_user, request.args.get("area"),
                                       month)
    return render_template("reports/assessment.html", result=result, month=month,
                           daily_svg=bar_svg([(d.day, n) for d, n in result.daily],
                                             _("Reports per day")),
                           group_svg=bar_svg(result.by_group, _("Reports per group")))


def bar_svg(pairs: list, title: str = "", height: int = 220) -> str:
    """A bar chart drawn on the server: it needs no script and prints as it shows. At most
    about ten labels, so a month's days stay readable on a phone."""
    if not pairs:
        return ""
    top = max(count for _label, count in pairs) or 1
    width = max(24, 640 // len(pairs))
    every = max(1, math.ceil(len(pairs) / 10))
    bars = []
    for index, (label, count) in enumerate(pairs):
        bar = int((height - 50) * count / top)
        x = index * width
        label = escape(str(label))
        shown = (f'<text x="{x + width / 2}" y="{height - 8}" font-size="18" '
                 f'text-anchor="middle">{label}</text>') if index % every == 0 else ""
        value = (f'<text x="{x + width / 2}" y="{height - 28 - bar}" font-size="16" '
                 f'text-anchor="middle">{count}</text>') if count and len(pairs) <= 12 else ""
        bars.append(f'<g><title>{label}: {count}</title>'
                    f'<rect x="{x + 2}" y="{height - 26 - bar}" width="{width - 4}" '
                    f'height="{bar}" fill="#c8961e"/>{shown}{value}</g>')
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width * len(pairs)} '
            f'{height}" role="img" aria-label="{escape(title)}" class="chart">'
            f'{"".join(bars)}</svg>')


@bp.route("/reports/assessment.csv")
@login_required
def assessment_csv():
    month = chosen_month()
    result = assessment.monthly_report(db.session, current_user, request.args.get("area"),
                                       month)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([_("Department"), _("Urgency"), _("Dispatched"), _("Resolved"),
                     _("On time"), _("Closed"), _("On-time rate"), _("Closure rate"),
                     _("Average handling days")])
    for row in result.departments:
        writer.writerow(safe_row([row.department, str(URGENCY_LABELS[row.urgency]), row.dispatched,
                         row.resolved, row.on_time, row.closed, rate(row.on_time_rate),
                         rate(row.closure_rate), days(row.average_handling_days)]))
    writer.writerow([])
    writer.writerow([_("Category"), _("Area"), _("Reports")])
    writer.writerows(safe_row(row) for row in result.hotspots)
    name = f"reports-{result.area.code}-{month:%Y-%m}.csv"
    # A byte-order mark, so Excel opens the Chinese text as UTF-8.
    return Response("\ufeff" + out.getvalue(), mimetype="text/csv",
                    headers={"Content-Disposition": f"attachment; filename={name}"})


def rate(value: float | None) -> str:
    return "" if value is None else f"{value * 100:.1f}%"


def days(value: float | None) -> str:
    return "" if value is None else f"{value:.2f}"


@bp.app_template_filter("rate")
def rate_filter(value):
    return rate(value) or "—"


@bp.app_template_filter("days")
def days_filter(value):
    return days(value) or "—"
