"""Donations, causes, cash-outs and card funding under /api/v1."""

from types import SimpleNamespace

from flask import request, send_file
from flask_smorest import Blueprint

from payments import cash_out, donations, funding
from payouts import deliveries
from volunteers.programmes import get_programme

from ..auth import actor_required, current_actor
from ..extensions import db
from ..pages.activities import photo_file, uploaded_photos
from ..pages.payments import card_urls, stripe_settings
from ..transactions import commit
from .idempotency import IDEMPOTENT, idempotency_key, request_key, run_once
from .schemas.common import ErrorSchema
from .schemas.payments import (
    CardFundingRequestSchema,
    CardFundingSchema,
    CashOutArgsSchema,
    CashOutPaidSchema,
    CashOutPolicySchema,
    CashOutPolicyStateSchema,
    CashOutRequestSchema,
    CashOutSchema,
    CauseArgsSchema,
    CauseCreateSchema,
    CauseSchema,
    DonationRequestSchema,
    DonationSchema,
    ReleaseRequestSchema,
    ReleaseSchema,
)

blp = Blueprint("payments", __name__, url_prefix="/api/v1",
                description="Donations to causes, cash-out of points, card funding")



# --- causes and donations -------------------------------------------------------------------


@blp.route("/causes", methods=["GET"])
@actor_required()
@blp.arguments(CauseArgsSchema, location="query")
@blp.response(200, CauseSchema(many=True))
def list_causes(args):
    """Causes of the programmes the caller belongs to or works on; open ones unless
    include_finished."""
    return donations.visible_causes(db.session, current_actor(),
                                    include_finished=args["include_finished"],
                                    programme_code=args.get("programme"))


@blp.route("/programmes/<code>/causes", methods=["POST"])
@actor_required("admin", "organiser")
@blp.arguments(CauseCreateSchema)
@blp.response(201, CauseSchema)
def publish_cause(payload, code):
    """Publish a cause (困难家庭, 助学, 微心愿) on an area of the programme in the caller's
    charge."""
    cause = deliveries.publish_cause(
        db.session, current_actor(), code, payload["area"], payload["kind"], payload["title"],
        payload["story"], payload["target_points"], payload.get("wish_reference"),
        beneficiary_id=payload.get("beneficiary_id"),
        beneficiary_name=payload.get("beneficiary_name"), delivery=payload["delivery"],
        offer_id=payload.get("offer_id"))
    commit()
    return cause


@blp.route("/causes/<int:cause_id>", methods=["GET"])
@actor_required()
@blp.response(200, CauseSchema)
def get_cause(cause_id):
    return donations.get_cause(db.session, current_actor(), cause_id)


@blp.route("/causes/<int:cause_id>/close", methods=["POST"])
@actor_required("admin", "organiser")
@blp.response(200, CauseSchema)
@blp.alt_response(409, schema=ErrorSchema, description="conflict: already closed")
def close_cause(cause_id):
    """Stop donations to a cause; what is still in its pool returns to the programme's
    budget (409 release_pending while a release waits)."""
    cause = donations.close_cause(db.session, current_actor(), cause_id)
    commit()
    return cause


@blp.route("/causes/<int:cause_id>/release", methods=["POST"])
@actor_required("admin", "organiser")
@blp.arguments(ReleaseRequestSchema)
@blp.response(201, ReleaseSchema)
@blp.alt_response(422, schema=ErrorSchema, description="exceeds_pool")
@blp.alt_response(409, schema=ErrorSchema,
                  description="no_beneficiary_account, release_pending, pool_below_price")
def release_cause(payload, cause_id):
    """Ask to release the pool (or ``amount_points`` of it) to the cause's beneficiary;
    another organiser or an administrator confirms it. For a voucher delivery the amount is
    a whole number of vouchers (by default as many as the pool buys)."""
    found = deliveries.release(db.session, current_actor(), cause_id,
                               payload.get("amount_points"))
    commit()
    return found


@blp.route("/causes/<int:cause_id>/release/confirm", methods=["POST"])
@actor_required("admin", "organiser")
@blp.response(200, ReleaseSchema)
@blp.alt_response(403, schema=ErrorSchema, description="own_release")
@blp.alt_response(409, schema=ErrorSchema, description="no_release_requested")
def confirm_release(cause_id):
    """Confirm the pending release (a second person): the points move from the pool to the
    beneficiary's wallet; each donor is told. For a voucher delivery the wallet buys the
    offer's vouchers (``voucher_ids``), collected at the merchant; a refusal of the voucher
    path (out_of_stock, offer_closed, limit_reached) moves nothing."""
    found = deliveries.confirm_release(db.session, current_actor(), cause_id)
    found.voucher_ids = [voucher.id for voucher in deliveries.vouchers_of_release(db.session,
                                                                                  found)]
    commit()
    return found


@blp.route("/causes/<int:cause_id>/delivery", methods=["POST"])
@actor_required("admin", "organiser")
@blp.response(201, CauseSchema)
@blp.alt_response(409, schema=ErrorSchema, description="nothing_released")
@blp.doc(requestBody={"content": {"multipart/form-data": {"schema": {
    "type": "object", "required": ["photo"], "properties": {
        "note": {"type": "string", "maxLength": donations.MAX_DELIVERY_NOTE_LENGTH},
        "photo": {"type": "string", "format": "binary"}}}}}})
def confirm_delivery(cause_id):
    """Confirm with a photo (multipart ``photo``, re-encoded without EXIF/GPS) that what was
    released reached the beneficiary; shown on the cause page."""
    photos = uploaded_photos(request.files.getlist("photo")[:1])
    note = (request.form.get("note") or "")[:donations.MAX_DELIVERY_NOTE_LENGTH + 1]
    photo = deliveries.confirm_delivery(db.session, current_actor(), cause_id,
                                        photos[0] if photos else b"", note)
    commit()
    return donations.get_cause(db.session, current_actor(), photo.cause_id)


@blp.route("/causes/<int:cause_id>/delivery-photos/<int:photo_id>", methods=["GET"])
@actor_required()
@blp.response(200, content_type="image/jpeg")
def delivery_photo(cause_id, photo_id):
    """A photo confirming a cause's delivery, for whoever may see the cause."""
    return send_file(photo_file(donations.delivery_photo(db.session, current_actor(), cause_id,
                                                         photo_id)), mimetype="image/jpeg")


@blp.route("/causes/<int:cause_id>/donations", methods=["POST"])
@actor_required("volunteer")
@blp.arguments(DonationRequestSchema)
@blp.response(201, DonationSchema)
@blp.alt_response(409, schema=ErrorSchema,
                  description="insufficient_points, conflict (cause not open), "
                  "idempotency_conflict")
@blp.doc(parameters=IDEMPOTENT)
def donate_to_cause(payload, cause_id):
    """Donate points from my wallet to a cause, at most what it still needs."""
    actor = current_actor()

    def work():
        return DonationSchema().dump(donations.donate(
            db.session, actor, payload["amount_points"], idempotency_key(actor, "donation"),
            cause_id=cause_id, message=payload.get("message")))

    return run_once(actor, "donation", payload, work, status=201)


@blp.route("/programmes/<code>/donations", methods=["POST"])
@actor_required("volunteer")
@blp.arguments(DonationRequestSchema)
@blp.response(201, DonationSchema)
@blp.alt_response(409, schema=ErrorSchema,
                  description="insufficient_points, idempotency_conflict")
@blp.doc(parameters=IDEMPOTENT)
def donate_to_programme(payload, code):
    """Donate points from my wallet to the programme's donations pool (转赠)."""
    actor = current_actor()

    def work():
        return DonationSchema().dump(donations.donate(
            db.session, actor, payload["amount_points"], idempotency_key(actor, "donation"),
            programme_code=code, message=payload.get("message")))

    return run_once(actor, "donation", payload, work, status=201)


@blp.route("/me/donations", methods=["GET"])
@actor_required()
@blp.response(200, DonationSchema(many=True))
def my_donations():
    """My donations, newest first."""
    return donations.donations_of(db.session, current_actor())


# --- cash-out -------------------------------------------------------------------------------


@blp.route("/programmes/<code>/cash-out-policy", methods=["GET"])
@actor_required()
@blp.response(200, CashOutPolicyStateSchema)
def get_policy(code):
    """The programme's cash-out limits (disabled with zero limits when never set)."""
    programme = get_programme(db.session, code)
    policy = cash_out.policy_of(db.session, programme)
    if policy is None:
        return SimpleNamespace(programme=programme, enabled=False, minimum_points=0,
                               monthly_maximum_points=0)
    return policy


@blp.route("/programmes/<code>/cash-out-policy", methods=["PUT"])
@actor_required("admin")
@blp.arguments(CashOutPolicySchema)
@blp.response(200, CashOutPolicyStateSchema)
def set_policy(payload, code):
    """Open or close cash-out and set its limits (administrators of the programme's area)."""
    policy = cash_out.set_policy(db.session, current_actor(), code, **payload)
    commit()
    return policy


@blp.route("/programmes/<code>/cash-outs", methods=["POST"])
@actor_required("volunteer")
@blp.arguments(CashOutRequestSchema)
@blp.response(201, CashOutSchema)
@blp.alt_response(409, schema=ErrorSchema,
                  description="insufficient_points, insufficient_funds, limit_reached, "
                  "conflict (cash-out disabled), idempotency_conflict")
@blp.doc(parameters=IDEMPOTENT)
def request_cash_out(payload, code):
    """Exchange points for money at the programme's rate (fen = points × 100 / rate); the
    amount must convert to whole fen."""
    actor = current_actor()

    def work():
        return CashOutSchema().dump(cash_out.request_cash_out(
            db.session, actor, code, payload["amount_points"],
            idempotency_key(actor, "cash_out")))

    return run_once(actor, "cash_out", payload, work, status=201)


@blp.route("/me/cash-outs", methods=["GET"])
@actor_required()
@blp.response(200, CashOutSchema(many=True))
def my_cash_outs():
    return cash_out.requests_of(db.session, current_actor())


@blp.route("/cash-outs", methods=["GET"])
@actor_required("admin")
@blp.arguments(CashOutArgsSchema, location="query")
@blp.response(200, CashOutSchema(many=True))
def cash_out_queue(args):
    """Cash-outs in the caller's areas: pending oldest first, or paid newest first."""
    return cash_out.queue(db.session, current_actor(), args["status"])


@blp.route("/cash-outs/<int:request_id>", methods=["GET"])
@actor_required()
@blp.response(200, CashOutSchema)
def get_cash_out(request_id):
    return cash_out.get_request(db.session, current_actor(), request_id)


@blp.route("/cash-outs/<int:request_id>/paid", methods=["POST"])
@actor_required("admin")
@blp.arguments(CashOutPaidSchema)
@blp.response(200, CashOutSchema)
@blp.alt_response(409, schema=ErrorSchema,
                  description="conflict: already paid; idempotency_conflict")
@blp.doc(parameters=IDEMPOTENT)
def mark_paid(payload, request_id):
    """Record that the money was paid out of band, with its transfer reference. A retry with
    the same Idempotency-Key and reference answers as the first time."""
    actor = current_actor()
    purpose = f"cash_out_paid:{request_id}"

    def work():
        return CashOutSchema().dump(cash_out.mark_paid(
            db.session, actor, request_id, payload["payout_reference"],
            request_key(actor, purpose)))

    return run_once(actor, purpose, payload, work)


# --- card funding ---------------------------------------------------------------------------


@blp.route("/programmes/<code>/card-funding", methods=["POST"])
@actor_required()
@blp.arguments(CardFundingRequestSchema)
@blp.response(201, CardFundingSchema)
@blp.alt_response(503, schema=ErrorSchema, description="card_funding_unavailable")
@blp.doc(parameters=IDEMPOTENT)
def start_card_funding(payload, code):
    """A Stripe Checkout Session funding the programme; send the payer to checkout_url. The
    funding is posted when Stripe's webhook confirms the payment. Open to anyone signed in
    (a sponsor or an administrator: there is no sponsor role, and a payment can only add
    to the fund); the payer is recorded with the session."""
    actor = current_actor()
    success_url, cancel_url = card_urls(code)
    purpose = f"card:{code}:{payload['amount_fen']}"

    def work():
        return CardFundingSchema().dump(funding.start_card_funding(
            db.session, actor, stripe_settings(), code, payload["amount_fen"],
            payload.get("sponsor_name", ""), success_url=success_url, cancel_url=cancel_url,
            request_key=idempotency_key(actor, purpose), fund_source=payload.get("fund_source")))

    return run_once(actor, purpose, payload, work, status=201)
