"""Payout runs for administrators (/admin/payout-runs), what a volunteer is owed and was paid
with their payment details (/wallet/payouts), and a merchant's own payment details. Thin:
the work is ``payouts.runs`` and ``payouts.details``."""

from __future__ import annotations

import io

from flask import (
    Blueprint,
    abort,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import SelectField, SelectMultipleField, StringField
from wtforms.validators import DataRequired, Length, Optional

from payouts import details, files, runs
from payouts.models import CHANNELS, ITEM_KINDS
from volunteers import access, programmes
from volunteers.errors import DomainError

from ..extensions import db
from ..transactions import commit
from .forms import EmptyForm

bp = Blueprint("payouts", __name__)

KIND_NAMES = {"cash_out": _l("Cash-out"), "bonus": _l("Year-end bonus"),
              "settlement": _l("Merchant settlement")}
CHANNEL_NAMES = {"alipay": _l("Alipay"), "wechat": _l("WeChat Pay"), "bank": _l("Bank card")}
ITEM_STATUS_NAMES = {"owed": _l("owed"), "in_run": _l("in a payout run"), "paid": _l("paid")}
RUN_STATUS_NAMES = {"prepared": _l("awaiting approval"), "approved": _l("approved"),
                    "closed": _l("closed")}
LINE_STATUS_NAMES = {"pending": _l("pending"), "paid": _l("paid"), "failed": _l("failed")}
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class PrepareForm(FlaskForm):
    programme = SelectField(_l("Programme"), validators=[DataRequired()])
    kinds = SelectMultipleField(_l("What to pay"), default=list(ITEM_KINDS))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.kinds.choices = [(kind, str(KIND_NAMES[kind])) for kind in ITEM_KINDS]


class ResultsForm(FlaskForm):
    file = FileField(_l("The channel's result file (CSV or Excel)"),
                     validators=[FileRequired()])


class DetailsForm(FlaskForm):
    channel = SelectField(_l("Paid by"))
    account_name = StringField(_l("Account holder's name"),
                               validators=[DataRequired(), Length(max=60)])
    account = StringField(_l("Account (Alipay phone or e-mail, WeChat openid, bank card)"),
                          validators=[DataRequired(), Length(max=64)])
    bank_name = StringField(_l("Bank (for a bank card)"), validators=[Optional(),
                                                                       Length(max=60)])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.channel.choices = [(c, str(CHANNEL_NAMES[c])) for c in CHANNELS]


def _names() -> dict:
    return {"kinds": KIND_NAMES, "channels": CHANNEL_NAMES, "items": ITEM_STATUS_NAMES,
            "runs": RUN_STATUS_NAMES, "lines": LINE_STATUS_NAMES}


def _refused(error: DomainError) -> None:
    db.session.rollback()
    flash(error.message, "error")


# --- administrators -------------------------------------------------------------------------


@bp.route("/admin/payout-runs", methods=["GET", "POST"])
@login_required
def index():
    access.require(current_user, ("admin",))
    visible = programmes.visible_programmes(db.session, current_user)
    form = PrepareForm()
    form.programme.choices = [(p.code, p.name) for p in visible]
    if form.validate_on_submit():
        try:
            prepared = runs.prepare(db.session, current_user, form.programme.data,
                                    kinds=form.kinds.data or None)
            run_id, waiting = prepared.run.id, len(prepared.waiting)
            commit()
        except DomainError as error:
            _refused(error)
        else:
            flash(_("Payout run %(id)s prepared; a second administrator approves it. "
                    "%(waiting)s lines wait for payment details.", id=run_id, waiting=waiting),
                  "success")
            return redirect(url_for("pages.payouts.show", run_id=run_id))
    return render_template("payouts/index.html", form=form, names=_names(),
                           runs=runs.list_runs(db.session, current_user))


@bp.route("/admin/payout-runs/<int:run_id>")
@login_required
def show(run_id):
    run = runs.get_run(db.session, current_user, run_id)
    return render_template("payouts/run.html", run=run,
                           document=runs.run_document(db.session, run), names=_names(),
                           form=EmptyForm(), results_form=ResultsForm(), channels=CHANNELS)


@bp.route("/admin/payout-runs/<int:run_id>/approve", methods=["POST"])
@login_required
def approve(run_id):
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        runs.approve(db.session, current_user, run_id)
        commit()
    except DomainError as error:
        _refused(error)
    else:
        flash(_("Payout run %(id)s approved.", id=run_id), "success")
    return redirect(url_for("pages.payouts.show", run_id=run_id))


@bp.route("/admin/payout-runs/<int:run_id>/export")
@login_required
def export(run_id):
    channel = request.args.get("channel", "")
    fmt = request.args.get("format", "csv")
    if channel not in CHANNELS or fmt not in files.FORMATS:
        abort(404)
    try:
        data, name = runs.export_file(db.session, current_user, run_id, channel, fmt)
    except DomainError as error:
        _refused(error)
        return redirect(url_for("pages.payouts.show", run_id=run_id))
    return send_file(io.BytesIO(data), mimetype="text/csv" if fmt == "csv" else XLSX,
                     as_attachment=True, download_name=name)


@bp.route("/admin/payout-runs/<int:run_id>/results", methods=["POST"])
@login_required
def results(run_id):
    form = ResultsForm()
    if not form.validate_on_submit():
        flash(_("Choose the channel's result file."), "error")
        return redirect(url_for("pages.payouts.show", run_id=run_id))
    upload = form.file.data
    try:
        run = runs.import_results(db.session, current_user, run_id,
                                  upload.read(files.MAX_RESULT_BYTES + 1),
                                  upload.filename or "results.csv")
        status = run.status
        commit()
    except DomainError as error:
        _refused(error)
    else:
        flash(_("Results taken: the run is %(status)s.", status=RUN_STATUS_NAMES[status]),
              "success")
    return redirect(url_for("pages.payouts.show", run_id=run_id))


# --- payees ---------------------------------------------------------------------------------


@bp.route("/wallet/payouts", methods=["GET", "POST"])
@login_required
def mine():
    """My cash-outs and year-end bonuses, their state, and where I am paid."""
    form = DetailsForm()
    if form.validate_on_submit():
        access.require(current_user, ("volunteer",))
        try:
            details.set_own(db.session, current_user, channel=form.channel.data,
                            account_name=form.account_name.data, account=form.account.data,
                            bank_name=form.bank_name.data or None)
            commit()
        except DomainError as error:
            _refused(error)
        else:
            flash(_("Payment details saved."), "success")
        return redirect(url_for("pages.payouts.mine"))
    document = runs.my_payouts_document(db.session, current_user)
    db.session.rollback()  # the items it gathered are made again when a run is prepared
    return render_template("payouts/mine.html", document=document, form=form, names=_names())


@bp.route("/merchants/<int:merchant_id>/payment-details", methods=["POST"])
@login_required
def merchant_details(merchant_id):
    form = DetailsForm()
    if form.validate_on_submit():
        try:
            details.set_merchants(db.session, current_user, merchant_id,
                                  channel=form.channel.data, account_name=form.account_name.data,
                                  account=form.account.data,
                                  bank_name=form.bank_name.data or None)
            commit()
        except DomainError as error:
            _refused(error)
        else:
            flash(_("Payment details saved."), "success")
    else:
        flash(_("Please check the payment details."), "error")
    return redirect(url_for("pages.merchants.merchant_home", merchant=merchant_id))
