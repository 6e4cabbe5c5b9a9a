"""What merchants ask of the area tree: an area whose merchants have live offers (open, not
ended) cannot close."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger.clock import now
from volunteers import areas
from volunteers.models import Area

from .models import Merchant, Offer


def live_offers(session: Session, area: Area):
    found = session.scalar(
        select(Offer.id).join(Merchant, Merchant.id == Offer.merchant_id)
        .join(Area, Area.id == Merchant.area_id)
        .where(Area.path.startswith(area.path, autoescape=True), Offer.active.is_(True),
               Offer.valid_until > now()).limit(1))
    if found is not None:
        return "area_has_live_offers", f"area {area.code} has live offers (offer {found})"
    return None


def register() -> None:
    if live_offers not in areas.CLOSE_GUARDS:
        areas.CLOSE_GUARDS.append(live_offers)


register()
