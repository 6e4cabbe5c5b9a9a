"""Demo payment details: every volunteer (riders, volunteers, residents) an Alipay account,
every merchant a bank account, so a demo payout run exports every line. Made-up numbers in
ranges no real account uses; the admin is recorded as having entered them. Loading twice adds
nothing; the caller commits."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from merchants.models import Merchant
from volunteers import users
from volunteers.models import RoleGrant, User

from . import details
from .models import PaymentDetails


def load(session: Session) -> int:
    """Returns how many payees were given details."""
    admin = users.find_user(session, "admin")
    if admin is None or session.scalar(select(PaymentDetails.id).limit(1)) is not None:
        return 0
    given = 0
    volunteers = session.scalars(
        select(User).join(RoleGrant, RoleGrant.user_id == User.id)
        .where(RoleGrant.role == "volunteer").order_by(User.id)).unique()
    for number, person in enumerate(volunteers, 1):
        details.set_details(session, admin, "volunteer", person.id, channel="alipay",
                            account_name=person.display_name,
                            account=f"1990000{number:04d}")
        given += 1
    for merchant in session.scalars(select(Merchant).order_by(Merchant.id)):
        details.set_details(session, admin, "merchant", merchant.id, channel="bank",
                            account_name=merchant.name,
                            account=f"62220299{merchant.id:011d}", bank_name="成都农商银行")
        given += 1
    return given
