"""/merchant/account: a merchant's own month-by-month takings, its settlements and their
state, the statement to download, and (for its owner) the till staff."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import DataRequired, Length

from merchants import offers, staff
from volunteers import access
from volunteers.errors import DomainError, Forbidden

from ..extensions import db
from ..transactions import commit
from .forms import EmptyForm
from .organisation import refused

bp = Blueprint("merchant_team", __name__)


class TillStaffForm(FlaskForm):
    username = StringField(_l("User name or phone"), validators=[DataRequired(),
                                                                 Length(max=64)])


def _merchant():
    merchant_id = request.args.get("merchant", type=int)
    if merchant_id is None:
        mine = offers.merchants_of(db.session, current_user)
        if not mine:
            raise Forbidden("you work at no merchant's till")
        return mine[0]
    merchant = offers.get_merchant(db.session, merchant_id)
    offers.require_staff_or_admin(db.session, current_user, merchant)
    return merchant


@bp.route("/merchant/account")
@login_required
def account():
    merchant = _merchant()
    months = staff.accepted_by_month(db.session, current_user, merchant.id)
    may_manage = (access.holds(current_user, ("admin",), merchant.area)
                  or staff.is_owner(db.session, current_user, merchant.id))
    return render_template(
        "merchants/account.html", merchant=merchant, months=list(reversed(months.rows)),
        settlements=staff.merchant_settlements(db.session, current_user, merchant.id),
        team=staff.team(db.session, current_user, merchant.id), may_manage=may_manage,
        staff_form=TillStaffForm(), remove_form=EmptyForm())


@bp.route("/merchant/account/staff", methods=["POST"])
@login_required
def change_staff():
    merchant = _merchant()
    remove = request.form.get("remove", type=int)
    form = EmptyForm() if remove else TillStaffForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        if remove:
            staff.remove_till_staff(db.session, current_user, merchant.id, remove)
        else:
            staff.add_till_staff(db.session, current_user, merchant.id, form.username.data)
        commit()
    except DomainError as error:
        refused(error)
    else:
        flash(_("Till staff saved."), "success")
    return redirect(url_for("pages.merchant_team.account", merchant=merchant.id))
