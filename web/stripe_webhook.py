"""``POST /stripe/webhook``: Stripe's signed events about Checkout Sessions.

Answers (JSON): 200 for every verified event, including one for a session this app never
created (recorded as ``unknown_session`` and ignored, so Stripe stops retrying) and a retry of
an event already processed (answered as the first time, posting nothing); 400
``invalid_signature`` for a missing, wrong or stale signature (older than five minutes), with
nothing recorded; 409 ``conflict`` when the paid amount or currency differs from the session
the app created (recorded, nothing posted); 503 ``card_funding_unavailable`` without Stripe
keys. Exempt from CSRF: Stripe's signature is the authentication.
"""

from __future__ import annotations

from flask import Blueprint, jsonify, request
from sqlalchemy.exc import IntegrityError

from payments import funding
from payments.errors import CardFundingUnavailable

from .extensions import csrf, db
from .pages.payments import stripe_settings
from .transactions import commit

bp = Blueprint("stripe_webhook", __name__)
MAX_WEBHOOK_BYTES = 512 * 1024


@bp.route("/stripe/webhook", methods=["POST"])
@csrf.exempt
def webhook():
    payload = request.get_data(cache=False)
    if len(payload) > MAX_WEBHOOK_BYTES:
        return _refuse(413, "payload_too_large", "the event is too large")
    signature = request.headers.get("Stripe-Signature")
    try:
        try:
            outcome = funding.handle_webhook(db.session, stripe_settings(), payload, signature)
            commit()
        except IntegrityError:
            # The same event delivered twice at once: the twin recorded it first. Asked
            # again, the event is found and answered as the twin answered.
            db.session.rollback()
            outcome = funding.handle_webhook(db.session, stripe_settings(), payload, signature)
            commit()
    except (funding.InvalidSignature, CardFundingUnavailable) as error:
        return _refuse(error.status, error.code, error.message)
    if outcome.status == 409:
        return _refuse(409, "conflict", "the paid amount differs from the checkout session; "
                       "nothing was posted")
    return jsonify({"received": True, "event": outcome.event_id, "outcome": outcome.outcome})


def _refuse(status: int, code: str, message: str):
    db.session.rollback()
    return jsonify({"code": code, "message": message}), status
