"""The pages that run a city's programme without a programmer, under /admin/: the audit log,
areas, departments, people's roles and accounts, imports. Each calls the same services as the
API and the CLI."""

from __future__ import annotations

from datetime import datetime

from flask import Blueprint, Response, render_template, request
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from volunteers import access, audit
from volunteers.errors import Invalid

from ..extensions import db

bp = Blueprint("organisation", __name__)

AUDIT_PAGE_SIZE = 50
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
    stamp = datetime.now().strftime("%Y%m%d-%H%M")
    return Response(body.encode("utf-8"), mimetype="text/csv",
                    headers={"Content-Disposition": f"attachment; filename=audit-{stamp}.csv"})
