"""Pages of paying at the counter QR: the volunteer's page behind ``/m/<code>`` and the green
proof after paying; the merchant's counter page (posters A5 and A4, tills, new codes, opening
hours), and the till's live list of payments and one-time amounts (JSON for ``till.js``)."""

from __future__ import annotations

import io
import uuid

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
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from marshmallow import ValidationError
from wtforms import BooleanField, StringField
from wtforms.validators import DataRequired, Length, Optional, Regexp

import ledger
from merchants import counter, tokens
from merchants import offers as offer_service
from merchants.models import Merchant
from volunteers import access
from volunteers.errors import DomainError

from ..api.counter import (
    charge_view,
    counter_qr_response,
    counter_url,
    look_view,
    parse_since,
    pay_code,
    payment_view,
)
from ..api.vouchers import scan_limit, scanner_identity, voucher_key
from ..errors import PAGE_MESSAGES, ApiError
from ..extensions import db, limiter
from ..messages import BY_LIMIT, message_for
from ..transactions import commit
from .forms import EmptyForm

bp = Blueprint("counter", __name__)

# What the volunteer reads at the counter where it says more than the code's sentence
# (web/messages.py, which has the counter's own codes).
COUNTER_MESSAGES = {
    "insufficient_points": _l("Not enough points available."),
    "offer_closed": _l("This offer is not open."),
    "idempotency_conflict": _l("This payment was already made with different details. "
                               "Reload the page."),
    "validation_error": _l("Choose an offer or type a number of points."),
    "forbidden": _l("Only volunteers of this programme can pay here."),
    "rate_limited": _l("Too many attempts. Please wait a moment and try again."),
}
POSTER_SIZES = ("a5", "a4")


def refusal_message(error) -> str:
    if getattr(error, "limit", None) in BY_LIMIT:
        return message_for(error)
    message = COUNTER_MESSAGES.get(error.code) or PAGE_MESSAGES.get(error.code)
    return str(message or _("This payment cannot be made."))


# --- the volunteer: /m/<code>, paying, the proof ------------------------------------------------


@bp.route("/m/<string:code>")
@login_required
def pay_page(code):
    """What the counter's QR opens: the merchant, its offers or the cashier's amount, the
    available points and one button. The page carries the payment's idempotency key."""
    try:
        view = counter.look(db.session, current_user, voucher_key(), code)
    except DomainError as error:
        db.session.rollback()
        return render_template("merchants/counter_pay.html", refusal=refusal_message(error),
                               code=code), error.status
    body = look_view(view)
    return render_template("merchants/counter_pay.html", view=body, code=code,
                           payment_key=uuid.uuid4().hex,
                           volunteer=access.holds(current_user, ("volunteer",)))


@bp.route("/m/<string:code>/pay", methods=["POST"])
@limiter.limit(scan_limit, key_func=scanner_identity)
@login_required
def pay(code):
    """The page's one tap, through the API's own payment (``pay_code``): JSON in and out, the
    page's key in the Idempotency-Key header, the CSRF token in X-CSRFToken."""
    key = (request.headers.get("Idempotency-Key") or "").strip()
    if not 8 <= len(key) <= 64:
        return jsonify({"ok": False, "code": "validation_error",
                        "message": str(COUNTER_MESSAGES["validation_error"])}), 422
    try:
        paid = pay_code(current_user, code, request.get_json(silent=True),
                        purpose_key=f"page:{current_user.id}:counter:{key}")
        commit()
    except ValidationError:
        db.session.rollback()
        return jsonify({"ok": False, "code": "validation_error",
                        "message": str(COUNTER_MESSAGES["validation_error"])}), 422
    except (ApiError, DomainError, ledger.LedgerError) as error:
        db.session.rollback()
        return jsonify({"ok": False, "code": error.code,
                        "message": refusal_message(error)}), error.status
    return jsonify({"ok": True, **_json(payment_view(paid.payment, paid.merchant)),
                    "url": url_for("pages.counter.paid", payment_id=paid.payment.id)})


def _json(view: dict) -> dict:
    view = dict(view)
    view["created_at"] = view["created_at"].isoformat()
    return view


@bp.route("/counter/payments/<int:payment_id>")
@login_required
def paid(payment_id):
    """The proof shown at the counter: big, green, moving, with a short code and the time."""
    payment = counter.own_payment(db.session, current_user, payment_id)
    return render_template("merchants/counter_paid.html", payment=payment,
                           merchant=payment.merchant)


# --- the merchant: counter QR, posters, tills, new codes, settings ------------------------------


class TillForm(FlaskForm):
    label = StringField(_l("Till name"), validators=[DataRequired(), Length(max=60)])


class CounterSettingsForm(FlaskForm):
    opening_hours = StringField(_l("Opening hours"), validators=[
        Optional(), Regexp(counter.OPENING_HOURS_PATTERN.pattern,
                           message=_l("As 08:00-21:00"))])
    accepts_open_amount = BooleanField(_l("Accept amounts the volunteer types"))


def _merchant(merchant_id: int) -> Merchant:
    merchant = offer_service.get_merchant(db.session, merchant_id)
    offer_service.require_staff_or_admin(db.session, current_user, merchant)
    return merchant


@bp.route("/merchants/<int:merchant_id>/counter")
@login_required
def manage(merchant_id):
    merchant = _merchant(merchant_id)
    found = counter.counters_of(db.session, current_user, merchant.id)
    commit()
    settings = CounterSettingsForm(data={"opening_hours": merchant.opening_hours,
                                         "accepts_open_amount": merchant.accepts_open_amount})
    links = {item.id: counter_url(counter.counter_code(voucher_key(), item)) for item in found}
    return render_template("merchants/counter_manage.html", merchant=merchant, counters=found,
                           links=links, form=EmptyForm(), till_form=TillForm(),
                           settings=settings)


@bp.route("/merchants/<int:merchant_id>/counter-qr.png")
@login_required
def counter_qr(merchant_id):
    """The page twin of the API's counter QR (signed in by session)."""
    return counter_qr_response(current_user, merchant_id, request.args.get("counter", type=int))


@bp.route("/merchants/<int:merchant_id>/poster")
@login_required
def poster(merchant_id):
    """A printable poster for the counter, A5 or A4, in Chinese (like the courtyard poster)."""
    size = request.args.get("size", "a5")
    if size not in POSTER_SIZES:
        abort(404)
    item = counter.get_counter(db.session, current_user, merchant_id,
                               request.args.get("counter", type=int))
    commit()
    link = counter_url(counter.counter_code(voucher_key(), item))
    return render_template("merchants/counter_poster.html", merchant=item.merchant,
                           counter=item, link=link, size=size,
                           qr=url_for("pages.counter.counter_qr", merchant_id=merchant_id,
                                      counter=item.id if item.label else None))


@bp.route("/merchants/<int:merchant_id>/counter/reissue", methods=["POST"])
@login_required
def reissue(merchant_id):
    form = EmptyForm()
    if not form.validate_on_submit():
        abort(400)
    counter.reissue(db.session, current_user, merchant_id, request.form.get("counter", type=int))
    commit()
    flash(_("New code issued: the old poster no longer works. Print the new one."), "success")
    return redirect(url_for("pages.counter.manage", merchant_id=merchant_id))


@bp.route("/merchants/<int:merchant_id>/counter/tills", methods=["POST"])
@login_required
def add_till(merchant_id):
    form = TillForm()
    if not form.validate_on_submit():
        flash(_("Give the till a name."), "error")
    else:
        counter.add_counter(db.session, current_user, merchant_id, form.label.data)
        commit()
        flash(_("Till added: print its poster."), "success")
    return redirect(url_for("pages.counter.manage", merchant_id=merchant_id))


@bp.route("/merchants/<int:merchant_id>/counter/settings", methods=["POST"])
@login_required
def settings(merchant_id):
    form = CounterSettingsForm()
    if not form.validate_on_submit():
        flash(_("Opening hours are written as 08:00-21:00."), "error")
    else:
        counter.set_counter_settings(db.session, current_user, merchant_id,
                                     opening_hours=form.opening_hours.data,
                                     accepts_open_amount=form.accepts_open_amount.data)
        commit()
        flash(_("Saved."), "success")
    return redirect(url_for("pages.counter.manage", merchant_id=merchant_id))


# --- the till: live payments and the cashier's amount (JSON for till.js) -------------------------


@bp.route("/till/payments")
@login_required
def till_payments():
    """The counter payments of the till user's merchants after ``since`` (a payment id), the
    same list as ``GET /api/v1/merchants/{id}/payments`` (that API takes bearer tokens only)."""
    access.require(current_user, ("merchant",))
    try:
        since_id, since_at = parse_since(request.args.get("since", "")[:40])
    except DomainError:
        return jsonify({"payments": []}), 422
    found, cursor = [], since_id or 0
    for merchant in offer_service.merchants_of(db.session, current_user):
        found += counter.payments_since(db.session, current_user, merchant.id,
                                        since_id=since_id, since_at=since_at)
        cursor = max(cursor, counter.last_payment_id(db.session, merchant.id))
    found.sort(key=lambda payment: payment.id)
    # The cursor to send next: the newest payment seen, so a first look announces nothing old.
    return jsonify({"payments": [_json(payment_view(payment)) for payment in found],
                    "cursor": max([cursor] + [payment.id for payment in found])})


@bp.route("/till/charges", methods=["POST"])
@login_required
def till_charge():
    """An amount the cashier entered: a QR that pays it once, within two minutes."""
    access.require(current_user, ("merchant",))
    body = request.get_json(silent=True) or {}
    amount, merchant_id = body.get("amount_points"), body.get("merchant_id")
    if not isinstance(amount, int) or isinstance(amount, bool) or not isinstance(
            merchant_id, int):
        return jsonify({"ok": False, "message": _("Type a whole number of points.")}), 422
    try:
        charge = counter.create_charge(db.session, current_user, merchant_id, amount)
        commit()
    except DomainError as error:
        db.session.rollback()
        errors = getattr(error, "errors", {}) or {}
        detail = "; ".join(errors.get("amount_points", []))
        return jsonify({"ok": False, "message": _("Not possible: %(detail)s points.",
                                                  detail=detail or error.message)}), error.status
    return jsonify({"ok": True, **_json_charge(charge_view(charge))})


def _json_charge(view: dict) -> dict:
    view = dict(view)
    view["expires_at"] = view["expires_at"].isoformat()
    return view


@bp.route("/till/charges/<int:charge_id>")
@login_required
def till_charge_state(charge_id):
    charge = counter.get_charge(db.session, current_user, charge_id)
    return jsonify({"id": charge.id, "status": counter.charge_state(charge)})


@bp.route("/till/charges/<int:charge_id>/qr.png")
@login_required
def charge_qr(charge_id):
    charge = counter.get_charge(db.session, current_user, charge_id)
    png = tokens.qr_png(counter_url(counter.charge_code(voucher_key(), charge)))
    return Response(io.BytesIO(png).getvalue(), mimetype="image/png",
                    headers={"Cache-Control": "private, no-store"})
