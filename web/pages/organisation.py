"""The pages that run a city's programme without a programmer, under /admin/: the audit log,
areas, departments, people's roles and accounts, imports. Each calls the same services as the
API and the CLI."""

from __future__ import annotations

import json
import secrets
import time
from pathlib import Path

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from imports import files as import_files
from imports import importer
from ledger import clock
from reports import categories as report_categories
from reports import departments
from volunteers import access, accounts, areas, audit, roles, users
from volunteers.errors import DomainError, Invalid, NotFound
from volunteers.models import AREA_LEVELS, ROLES

from ..auth import begin_session
from ..errors import PAGE_MESSAGES
from ..extensions import db, limiter
from ..messages import message_for
from ..navigation import ROLE_NAMES
from ..transactions import commit
from .forms import EmptyForm
from .organisation_forms import (
    ActivationCodesForm,
    AreaEditForm,
    AreaForm,
    DepartmentForm,
    GrantForm,
    ImportForm,
    PasswordChangeForm,
    ResetForm,
    StaffForm,
)
from .volunteers import login_limit

bp = Blueprint("organisation", __name__)

AUDIT_PAGE_SIZE = 50
LEVEL_LABELS = {"district": _l("district"), "street": _l("street"),
                "community": _l("community"), "grid": _l("grid"),
                "courtyard": _l("courtyard")}
KIND_LABELS = {
    "category.create": _l("Report category created"),
    "category.update": _l("Report category changed"),
    "settlement_rate.set": _l("Settlement rate set"),
    "ranking_config.update": _l("Ranking rules changed"),
    "earning_rule.update": _l("Earning rule changed"),
    "offer.create": _l("Offer published"),
    "offer.update": _l("Offer changed"),
    "offer.withdraw": _l("Offer withdrawn"),
    "programme.create": _l("Programme created"),
    "programme_settings.update": _l("Programme settings changed"),
    "department.create": _l("Department created"),
    "department.update": _l("Department changed"),
    "department.staff_add": _l("Department staff added"),
    "department.staff_remove": _l("Department staff removed"),
    "area.create": _l("Area created"),
    "area.update": _l("Area changed"),
    "area.move": _l("Area moved"),
    "area.close": _l("Area closed"),
    "role.grant": _l("Role granted"),
    "role.revoke": _l("Role revoked"),
    "user.suspend": _l("User suspended"),
    "user.reactivate": _l("User reactivated"),
    "user.reset_code": _l("Reset code issued"),
    "user.password": _l("Password changed"),
    "import.apply": _l("Import applied"),
}


def audit_filter_from_query(limit: int = AUDIT_PAGE_SIZE) -> audit.AuditFilter:
    args = request.args
    since_text = (args.get("since") or "").strip()[:32]
    try:
        since = audit.parse_since(since_text)
    except Invalid:
        since = None
    return audit.AuditFilter(
        area=(args.get("area") or "").strip()[:64] or None,
        kind=(args.get("kind") or "").strip()[:64] or None,
        actor=(args.get("actor") or "").strip()[:64] or None,
        since=since, before_id=args.get("before", type=int), limit=limit)


@bp.route("/admin/audit")
@login_required
def audit_log():
    access.require(current_user, ("admin",))
    wanted = audit_filter_from_query()
    items = audit.events(db.session, current_user, wanted)
    next_before = items[-1].id if len(items) == wanted.limit else None
    scopes = [grant.area for grant in current_user.grants if grant.role == "admin"]
    return render_template(
        "admin/audit.html", items=items, next_before=next_before, kinds=KIND_LABELS,
        areas=scopes, wanted=wanted, query={k: v for k, v in request.args.items()
                                            if k != "before"})


@bp.route("/admin/audit.csv")
@login_required
def audit_csv():
    access.require(current_user, ("admin",))
    body = audit.export_csv(db.session, current_user, audit_filter_from_query())
    stamp = clock.now().astimezone(clock.CHINA).strftime("%Y%m%d-%H%M")
    return Response(body.encode("utf-8"), mimetype="text/csv",
                    headers={"Content-Disposition": f"attachment; filename=audit-{stamp}.csv"})


# --- Areas ---------------------------------------------------------------------------------

def refused(error: DomainError) -> None:
    """A refusal read on the page: the code's sentence, and the fields at fault."""
    db.session.rollback()
    message = message_for(error)
    fields = getattr(error, "errors", None) or {}
    detail = "; ".join(f"{name}: {', '.join(map(str, problems))}"
                       for name, problems in fields.items())
    flash(f"{message} {detail}".strip(), "error")


def _area_choices(include_closed: bool = False) -> list[tuple[str, str]]:
    return [(a.code, f"{a.name} ({a.code})")
            for a in areas.administered(db.session, current_user, include_closed)]


@bp.route("/admin/areas", methods=["GET", "POST"])
@login_required
def area_list():
    access.require(current_user, ("admin",))
    form = AreaForm()
    form.parent.choices = _area_choices()
    form.level.choices = [(level, LEVEL_LABELS[level]) for level in AREA_LEVELS[1:]]
    if form.validate_on_submit():
        try:
            area = areas.add_area(db.session, current_user, form.code.data, form.name.data,
                                  form.level.data, form.parent.data)
            commit()
        except DomainError as error:
            refused(error)
        else:
            flash(_("Area %(name)s created.", name=area.name), "success")
            return redirect(url_for("pages.organisation.area_list"))
    tree = areas.administered(db.session, current_user)
    return render_template("admin/areas.html", form=form, tree=tree, levels=LEVEL_LABELS)


@bp.route("/admin/areas/<code>", methods=["GET", "POST"])
@login_required
def area_edit(code):
    area = areas.get_area(db.session, code)
    access.require(current_user, ("admin",), area)
    form = AreaEditForm(obj=None if request.method == "POST" else area)
    form.parent.choices = [("", "—")] + [c for c in _area_choices() if c[0] != code]
    if request.method == "GET":
        form.parent.data = area.parent.code if area.parent else ""
        form.centre.data = (f"{area.centre_lat},{area.centre_lng}"
                            if area.centre_lat is not None else "")
        form.boundary.data = json.dumps(area.boundary, ensure_ascii=False) if area.boundary \
            else ""
    if form.validate_on_submit():
        try:
            changes = {"name": form.name.data}
            if form.parent.data:
                changes["parent"] = form.parent.data
            changes["centre"] = (tuple(float(v) for v in form.centre.data.split(","))
                                 if form.centre.data else None)
            changes["boundary"] = _boundary(form.boundary.data)
            areas.update_area(db.session, current_user, code, changes)
            commit()
        except DomainError as error:
            refused(error)
        else:
            flash(_("Area saved."), "success")
            return redirect(url_for("pages.organisation.area_edit", code=code))
    return render_template("admin/area.html", area=area, form=form, close_form=EmptyForm())


def _boundary(text: str | None):
    if not text or not text.strip():
        return None
    try:
        return json.loads(text)
    except ValueError as error:
        raise Invalid("not JSON", errors={"boundary": ["a GeoJSON Polygon"]}) from error


@bp.route("/admin/areas/<code>/close", methods=["POST"])
@login_required
def area_close(code):
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        areas.close_area(db.session, current_user, code)
        commit()
    except DomainError as error:
        refused(error)
    else:
        flash(_("Area closed. Its history stays."), "success")
    return redirect(url_for("pages.organisation.area_edit", code=code))


# --- Departments ---------------------------------------------------------------------------

@bp.route("/admin/departments", methods=["GET", "POST"])
@login_required
def department_list():
    access.require(current_user, ("admin",))
    form = DepartmentForm()
    form.area.choices = _area_choices()
    form.categories.choices = [(c.code, c.name) for c in
                               report_categories.active_categories(db.session)]
    form.serves.choices = form.area.choices
    if form.validate_on_submit():
        try:
            departments.create_with(db.session, current_user, form.code.data, form.name.data,
                                    form.area.data, form.categories.data or None,
                                    served=[code for code in form.serves.data or ()
                                            if code != form.area.data])
            commit()
        except DomainError as error:
            refused(error)
        else:
            flash(_("Department created."), "success")
            return redirect(url_for("pages.organisation.department_list"))
    found = departments.administered_departments(db.session, current_user)
    handled = {d.id: departments.handled_categories(db.session, d) for d in found}
    served = {d.id: departments.served_areas(db.session, d) for d in found}
    return render_template("admin/departments.html", form=form, departments=found,
                           handled=handled, served=served, staff_form=StaffForm(),
                           remove_form=EmptyForm())


@bp.route("/admin/departments/<code>/staff", methods=["POST"])
@login_required
def department_staff(code):
    department = departments.get_department(db.session, code)
    remove = request.form.get("remove", type=int)
    form = EmptyForm() if remove else StaffForm()
    if not form.validate_on_submit():
        flash(_("Please check the form."), "error")
        return redirect(url_for("pages.organisation.department_list"))
    try:
        if remove:
            departments.remove_member(db.session, current_user, department,
                                      users.get_user(db.session, remove))
        else:
            person = users.find_for_login(db.session, form.username.data)
            if person is None:
                raise NotFound("no such user")
            departments.add_member(db.session, current_user, department, person)
        commit()
    except DomainError as error:
        refused(error)
    else:
        flash(_("Staff saved."), "success")
    return redirect(url_for("pages.organisation.department_list"))


# --- People --------------------------------------------------------------------------------

PEOPLE_PAGE_SIZE = 50


@bp.route("/admin/people")
@login_required
def people():
    access.require(current_user, ("admin",))
    query = (request.args.get("q") or "").strip()[:64]
    found = users.search(db.session, current_user, query, PEOPLE_PAGE_SIZE)
    return render_template("admin/people.html", people=found, query=query,
                           pending=roles.pending_requests(db.session, current_user),
                           decision_form=EmptyForm())


def grant_form() -> GrantForm:
    form = GrantForm()
    form.area.choices = _area_choices()
    form.role.choices = [(role, ROLE_NAMES[role]) for role in ROLES]
    return form


@bp.route("/admin/people/<int:user_id>", methods=["GET", "POST"])
@login_required
def person(user_id):
    person = users.get_user(db.session, user_id)
    access.require(current_user, ("admin",), person.area)
    form = grant_form()
    if form.validate_on_submit():
        try:
            result = roles.grant(db.session, current_user, user_id, form.role.data,
                                 form.area.data)
            commit()
        except DomainError as error:
            refused(error)
        else:
            if getattr(result, "status", None) == "awaiting_approval":
                flash(_("The administrator role waits for a second administrator's approval."),
                      "info")
            else:
                flash(_("Role granted."), "success")
            return redirect(url_for("pages.organisation.person", user_id=user_id))
    return render_template("admin/person.html", person=person, form=form,
                           action_form=EmptyForm(), issued=None)


@bp.route("/admin/people/<int:user_id>/<any(suspend, reactivate, reset_code, revoke):action>",
          methods=["POST"])
@login_required
def person_action(user_id, action):
    form = EmptyForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        if action == "suspend":
            accounts.suspend(db.session, current_user, user_id)
            flash(_("User suspended: they cannot sign in; their points stay."), "success")
        elif action == "reactivate":
            accounts.reactivate(db.session, current_user, user_id)
            flash(_("User reactivated."), "success")
        elif action == "revoke":
            roles.revoke(db.session, current_user, user_id,
                         (request.form.get("role") or "")[:16],
                         (request.form.get("area") or "")[:64])
            flash(_("Role revoked."), "success")
        else:
            person = users.get_user(db.session, user_id)
            code, expires_at = accounts.issue_code(db.session, current_user, person, "reset")
            commit()
            return render_template("admin/person.html", person=person, form=grant_form(),
                                   action_form=EmptyForm(),
                                   issued={"code": code, "expires_at": expires_at})
        commit()
    except DomainError as error:
        refused(error)
    return redirect(url_for("pages.organisation.person", user_id=user_id))


@bp.route("/admin/role-requests/<int:request_id>/<any(approve, reject):decision>",
          methods=["POST"])
@login_required
def role_decision(request_id, decision):
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        roles.decide(db.session, current_user, request_id, decision == "approve")
        commit()
    except DomainError as error:
        refused(error)
    else:
        flash(_("Role granted.") if decision == "approve" else _("Request rejected."),
              "success")
    return redirect(url_for("pages.organisation.people"))


# --- One's own account ---------------------------------------------------------------------

@bp.route("/me/password", methods=["GET", "POST"])
@limiter.limit(login_limit, methods=["POST"])
@login_required
def password():
    form = PasswordChangeForm()
    if form.validate_on_submit():
        try:
            accounts.change_password(db.session, current_user, form.current_password.data,
                                     form.new_password.data)
            commit()
        except DomainError as error:
            refused(error)
        else:
            # This browser stays signed in; every other session ends.
            begin_session(current_user._get_current_object())
            flash(_("Your password is changed."), "success")
            return redirect(url_for("pages.volunteers.index"))
    return render_template("account_password.html", form=form)


@bp.route("/reset", methods=["GET", "POST"])
@limiter.limit(login_limit, methods=["POST"])
def reset():
    """Sets a password with a one-time code: an administrator's reset code, or the activation
    code an imported person was handed."""
    form = ResetForm()
    if request.method == "GET" and request.args.get("username"):
        form.username.data = request.args["username"][:64]
    if form.validate_on_submit():
        try:
            accounts.reset_with_code(db.session, form.username.data, form.code.data,
                                     form.new_password.data)
            commit()
        except DomainError as error:
            refused(error)
        else:
            flash(_("Your password is set. Please sign in."), "success")
            return redirect(url_for("pages.volunteers.login"))
    return render_template("account_reset.html", form=form)


# --- Imports -------------------------------------------------------------------------------

PREVIEW_ROWS_SHOWN = 500
PENDING_IMPORT_SECONDS = 3600
IMPORT_KIND_LABELS = {"volunteers": _l("Volunteers"), "merchants": _l("Merchants"),
                      "areas": _l("Areas"), "courtyards": _l("Courtyards")}


def _pending_dir() -> Path:
    directory = Path(current_app.instance_path) / "pending-imports"
    directory.mkdir(parents=True, exist_ok=True)
    return directory


def _keep_upload(kind: str, filename: str, data: bytes) -> str:
    """Keeps a previewed file until the administrator confirms it (an hour at most)."""
    directory = _pending_dir()
    for old in directory.glob("*.json"):
        if time.time() - old.stat().st_mtime > PENDING_IMPORT_SECONDS:
            old.unlink(missing_ok=True)
            old.with_suffix(".bin").unlink(missing_ok=True)
    token = secrets.token_urlsafe(16)
    (directory / f"{token}.bin").write_bytes(data)
    (directory / f"{token}.json").write_text(json.dumps(
        {"kind": kind, "filename": filename, "user_id": current_user.id}), encoding="utf-8")
    return token


def _take_upload(token: str):
    if not token or not token.replace("-", "").replace("_", "").isalnum() or len(token) > 40:
        return None
    meta_path = _pending_dir() / f"{token}.json"
    if not meta_path.exists():
        return None
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    if meta["user_id"] != current_user.id:
        return None
    data = meta_path.with_suffix(".bin").read_bytes()
    return meta, data, meta_path


@bp.route("/admin/imports", methods=["GET", "POST"])
@login_required
def imports():
    access.require(current_user, ("admin",))
    report, token = None, None
    form = ImportForm()
    form.kind.choices = list(IMPORT_KIND_LABELS.items())
    codes_form = ActivationCodesForm()
    codes_form.area.choices = _area_choices()
    if form.validate_on_submit():
        upload = form.file.data
        data = upload.read(import_files.MAX_FILE_BYTES + 1)
        try:
            report = importer.run(db.session, current_user, form.kind.data, data,
                                  upload.filename or "", dry_run=True)
        except DomainError as error:
            refused(error)
        else:
            db.session.rollback()
            if not report.counts["refused"]:
                token = _keep_upload(form.kind.data, upload.filename or "", data)
    elif request.method == "POST":
        flash(_("Please choose what to import and a CSV or XLSX file."), "error")
    rows = None
    if report is not None:
        rows = sorted(report.rows, key=lambda r: (r.action != "refused", r.line))
        rows = rows[:PREVIEW_ROWS_SHOWN]
    return render_template("admin/imports.html", form=form, report=report, rows=rows,
                           token=token, kinds=IMPORT_KIND_LABELS, apply_form=EmptyForm(),
                           codes_form=codes_form)


@bp.route("/admin/imports/apply", methods=["POST"])
@login_required
def apply_import():
    access.require(current_user, ("admin",))
    if not EmptyForm().validate_on_submit():
        abort(400)
    pending = _take_upload((request.form.get("token") or "")[:40])
    if pending is None:
        flash(_("That preview has expired: please upload the file again."), "error")
        return redirect(url_for("pages.organisation.imports"))
    meta, data, meta_path = pending
    try:
        report = importer.run(db.session, current_user, meta["kind"], data, meta["filename"],
                              dry_run=False)
        if not report.applied:
            db.session.rollback()
            flash(PAGE_MESSAGES["import_refused"], "error")
            return redirect(url_for("pages.organisation.imports"))
        commit()
    except DomainError as error:
        refused(error)
        return redirect(url_for("pages.organisation.imports"))
    meta_path.unlink(missing_ok=True)
    meta_path.with_suffix(".bin").unlink(missing_ok=True)
    counts = report.counts
    flash(_("Imported: %(created)s created, %(updated)s updated, %(unchanged)s unchanged.",
            **{k: counts[k] for k in ("created", "updated", "unchanged")}), "success")
    return redirect(url_for("pages.organisation.imports"))


@bp.route("/admin/imports/templates/<kind>.<any(csv, xlsx):fmt>")
@login_required
def import_template(kind, fmt):
    access.require(current_user, ("admin",))
    if kind not in importer.KINDS:
        abort(404)
    header, example = importer.template(kind)
    body = (import_files.write_csv(header, example) if fmt == "csv"
            else import_files.write_xlsx(header, example))
    mimetype = ("text/csv" if fmt == "csv" else
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    return Response(body, mimetype=mimetype, headers={
        "Content-Disposition": f"attachment; filename={kind}-template.{fmt}"})


@bp.route("/admin/imports/activation-codes", methods=["POST"])
@login_required
def activation_codes():
    access.require(current_user, ("admin",))
    form = ActivationCodesForm()
    form.area.choices = _area_choices()
    if not form.validate_on_submit():
        flash(_("Please choose an area."), "error")
        return redirect(url_for("pages.organisation.imports"))
    issued = accounts.issue_activation_codes(db.session, current_user, form.area.data)
    commit()
    return Response(import_files.activation_csv(issued), mimetype="text/csv", headers={
        "Content-Disposition": f"attachment; filename=activation-{form.area.data}.csv"})
