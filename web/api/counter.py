"""Paying at the counter QR (CONTRACT section 6, "Counter"): what a code shows, paying it
once per Idempotency-Key, the merchant's live list of payments, its counter QR image and new
codes, the cashier's one-time amounts, and the programme's limits."""

from __future__ import annotations

from datetime import datetime

from flask import Response, url_for
from flask_smorest import Blueprint

from merchants import counter, tokens
from volunteers import access, programmes
from volunteers.errors import Invalid

from ..auth import actor_required, current_actor
from ..extensions import db, limiter
from ..transactions import commit
from .idempotency import IDEMPOTENT, idempotency_key, run_once
from .schemas.common import ErrorSchema
from .schemas.counter import (
    ChargeCreateSchema,
    ChargeSchema,
    CounterArgsSchema,
    CounterCreateSchema,
    CounterLimitsSchema,
    CounterMerchantSchema,
    CounterSchema,
    CounterSettingsSchema,
    CounterViewSchema,
    PaymentRequestSchema,
    PaymentsArgsSchema,
    PaymentSchema,
)
from .vouchers import scan_limit, scanner_identity, voucher_key

blp = Blueprint("counter", __name__, url_prefix="/api/v1",
                description="Paying at the merchant's counter QR (收款码)")
QR_CACHE_SECONDS = 60


def counter_url(code: str) -> str:
    """The short URL a counter's or a charge's QR carries: it ends ``/m/<code>``."""
    return url_for("pages.counter.pay_page", code=code, _external=True)


def counter_view(item) -> dict:
    code = counter.counter_code(voucher_key(), item)
    return {"id": item.id, "label": item.label, "generation": item.generation, "code": code,
            "url": counter_url(code), "reissued_at": item.reissued_at,
            "qr_png_url": url_for("counter.counter_qr", merchant_id=item.merchant_id,
                                  counter=item.id if item.label else None)}


def charge_view(charge) -> dict:
    code = counter.charge_code(voucher_key(), charge)
    return {"id": charge.id, "amount_points": charge.amount_points,
            "expires_at": charge.expires_at, "status": counter.charge_state(charge),
            "code": code, "url": counter_url(code),
            "qr_png_url": url_for("pages.counter.charge_qr", charge_id=charge.id)}


def payment_view(payment, merchant=None) -> dict:
    merchant = merchant or payment.merchant
    return {"id": payment.id, "merchant": {"id": merchant.id, "name": merchant.name},
            "amount_points": payment.amount_points,
            "confirmation_code": payment.confirmation_code, "created_at": payment.created_at,
            "offer_id": payment.offer_id, "title": payment.title or None,
            "counter_id": payment.counter_id, "volunteer": _payer(payment),
            "flags": payment.flags}


def _payer(payment) -> str:
    from volunteers.models import User

    user = db.session.get(User, payment.volunteer_id)
    name = (user.display_name or user.username) if user else "?"
    return name[:1] + "*" * min(2, max(len(name) - 1, 1))  # masked, as a payment speaker does


def look_view(view) -> dict:
    merchant, charge = view.scanned.merchant, view.scanned.charge
    return {
        "merchant": merchant,
        "counter": {"id": view.scanned.counter.id, "label": view.scanned.counter.label},
        "offers": view.offers if charge is None else [],
        "charge": None if charge is None else {
            "id": charge.id, "amount_points": charge.amount_points,
            "expires_at": charge.expires_at, "status": counter.charge_state(charge)},
        "open_amount_max_points": view.limits["open_amount_max_points"]
        if merchant.accepts_open_amount and charge is None else None,
        "available_points": view.available_points,
    }


def pay_code(actor, code: str, payload: dict, purpose_key: str | None = None):
    """The one way a payment is made, from this API or the counter page: the caller commits."""
    request = PaymentRequestSchema().load(payload if isinstance(payload, dict) else {})
    key = purpose_key or idempotency_key(actor, f"counter:{code.upper()}")
    return counter.pay(db.session, actor, code, key=voucher_key(), idempotency_key=key,
                       offer_id=request.get("offer_id"),
                       amount_points=request.get("amount_points"))


@blp.route("/counter/<string:code>", methods=["GET"])
@actor_required()
@blp.response(200, CounterViewSchema)
@blp.alt_response(400, schema=ErrorSchema, description="counter_code_invalid")
@blp.alt_response(410, schema=ErrorSchema, description="counter_code_revoked")
@blp.alt_response(409, schema=ErrorSchema,
                  description="counter_charge_used, counter_charge_expired")
def look(code):
    """What a scanned counter code shows: the merchant, its open offers (or the amount the
    cashier set), the largest open amount and your available points."""
    return look_view(counter.look(db.session, current_actor(), voucher_key(), code))


@blp.route("/counter/<string:code>/payments", methods=["POST"])
@limiter.limit(scan_limit, key_func=scanner_identity)
@actor_required("volunteer")
@blp.arguments(PaymentRequestSchema)
@blp.response(201, PaymentSchema)
@blp.alt_response(400, schema=ErrorSchema, description="counter_code_invalid")
@blp.alt_response(410, schema=ErrorSchema, description="counter_code_revoked")
@blp.alt_response(409, schema=ErrorSchema, description=(
    "insufficient_points, out_of_stock, offer_closed, limit_reached (the body's `limit` names "
    "which), open_amount_not_accepted, counter_charge_used, counter_charge_expired, "
    "idempotency_conflict"))
@blp.alt_response(422, schema=ErrorSchema,
                  description="validation_error, offer_wrong_merchant")
@blp.doc(parameters=IDEMPOTENT)
def pay(payload, code):
    """Pay at a counter: `{offer_id}` for an offer, `{amount_points}` for an open amount, or
    `{}` for the amount a cashier set. The same Idempotency-Key answers the first payment."""
    actor = current_actor()

    def work():
        paid = pay_code(actor, code, payload)
        return PaymentSchema().dump(payment_view(paid.payment, paid.merchant)), 201

    return run_once(actor, f"counter:{code.upper()}", payload, work, status=201)


@blp.route("/merchants/<int:merchant_id>/payments", methods=["GET"])
@actor_required("merchant", "admin")
@blp.arguments(PaymentsArgsSchema, location="query")
@blp.response(200, PaymentSchema(many=True))
def payments(args, merchant_id):
    """The merchant's counter payments after `since` (a payment id or a moment), oldest
    first: what the till polls for its live list."""
    since_id, since_at = parse_since(args.get("since"))
    found = counter.payments_since(db.session, current_actor(), merchant_id,
                                   since_id=since_id, since_at=since_at, limit=args["limit"])
    return [payment_view(payment) for payment in found]


def parse_since(text: str | None) -> tuple[int | None, datetime | None]:
    if not text:
        return None, None
    if text.isdigit():
        return int(text), None
    try:
        return None, datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as error:
        raise Invalid("since is a payment id or an ISO 8601 moment",
                      errors={"since": ["a payment id or an ISO 8601 moment"]}) from error


@blp.route("/merchants/<int:merchant_id>/counter-qr.png", methods=["GET"])
@actor_required("merchant", "admin")
@blp.arguments(CounterArgsSchema, location="query")
@blp.response(200, content_type="image/png")
def counter_qr(args, merchant_id):
    """The counter's QR (PNG): it decodes to a URL ending `/m/<code>`."""
    return counter_qr_response(current_actor(), merchant_id, args.get("counter"))


def counter_qr_response(actor, merchant_id: int, counter_id: int | None) -> Response:
    item = counter.get_counter(db.session, actor, merchant_id, counter_id)
    png = tokens.qr_png(counter_url(counter.counter_code(voucher_key(), item)))
    commit()  # the main counter is made the first time it is asked for
    response = Response(png, mimetype="image/png")
    response.headers["Cache-Control"] = f"private, max-age={QR_CACHE_SECONDS}"
    return response


@blp.route("/merchants/<int:merchant_id>/counters", methods=["GET"])
@actor_required("merchant", "admin")
@blp.response(200, CounterSchema(many=True))
def counters(merchant_id):
    """The merchant's counters: its main one first, then one per till."""
    found = counter.counters_of(db.session, current_actor(), merchant_id)
    commit()
    return [counter_view(item) for item in found]


@blp.route("/merchants/<int:merchant_id>/counters", methods=["POST"])
@actor_required("merchant", "admin")
@blp.arguments(CounterCreateSchema)
@blp.response(201, CounterSchema)
def add_counter(payload, merchant_id):
    """A counter QR for one more till."""
    item = counter.add_counter(db.session, current_actor(), merchant_id, payload["label"])
    commit()
    return counter_view(item)


@blp.route("/merchants/<int:merchant_id>/counter-code", methods=["POST"])
@actor_required("merchant", "admin")
@blp.arguments(CounterArgsSchema, location="query")
@blp.response(200, CounterSchema)
def reissue(args, merchant_id):
    """A new code for the counter (the main one, or `?counter=`): the old poster stops
    working at once (`410 counter_code_revoked`)."""
    item = counter.reissue(db.session, current_actor(), merchant_id, args.get("counter"))
    commit()
    return counter_view(item)


@blp.route("/merchants/<int:merchant_id>/counter-settings", methods=["PUT"])
@actor_required("merchant", "admin")
@blp.arguments(CounterSettingsSchema)
@blp.response(200, CounterMerchantSchema)
def settings(payload, merchant_id):
    """Opening hours (`HH:MM-HH:MM`, China time; null: always open; a payment outside them is
    flagged to the area's admins) and whether open amounts are taken."""
    merchant = counter.set_counter_settings(
        db.session, current_actor(), merchant_id, opening_hours=payload["opening_hours"],
        accepts_open_amount=payload["accepts_open_amount"])
    commit()
    return merchant


@blp.route("/merchants/<int:merchant_id>/charges", methods=["POST"])
@actor_required("merchant")
@blp.arguments(ChargeCreateSchema)
@blp.response(201, ChargeSchema)
def create_charge(payload, merchant_id):
    """An amount the cashier entered: its QR pays it once, within two minutes."""
    charge = counter.create_charge(db.session, current_actor(), merchant_id,
                                   payload["amount_points"], payload.get("counter_id"))
    commit()
    return charge_view(charge)


@blp.route("/programmes/<string:code>/counter-limits", methods=["GET"])
@actor_required("admin")
@blp.response(200, CounterLimitsSchema)
def get_limits(code):
    """The programme's counter limits (defaults until set)."""
    programme = programmes.get_programme(db.session, code)
    access.require(current_actor(), ("admin",), programme.area)
    return counter.limits_for(db.session, programme.id)


@blp.route("/programmes/<string:code>/counter-limits", methods=["PUT"])
@actor_required("admin")
@blp.arguments(CounterLimitsSchema)
@blp.response(200, CounterLimitsSchema)
def put_limits(payload, code):
    """Set some or all of the programme's counter limits (admins of its area)."""
    programme = programmes.get_programme(db.session, code)
    limits = counter.set_limits(db.session, current_actor(), programme, payload)
    commit()
    return limits

