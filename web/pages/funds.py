"""A programme's fund sources for administrators: balance, money in and out by month and what
each paid for, and a form to add one (/admin/fund-sources/<code>)."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import DateField, IntegerField, SelectMultipleField, StringField
from wtforms.validators import DataRequired, Length, NumberRange, Optional, Regexp

from volunteers import fund_sources
from volunteers.errors import DomainError
from volunteers.programmes import get_programme

from ..extensions import db
from ..transactions import commit

bp = Blueprint("funds", __name__)

PURPOSE_NAMES = {"cash_out": _l("Cash-out"), "settlement": _l("Merchant settlement"),
                 "ranking_bonus": _l("Year-end bonus")}


class SourceForm(FlaskForm):
    code = StringField(_l("Code"), validators=[
        DataRequired(), Regexp(r"^[a-z0-9][a-z0-9_-]{0,39}$",
                               message=_l("lowercase letters, digits, - and _"))])
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=120)])
    sponsor = StringField(_l("Sponsor"), validators=[DataRequired(), Length(max=120)])
    earmarks = SelectMultipleField(_l("Only for (leave empty: anything)"))
    ends_on = DateField(_l("Last day"), validators=[Optional()])
    priority = IntegerField(_l("Order (lower is drawn on first)"),
                            validators=[Optional(), NumberRange(min=0, max=1000)])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.earmarks.choices = [(key, str(name)) for key, name in PURPOSE_NAMES.items()]


@bp.route("/admin/fund-sources/<code>", methods=["GET", "POST"])
@login_required
def index(code):
    programme = get_programme(db.session, code)
    views = fund_sources.overview(db.session, current_user, code)  # admins of the area
    form = SourceForm()
    if form.validate_on_submit():
        try:
            fund_sources.create_source(
                db.session, current_user, code, code=form.code.data, name=form.name.data,
                sponsor=form.sponsor.data,
                earmarks={"kinds": form.earmarks.data} if form.earmarks.data else None,
                ends_on=form.ends_on.data, priority=form.priority.data)
            commit()
        except DomainError as error:
            db.session.rollback()
            flash(error.message, "error")
        else:
            flash(_("Fund source added."), "success")
        return redirect(url_for("pages.funds.index", code=code))
    months = fund_sources.monthly(db.session, [view.account for view in views])
    return render_template("funds/index.html", programme=programme, views=views, months=months,
                           form=form, purposes=PURPOSE_NAMES)
