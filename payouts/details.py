"""Payees' payment details: set (a new version, the old one replaced; the versions are the
log of changes), read masked, and opened only to write a batch-transfer file."""

from __future__ import annotations

import re

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from ledger.clock import now
from merchants import offers
from volunteers import access
from volunteers.errors import Invalid
from volunteers.models import User

from . import crypto
from .models import CHANNELS, PaymentDetails

MAX_NAME = 60
MAX_ACCOUNT = 64
MAX_BANK = 60
ACCOUNT_PATTERNS = {
    # An Alipay account is a phone number or an e-mail address.
    "alipay": re.compile(r"^(1\d{10}|[^@\s]{1,64}@[^@\s]{1,64}\.[A-Za-z]{2,})$"),
    # WeChat Pay pays a user's openid (under the office's app id).
    "wechat": re.compile(r"^[A-Za-z0-9_-]{6,64}$"),
    # A bank card: 12 to 19 digits (spaces allowed).
    "bank": re.compile(r"^\d{12,19}$"),
}


def set_details(session: Session, actor: User, owner_type: str, owner_id: int, *,
                channel: str, account_name: str, account: str,
                bank_name: str | None = None) -> PaymentDetails:
    """A new version of a payee's details (flushes). Checks the channel's account form."""
    channel = (channel or "").strip()
    account_name = (account_name or "").strip()
    account = (account or "").strip()
    if channel == "bank":
        account = account.replace(" ", "")
    problems = {}
    if channel not in CHANNELS:
        problems["channel"] = [", ".join(CHANNELS)]
    if not 0 < len(account_name) <= MAX_NAME:
        problems["account_name"] = [f"1 to {MAX_NAME} characters"]
    if not 0 < len(account) <= MAX_ACCOUNT or (
            channel in ACCOUNT_PATTERNS and not ACCOUNT_PATTERNS[channel].match(account)):
        problems["account"] = [{"alipay": "a phone number or e-mail address",
                                 "wechat": "an openid", "bank": "12 to 19 digits"}.get(
                                     channel, "an account")]
    if bank_name is not None and len(bank_name.strip()) > MAX_BANK:
        problems["bank_name"] = [f"at most {MAX_BANK} characters"]
    if problems:
        raise Invalid("the payment details are not valid", errors=problems)
    moment = now()
    session.execute(update(PaymentDetails).where(
        PaymentDetails.owner_type == owner_type, PaymentDetails.owner_id == owner_id,
        PaymentDetails.replaced_at.is_(None)).values(replaced_at=moment)
        .execution_options(synchronize_session=False))
    details = PaymentDetails(
        owner_type=owner_type, owner_id=owner_id, channel=channel,
        sealed=crypto.seal({"name": account_name, "account": account,
                            "bank": (bank_name or "").strip()}),
        masked_name=crypto.mask_name(account_name), masked_account=crypto.mask_account(account),
        created_at=moment, created_by_id=actor.id)
    session.add(details)
    session.flush()
    return details


def set_own(session: Session, actor: User, **fields) -> PaymentDetails:
    access.require(actor, ("volunteer",))
    return set_details(session, actor, "volunteer", actor.id, **fields)


def set_merchants(session: Session, actor: User, merchant_id: int, **fields) -> PaymentDetails:
    """A merchant's own staff, or an administrator over its area."""
    merchant = offers.get_merchant(session, merchant_id)
    offers.require_staff_or_admin(session, actor, merchant)
    return set_details(session, actor, "merchant", merchant.id, **fields)


def current(session: Session, owner_type: str, owner_id: int) -> PaymentDetails | None:
    return session.scalar(select(PaymentDetails).where(
        PaymentDetails.owner_type == owner_type, PaymentDetails.owner_id == owner_id,
        PaymentDetails.replaced_at.is_(None)))


def history(session: Session, owner_type: str, owner_id: int) -> list[PaymentDetails]:
    """Every version, newest first: who changed the details and when (masked)."""
    return list(session.scalars(select(PaymentDetails).where(
        PaymentDetails.owner_type == owner_type, PaymentDetails.owner_id == owner_id)
        .order_by(PaymentDetails.id.desc()).limit(50)))


def masked(details: PaymentDetails | None) -> dict | None:
    if details is None:
        return None
    return {"channel": details.channel, "account_name": details.masked_name,
            "account": details.masked_account, "updated_at": details.created_at}


def opened(details: PaymentDetails) -> dict:
    """The clear name, account and bank: for a batch-transfer file only."""
    return crypto.unseal(details.sealed)
