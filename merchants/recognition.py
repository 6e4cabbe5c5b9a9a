"""Star merchants (明星商家): the programme's merchants by the points they accepted in
redeemed vouchers in the year. Registered into ``honours.stars`` when this package is
imported (``volunteers`` never imports ``merchants``)."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from honours import ranking, stars
from volunteers.models import Programme

from .models import Merchant, Redemption

DEFAULT_MERCHANT_CRITERIA = {"count": 3, "min_vouchers": 1}


def accepted_in_year(session: Session, programme: Programme,
                     year: int) -> list[tuple[int, str, int, int]]:
    """(merchant id, name, vouchers redeemed, points accepted) for the programme's active
    merchants with redemptions in the China-time year."""
    start, end = ranking.year_bounds(year)
    query = (select(Merchant.id, Merchant.name, func.count(Redemption.id),
                    func.sum(Redemption.price_points))
             .join(Redemption, Redemption.merchant_id == Merchant.id)
             .where(Merchant.programme_id == programme.id, Merchant.active.is_(True),
                    Redemption.redeemed_at >= start, Redemption.redeemed_at < end)
             .group_by(Merchant.id, Merchant.name))
    return [(merchant_id, name, int(vouchers), int(points or 0))
            for merchant_id, name, vouchers, points in session.execute(query)]


def merchant_candidates(session: Session, programme: Programme, year: int,
                        criteria: dict) -> list[tuple[int, str, int]]:
    """Scored by points accepted; ``min_vouchers`` and ``min_points`` leave out the small."""
    least_vouchers = criteria.get("min_vouchers", DEFAULT_MERCHANT_CRITERIA["min_vouchers"])
    least_points = criteria.get("min_points", 1)
    return [(merchant_id, name, points)
            for merchant_id, name, vouchers, points in accepted_in_year(session, programme, year)
            if vouchers >= least_vouchers and points >= least_points]


stars.register_source("merchant", merchant_candidates, "points_accepted",
                      DEFAULT_MERCHANT_CRITERIA)
