"""Pages of the merchant alliance: offers and vouchers for volunteers, the till and the
statement for merchant staff, merchants and settlements for administrators."""

from __future__ import annotations

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from marshmallow import ValidationError
from wtforms import (
    BooleanField,
    DateTimeLocalField,
    IntegerField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, Regexp

import ledger
from ledger.clock import CHINA
from merchants import offers as offer_service
from merchants import settlement, statements, tokens
from merchants import vouchers as voucher_service
from merchants.models import OFFER_KINDS, Merchant
from volunteers import access
from volunteers.errors import Conflict, DomainError, Forbidden, Invalid

from ..api.vouchers import redeem_scan, scan_limit, scanner_identity, voucher_key
from ..errors import ApiError
from ..extensions import db, limiter
from ..messages import message_for
from ..transactions import commit
from .forms import EmptyForm, OnceForm

bp = Blueprint("merchants", __name__)

OFFER_KIND_NAMES = {
    "discount": _l("Discount"),
    "goods": _l("Goods"),
    "service": _l("Service"),
    "transport": _l("Public transport"),
    "green_channel": _l("Government green channel"),
}
OFFER_STATUS_NAMES = {
    "open": _l("Open"),
    "upcoming": _l("Not yet open"),
    "sold_out": _l("Sold out"),
    "ended": _l("Ended"),
    "withdrawn": _l("Withdrawn from sale"),
}
VOUCHER_STATUS_NAMES = {
    "issued": _l("Valid"),
    "redeemed": _l("Redeemed"),
    "cancelled": _l("Cancelled"),
    "expired": _l("Expired"),
}
# What the till says, in the person's language, for each way a scan is refused.
TILL_MESSAGES = {
    "voucher_already_redeemed": _l("Already redeemed: this voucher was used before."),
    "voucher_expired": _l("Expired: this voucher is past its validity."),
    "voucher_wrong_merchant": _l("Wrong shop: this voucher belongs to another merchant."),
    "voucher_invalid": _l("Not valid: this is not a voucher of ours, or it was cancelled."),
    "validation_error": _l("Please scan a QR code or type the 8-character code."),
    "forbidden": _l("Only merchant staff can redeem vouchers."),
    "rate_limited": _l("Too many scans. Please wait a moment and try again."),
}


@bp.app_template_filter("offer_kind")
def offer_kind(kind: str) -> str:
    return str(OFFER_KIND_NAMES.get(kind, kind))


@bp.app_template_filter("offer_status")
def offer_status(offer) -> str:
    return str(OFFER_STATUS_NAMES[offer_service.offer_status(offer)])


@bp.app_template_filter("voucher_status")
def voucher_status(status: str) -> str:
    return str(VOUCHER_STATUS_NAMES.get(status, status))


@bp.app_template_filter("short_code")
def short_code(code: str) -> str:
    return tokens.display_short_code(code)


# --- volunteers: offers and vouchers ----------------------------------------------------------


@bp.route("/offers")
@login_required
def offer_list():
    kind = request.args.get("kind")
    found = offer_service.open_offers(db.session, current_user,
                                      kind=kind if kind in OFFER_KINDS else None)
    wallet = None
    if access.holds(current_user, ("volunteer",)):
        wallet = ledger.balance(db.session, current_user.wallet_code)
    return render_template("merchants/offers.html", offers=found, form=OnceForm(),
                           wallet=wallet, kinds=OFFER_KIND_NAMES, kind=kind)


@bp.route("/offers/<int:offer_id>/take", methods=["POST"])
@login_required
def take(offer_id):
    form = OnceForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        voucher, _created = voucher_service.issue_voucher(
            db.session, current_user, offer_id,
            idempotency_key=f"page:{current_user.id}:take:{offer_id}:{form.request_key.data}")
        commit()
    except (DomainError, ledger.LedgerError) as error:
        db.session.rollback()
        flash(message_for(error), "error")
        return redirect(url_for("pages.merchants.offer_list"))
    flash(_("Voucher ready: show its QR code at the till."), "success")
    return redirect(url_for("pages.merchants.voucher", voucher_id=voucher.id))


@bp.route("/vouchers")
@login_required
def voucher_list():
    found = voucher_service.vouchers_of(db.session, current_user)
    return render_template("merchants/vouchers.html", vouchers=found,
                           state=voucher_service.state)


@bp.route("/vouchers/<int:voucher_id>")
@login_required
def voucher(voucher_id):
    found = voucher_service.own_voucher(db.session, current_user, voucher_id)
    return render_template("merchants/voucher.html", voucher=found,
                           status=voucher_service.state(found), form=EmptyForm())


@bp.route("/vouchers/<int:voucher_id>/state")
@login_required
def voucher_state(voucher_id):
    """What the voucher page polls while it is shown at the till."""
    found = voucher_service.own_voucher(db.session, current_user, voucher_id)
    return jsonify({"id": found.id, "status": voucher_service.state(found)})


@bp.route("/vouchers/<int:voucher_id>/qr.<any(svg, png):extension>")
@login_required
def voucher_qr(voucher_id, extension):
    found = voucher_service.own_voucher(db.session, current_user, voucher_id)
    token = tokens.sign(voucher_key(), found.id)
    if extension == "png":
        response = Response(tokens.qr_png(token), mimetype="image/png")
    else:
        response = Response(tokens.qr_svg(token), mimetype="image/svg+xml")
    response.headers["Cache-Control"] = "private, max-age=3600"
    return response


@bp.route("/vouchers/<int:voucher_id>/cancel", methods=["POST"])
@login_required
def cancel(voucher_id):
    if not EmptyForm().validate_on_submit():
        abort(400)
    voucher_service.cancel_voucher(db.session, current_user, voucher_id)
    commit()
    flash(_("Voucher cancelled: its points are available again."), "info")
    return redirect(url_for("pages.merchants.voucher", voucher_id=voucher_id))


# --- merchant staff: the till, offers and the statement -----------------------------------------


def _my_merchants() -> list[Merchant]:
    access.require(current_user, ("merchant", "admin"))
    return offer_service.merchants_of(db.session, current_user)


@bp.route("/till")
@login_required
def till():
    access.require(current_user, ("merchant",))
    return render_template("merchants/till.html", merchants=_my_merchants())


@bp.route("/till/redeem", methods=["POST"])
@limiter.limit(scan_limit, key_func=scanner_identity)
@login_required
def till_redeem():
    """The till page's scan, through the API's own redemption (``redeem_scan``): JSON in and
    out, the scan's id in the Idempotency-Key header, the CSRF token in X-CSRFToken."""
    try:
        redeemed = redeem_scan(current_user, request.get_json(silent=True))
        commit()
    except ValidationError:
        return _till_refusal("validation_error", 422)
    except (ApiError, DomainError, ledger.LedgerError) as error:
        db.session.rollback()
        return _till_refusal(error.code, error.status)
    return jsonify({
        "ok": True, "id": redeemed.voucher_id, "status": "redeemed",
        "price_points": redeemed.price_points,
        "message": _("Redeemed: %(title)s, %(points)s points.", title=redeemed.offer_title,
                     points=redeemed.price_points),
        "offer_title": redeemed.offer_title,
        "short_code": tokens.display_short_code(redeemed.short_code),
    })


def _till_refusal(code: str, status: int):
    message = TILL_MESSAGES.get(code) or _("This voucher cannot be redeemed.")
    return jsonify({"ok": False, "code": code, "message": str(message)}), status


def _merchant_for_page() -> Merchant:
    """The merchant a staff page is about: ``?merchant=`` or the user's first."""
    merchant_id = request.args.get("merchant", type=int)
    if merchant_id is None:
        mine = _my_merchants()
        if not mine:
            raise Forbidden("you work at no merchant's till")
        return mine[0]
    merchant = offer_service.get_merchant(db.session, merchant_id)
    offer_service.require_staff_or_admin(db.session, current_user, merchant)
    return merchant


class OfferForm(FlaskForm):
    title = StringField(lazy_pgettext("offer", "Title"),
                        validators=[DataRequired(), Length(max=120)])
    description = TextAreaField(lazy_pgettext("offer", "Description"),
                                validators=[Optional(), Length(max=2000)])
    kind = SelectField(_l("Kind"))
    price_points = IntegerField(_l("Price in points"), validators=[
        DataRequired(), NumberRange(min=1, max=offer_service.MAX_PRICE_POINTS)])
    stock = IntegerField(_l("Stock"), validators=[
        DataRequired(), NumberRange(min=1, max=offer_service.MAX_STOCK)])
    per_person_limit = IntegerField(_l("Per person"), default=1, validators=[
        DataRequired(), NumberRange(min=1, max=offer_service.MAX_PER_PERSON_LIMIT)])
    valid_until = DateTimeLocalField(_l("Valid until"), validators=[DataRequired()])


@bp.route("/merchant", methods=["GET", "POST"])
@login_required
def merchant_home():
    merchant = _merchant_for_page()
    form = OfferForm()
    form.kind.choices = [(code, str(name)) for code, name in OFFER_KIND_NAMES.items()]
    if form.validate_on_submit():
        offer_service.create_offer(
            db.session, current_user, merchant.id, title=form.title.data,
            description=form.description.data or None, kind=form.kind.data,
            price_points=form.price_points.data, stock=form.stock.data,
            per_person_limit=form.per_person_limit.data,
            valid_until=form.valid_until.data.replace(tzinfo=CHINA))
        commit()
        flash(_("Offer published."), "success")
        return redirect(url_for("pages.merchants.merchant_home", merchant=merchant.id))
    found = offer_service.merchant_offers(db.session, current_user, merchant.id)
    accepted = ledger.balance(db.session, merchant.accepted_account)
    from payouts import details as payment_details
    from payouts import runs as payout_runs

    from .payouts import DetailsForm

    return render_template(
        "merchants/merchant.html", merchant=merchant, offers=found, form=form,
        accepted=accepted, merchants=_my_merchants(), withdraw_form=EmptyForm(),
        settlements=payout_runs.merchant_settlements(db.session, current_user, merchant.id),
        payment_details=payment_details.masked(payment_details.current(
            db.session, "merchant", merchant.id)), details_form=DetailsForm())


class OfferEditForm(FlaskForm):
    title = StringField(lazy_pgettext("offer", "Title"),
                        validators=[DataRequired(), Length(max=120)])
    description = TextAreaField(lazy_pgettext("offer", "Description"),
                                validators=[Optional(), Length(max=2000)])
    kind = SelectField(_l("Kind"))
    price_points = IntegerField(_l("Price in points"), validators=[
        InputRequired(), NumberRange(min=1, max=offer_service.MAX_PRICE_POINTS)])
    stock = IntegerField(_l("Stock"), validators=[
        InputRequired(), NumberRange(min=0, max=offer_service.MAX_STOCK)])
    per_person_limit = IntegerField(_l("Per person"), validators=[
        InputRequired(), NumberRange(min=1, max=offer_service.MAX_PER_PERSON_LIMIT)])
    valid_from = DateTimeLocalField(_l("Valid from"), validators=[InputRequired()])
    valid_until = DateTimeLocalField(_l("Valid until"), validators=[InputRequired()])


def _local_minute(moment):
    """A stored moment as the page shows it: China time, to the minute, without a zone."""
    return moment.astimezone(CHINA).replace(tzinfo=None, second=0, microsecond=0)


def _offer_form_values(offer) -> dict:
    return {"title": offer.title, "description": offer.description or "", "kind": offer.kind,
            "price_points": offer.price_points, "stock": offer.stock_total,
            "per_person_limit": offer.per_person_limit,
            "valid_from": _local_minute(offer.valid_from),
            "valid_until": _local_minute(offer.valid_until)}


def _offer_changes(form: OfferEditForm, current: dict) -> dict:
    """Only what the person changed: an untouched window that has already begun (or ended)
    is not re-validated as if it were new."""
    entered = {name: getattr(form, name).data for name in current}
    entered["title"] = entered["title"].strip()
    entered["description"] = (entered["description"] or "").strip()
    changes = {name: value for name, value in entered.items() if value != current[name]}
    for name in ("valid_from", "valid_until"):
        if name in changes:
            changes[name] = changes[name].replace(tzinfo=CHINA)
    if "description" in changes:
        changes["description"] = changes["description"] or None
    return changes


@bp.route("/merchant/offers/<int:offer_id>/edit", methods=["GET", "POST"])
@login_required
def edit_offer(offer_id):
    offer = offer_service.get_offer(db.session, offer_id)
    offer_service.require_staff_or_admin(db.session, current_user, offer.merchant)
    back = url_for("pages.merchants.merchant_home", merchant=offer.merchant_id)
    if not offer.active:
        flash(_("This offer was withdrawn and can no longer be edited."), "error")
        return redirect(back)
    current = _offer_form_values(offer)
    form = OfferEditForm(data=current)
    form.kind.choices = [(code, str(name)) for code, name in OFFER_KIND_NAMES.items()]
    status = 200
    if form.validate_on_submit():
        changes = _offer_changes(form, current)
        if not changes:
            flash(_("Nothing was changed."), "info")
            return redirect(back)
        try:
            offer_service.edit_offer(db.session, current_user, offer.id, changes)
            commit()
        except Invalid as error:
            db.session.rollback()
            issued = offer_service.get_offer(db.session, offer_id).vouchers_issued
            _show_field_errors(form, error.errors, issued)
            status = 422
        except Conflict as error:
            db.session.rollback()
            flash(message_for(error), "error")
            return redirect(back)
        else:
            flash(_("Offer saved. A new price applies to vouchers taken from now on."),
                  "success")
            return redirect(back)
    elif form.is_submitted():
        status = 422
    return render_template("merchants/offer_edit.html", offer=offer, form=form), status


def _show_field_errors(form: FlaskForm, errors: dict, vouchers_issued: int) -> None:
    """A service's refusal beside the fields it names, in the person's language for the two
    rules the form itself cannot check."""
    for name, messages in (errors or {}).items():
        field = getattr(form, name, None)
        if field is None:
            flash(message_for(code="validation_error"), "error")
            continue
        if name == "stock":
            messages = [_("At least %(count)s: vouchers already issued.",
                          count=vouchers_issued)]
        elif name == "valid_until":
            messages = [_("Must be in the future and after the start.")]
        field.errors = list(field.errors) + list(messages)


@bp.route("/merchant/offers/<int:offer_id>/withdraw", methods=["POST"])
@login_required
def withdraw_offer(offer_id):
    if not EmptyForm().validate_on_submit():
        abort(400)
    offer = offer_service.get_offer(db.session, offer_id)
    back = url_for("pages.merchants.merchant_home", merchant=offer.merchant_id)
    try:
        offer_service.withdraw_offer(db.session, current_user, offer_id)
        commit()
    except Conflict:
        db.session.rollback()
        flash(_("This offer was already withdrawn."), "info")
        return redirect(back)
    flash(_("Offer withdrawn: no new vouchers can be taken. Vouchers already issued stay "
            "valid until they are redeemed, cancelled or expire."), "success")
    return redirect(back)


@bp.route("/merchant/statement")
@bp.route("/merchant/statement.<any(csv):extension>")
@login_required
def statement(extension=None):
    merchant = _merchant_for_page()
    by = request.args.get("by", "day")
    try:
        since = _date_arg("since")
        until = _date_arg("until")
    except ValueError:
        abort(400)
    found = statements.merchant_statement(db.session, current_user, merchant.id,
                                          by=by if by in ("day", "month") else "day",
                                          since=since, until=until)
    if extension == "csv":
        filename = f"merchant-{merchant.id}-{found.since}-{found.until}-{found.by}.csv"
        return Response(statements.as_csv(found), mimetype="text/csv",
                        headers={"Content-Disposition": f"attachment; filename={filename}"})
    return render_template("merchants/statement.html", merchant=merchant, statement=found)


def _date_arg(name: str):
    from datetime import date

    value = request.args.get(name)
    return date.fromisoformat(value) if value else None


# --- administrators: merchants and settlement ---------------------------------------------------


class SettleForm(OnceForm):
    period = StringField(_l("Month (YYYY-MM)"), validators=[
        DataRequired(), Regexp(r"^\d{4}-(0[1-9]|1[0-2])$")])


class PaidForm(FlaskForm):
    reference = StringField(_l("Bank transfer reference"), validators=[Optional(),
                                                                       Length(max=200)])


class MerchantForm(FlaskForm):
    name = StringField(lazy_pgettext("merchant", "Name"),
                       validators=[DataRequired(), Length(max=120)])
    programme = SelectField(_l("Programme"), validators=[DataRequired()])
    area = StringField(_l("Area code"), validators=[DataRequired(), Length(max=64)])
    address = StringField(_l("Address"), validators=[Optional(), Length(max=300)])
    category = StringField(_l("Category"), validators=[Optional(), Length(max=60)])
    staff = StringField(_l("Staff user names (comma separated)"),
                        validators=[Optional(), Length(max=1000)])
    star = BooleanField(_l("Star merchant"))


@bp.route("/admin/merchants", methods=["GET", "POST"])
@login_required
def admin_merchants():
    access.require(current_user, ("admin",))
    from volunteers import programmes

    form = MerchantForm(prefix="merchant")
    form.programme.choices = [(p.code, p.name) for p in
                              programmes.visible_programmes(db.session, current_user)]
    if form.validate_on_submit():
        staff = [name.strip() for name in (form.staff.data or "").replace("，", ",").split(",")
                 if name.strip()]
        offer_service.create_merchant(
            db.session, current_user, name=form.name.data, programme_code=form.programme.data,
            area_code=form.area.data.strip(), staff_usernames=staff,
            address=form.address.data or None, category=form.category.data or None,
            star=form.star.data)
        commit()
        flash(_("Merchant added."), "success")
        return redirect(url_for("pages.merchants.admin_merchants"))
    found = offer_service.visible_merchants(db.session, current_user)
    balances = ledger.balances(db.session, [code for m in found
                                            for code in (m.accepted_account, m.cash_account)])
    unsettled = {m.id: settlement.unsettled_points(db.session, m.id) for m in found}
    return render_template(
        "merchants/admin.html", merchants=found, balances=balances, unsettled=unsettled,
        rates={m.id: settlement.rate_for(db.session, m) for m in found}, form=form,
        settle_form=SettleForm(prefix="settle", period=settlement.previous_period()),
        paid_form=PaidForm(prefix="paid"),
        settlements=settlement.settlements(db.session, current_user))


@bp.route("/admin/settlements/run", methods=["POST"])
@login_required
def run_settlement():
    access.require(current_user, ("admin",))
    form = SettleForm(prefix="settle")
    if not form.validate_on_submit():
        flash(_("Please give the month as YYYY-MM."), "error")
        return redirect(url_for("pages.merchants.admin_merchants"))
    outcomes = settlement.settle(db.session, current_user, form.period.data)
    commit()
    created = [o for o in outcomes if o.created]
    skipped = [o for o in outcomes if o.settlement is None]
    flash(_("%(count)s settlements posted for %(period)s.", count=len(created),
            period=form.period.data), "success")
    for outcome in skipped:
        flash(_("%(name)s was not settled: %(problem)s", name=outcome.merchant_name,
                problem=outcome.problem), "error")
    return redirect(url_for("pages.merchants.admin_merchants"))


@bp.route("/admin/settlements/<int:settlement_id>/paid", methods=["POST"])
@login_required
def settlement_paid(settlement_id):
    form = PaidForm(prefix="paid")
    if not form.validate_on_submit():
        abort(400)
    settlement.mark_paid(db.session, current_user, settlement_id, form.reference.data or None)
    commit()
    flash(_("Settlement marked paid."), "success")
    return redirect(url_for("pages.merchants.admin_merchants"))
