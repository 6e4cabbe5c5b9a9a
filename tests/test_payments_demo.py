"""The payments demo: causes with donations, a paid and a pending cash-out, loaded once."""

from __future__ import annotations

from sqlalchemy import func, select

import ledger
from payments import demo as demo_payments
from payments.models import CashOutRequest, Donation, DonationCause
from volunteers import demo


def counts(session) -> tuple:
    return tuple(session.scalar(select(func.count()).select_from(model))
                 for model in (DonationCause, Donation, CashOutRequest, ledger.Entry))


def test_the_demo_loads_causes_donations_and_cash_outs_once(session):
    demo.load(session)
    assert demo_payments.load(session) is True
    session.commit()
    causes = session.scalars(select(DonationCause).order_by(DonationCause.id)).all()
    assert [c.kind for c in causes] == ["family_in_need", "student_aid", "family_in_need"]
    assert all(0 < c.raised_points < c.target_points for c in causes)
    assert sum(c.raised_points for c in causes) + 5 == session.scalar(
        select(func.sum(Donation.amount_points)))  # one donation went to the pool
    requests = session.scalars(select(CashOutRequest).order_by(CashOutRequest.id)).all()
    assert [r.status for r in requests] == ["paid", "pending"]
    assert requests[0].payout_reference.startswith("微信转账")
    first = counts(session)
    demo.load(session)
    assert demo_payments.load(session) is False
    session.commit()
    assert counts(session) == first
    ledger.seal_all(session)
    session.commit()
    assert ledger.verify(session).ok
