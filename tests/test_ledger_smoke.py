import ledger
from tests import factories


def test_award_moves_points_into_wallet(session):
    code = factories.wallet(session, 1, points=100)
    session.commit()
    assert ledger.balance(session, code).posted == 100
    assert ledger.balance(session, "world:points").posted == -100
