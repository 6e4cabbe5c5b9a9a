"""Funding a programme by card through Stripe Checkout.

The app creates a Checkout Session (currency cny, amount in fen, the programme's code in the
metadata) with the real ``stripe`` library and sends the payer to Stripe. Stripe then calls
the webhook with a signed ``checkout.session.completed`` event; once it is verified, the
funding is posted exactly once per session (ledger key ``stripe:<session id>:funding``)
through ``volunteers.programmes.fund_programme``, for the amount stored when the session was
created and never for another. Every verified event is recorded, so a retry is answered as
the first delivery was.
"""

from __future__ import annotations

from dataclasses import dataclass

import stripe
from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger.clock import now
from volunteers import fund_sources
from volunteers.errors import Invalid, NotFound
from volunteers.models import User
from volunteers.programmes import fund_programme, get_programme

from .errors import CardFundingUnavailable, PaymentProviderError
from .models import CardFundingSession, StripeEvent
from .rules import lock_row

CURRENCY = "cny"
# Stripe's smallest charge in CNY is ¥4.00; the largest we accept is a generous ceiling.
MIN_CARD_FEN = 400
MAX_CARD_FEN = 100_000_000
MAX_SPONSOR_LENGTH = 120
STRIPE_NETWORK_RETRIES = 2
# Stripe's default: a signature older than five minutes is a replay.
SIGNATURE_TOLERANCE_SECONDS = 300
PAID_EVENTS = ("checkout.session.completed", "checkout.session.async_payment_succeeded")


@dataclass(frozen=True)
class StripeSettings:
    secret_key: str | None
    webhook_secret: str | None
    api_base: str | None = None

    @property
    def configured(self) -> bool:
        return bool(self.secret_key and self.webhook_secret)

    def client(self) -> stripe.StripeClient:
        """A client of its own instead of the module's globals (stripe.api_key,
        stripe.api_base): the base address comes from STRIPE_API_BASE when set, which is
        how the tests point the real library at a local fake."""
        if not self.configured:
            raise CardFundingUnavailable("card funding is not configured")
        addresses = {"api": self.api_base.rstrip("/")} if self.api_base else None
        return stripe.StripeClient(self.secret_key, base_addresses=addresses,
                                   max_network_retries=STRIPE_NETWORK_RETRIES)


class InvalidSignature(Invalid):
    """The webhook's signature does not verify (wrong secret, altered body, stale)."""

    code = "invalid_signature"
    status = 400


@dataclass(frozen=True)
class WebhookOutcome:
    """What a webhook delivery did; ``status`` is the HTTP status to answer Stripe with."""

    event_id: str
    outcome: str
    status: int
    entry_id: int | None = None


# --- starting a payment ---------------------------------------------------------------------


def start_card_funding(
    session: Session,
    actor: User,
    settings: StripeSettings,
    programme_code: str,
    amount_fen: int,
    sponsor_name: str,
    *,
    success_url: str,
    cancel_url: str,
    request_key: str,
    fund_source: str | None = None,
) -> CardFundingSession:
    """A Checkout Session for this programme and amount; the caller redirects to its URL.

    Who: anyone signed in. The issue says "a sponsor or the administrator funds a
    programme", and there is no sponsor role (``volunteers.models.ROLES``): a sponsor is
    whoever pays, often from outside the programme's area. Starting a session moves nothing;
    only Stripe's verified webhook posts, for the stored amount, and a payment can only add
    to the fund. The payer is recorded (``created_by_id``, ``metadata.user_id``) with the
    sponsor's name."""
    programme = get_programme(session, programme_code)
    sponsor_name = (sponsor_name or "").strip() or actor.display_name
    if isinstance(amount_fen, bool) or not isinstance(amount_fen, int) or not (
            MIN_CARD_FEN <= amount_fen <= MAX_CARD_FEN):
        raise Invalid("the amount is not valid", errors={
            "amount_fen": [f"a whole number of fen from {MIN_CARD_FEN} to {MAX_CARD_FEN}"]})
    if len(sponsor_name) > MAX_SPONSOR_LENGTH:
        raise Invalid("the sponsor's name is too long",
                      errors={"sponsor_name": [f"at most {MAX_SPONSOR_LENGTH} characters"]})
    fund_sources.account_for_funding(session, programme, fund_source)  # refuses an unknown one
    params = {
        "mode": "payment",
        "line_items": [{
            "quantity": 1,
            "price_data": {"currency": CURRENCY, "unit_amount": amount_fen,
                           "product_data": {"name": f"{programme.name} 社治激励资金"}},
        }],
        "metadata": {"programme": programme.code, "sponsor": sponsor_name,
                     "user_id": str(actor.id)},
        "client_reference_id": programme.code,
        "success_url": success_url,
        "cancel_url": cancel_url,
    }
    try:
        checkout = settings.client().v1.checkout.sessions.create(
            params=params, options={"idempotency_key": request_key})
    except stripe.StripeError as error:
        raise PaymentProviderError(f"Stripe refused the checkout session: {error}") from error
    if checkout.amount_total != amount_fen or (checkout.currency or "").lower() != CURRENCY:
        raise PaymentProviderError("Stripe answered with another amount or currency")
    existing = session.scalar(select(CardFundingSession)
                              .where(CardFundingSession.stripe_session_id == checkout.id))
    if existing is not None:
        return existing
    funding = CardFundingSession(
        programme=programme, stripe_session_id=checkout.id, amount_fen=amount_fen,
        currency=CURRENCY, sponsor_name=sponsor_name, status="open", checkout_url=checkout.url,
        fund_source=fund_source or None,
        created_by_id=actor.id, created_at=now(),
    )
    session.add(funding)
    session.flush()
    return funding


def get_funding_session(session: Session, actor: User, stripe_session_id: str):
    funding = session.scalar(select(CardFundingSession)
                             .where(CardFundingSession.stripe_session_id == stripe_session_id))
    if funding is None or funding.created_by_id != actor.id:
        raise NotFound("no such card payment")
    return funding


def recent_card_fundings(session: Session, programme_ids, limit: int = 20):
    return session.scalars(
        select(CardFundingSession).where(CardFundingSession.programme_id.in_(programme_ids))
        .order_by(CardFundingSession.id.desc()).limit(limit)
    ).all()


# --- the webhook ----------------------------------------------------------------------------


def handle_webhook(session: Session, settings: StripeSettings, payload: bytes,
                   signature_header: str | None) -> WebhookOutcome:
    """Verify and apply one webhook delivery. A bad signature raises InvalidSignature and
    records nothing; everything verified is recorded once, whatever it did."""
    if not settings.configured:
        raise CardFundingUnavailable("card funding is not configured")
    try:
        event = stripe.Webhook.construct_event(payload, signature_header,
                                               settings.webhook_secret,
                                               tolerance=SIGNATURE_TOLERANCE_SECONDS)
    except stripe.SignatureVerificationError as error:
        raise InvalidSignature(f"the Stripe signature does not verify: {error}") from error
    except ValueError as error:
        raise InvalidSignature("the webhook body is not a Stripe event") from error
    seen = session.scalar(select(StripeEvent).where(StripeEvent.event_id == event.id))
    if seen is not None:
        return WebhookOutcome(event.id, seen.outcome, _status(seen.outcome))
    checkout = event.data.object.to_dict() if event.type in PAID_EVENTS else None
    outcome, entry_id = "ignored", None
    if checkout is not None:
        outcome, entry_id = _apply_paid_checkout(session, checkout)
    session.add(StripeEvent(event_id=event.id, type=event.type, outcome=outcome,
                            stripe_session_id=checkout.get("id") if checkout else None,
                            received_at=now()))
    session.flush()
    return WebhookOutcome(event.id, outcome, _status(outcome), entry_id)


def _apply_paid_checkout(session: Session, checkout) -> tuple[str, int | None]:
    if checkout.get("payment_status") != "paid":
        return "not_paid", None
    funding = lock_row(session, select(CardFundingSession)
                       .where(CardFundingSession.stripe_session_id == checkout.get("id")))
    if funding is None:
        return "unknown_session", None
    if (checkout.get("amount_total") != funding.amount_fen
            or (checkout.get("currency") or "").lower() != funding.currency):
        return "amount_mismatch", None
    if funding.status == "paid":
        return "duplicate_session", funding.entry_id
    result = fund_programme(
        session, None, funding.programme.code, funding.amount_fen,
        f"Stripe {funding.stripe_session_id} · {funding.sponsor_name}",
        f"stripe:{funding.stripe_session_id}:funding", funding.fund_source,
    )
    funding.status, funding.paid_at, funding.entry_id = "paid", now(), result.entry_id
    session.flush()
    return "funded", result.entry_id


def _status(outcome: str) -> int:
    """Everything is acknowledged with 200 so Stripe stops retrying, except an amount that
    differs from the session we created: that is refused (409) and stays visible in
    Stripe's dashboard as a failed delivery."""
    return 409 if outcome == "amount_mismatch" else 200
