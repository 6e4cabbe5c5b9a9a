"""Builders for the payment tests: points in a wallet, cash-out limits, a published cause."""

from __future__ import annotations

import ledger
from volunteers import programmes, users

AWARD_CHUNK_POINTS = 100  # the test programme's approval threshold: larger awards wait


def give_points(app, world, name: str, amount_points: int, tag: str = "gift") -> None:
    """Awards through the programme service, in chunks that post without a second admin."""
    from web.extensions import db

    with app.app_context():
        session = db.session
        admin = users.get_user(session, world.ids["root_admin"])
        number = 0
        while amount_points > 0:
            chunk = min(amount_points, AWARD_CHUNK_POINTS)
            programmes.request_award(session, admin, world.programme, world.ids[name], chunk,
                                     "测试奖励", f"test:{tag}:{name}:{number}")
            amount_points -= chunk
            number += 1
        session.commit()
        ledger.seal_all(session)
        session.remove()


def available(app, account: str) -> int:
    from web.extensions import db

    with app.app_context():
        try:
            return ledger.balance(db.session, account).available
        finally:
            db.session.remove()


def publish_cause(api, as_="xindu_admin", programme="fengxingxia", **changes) -> dict:
    body = {"area": "sanyuan", "kind": "family_in_need", "title": "三元社区困难家庭：张婆婆过冬",
            "story": "独居老人，需要棉被和取暖器。", "target_points": 100}
    body.update(changes)
    response = api.post(f"/programmes/{programme}/causes", as_=as_, json=body)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def open_cash_out(api, minimum_points=10, monthly_maximum_points=200, enabled=True,
                  programme="fengxingxia", as_="xindu_admin") -> dict:
    response = api.request("PUT", f"/programmes/{programme}/cash-out-policy", as_=as_, json={
        "enabled": enabled, "minimum_points": minimum_points,
        "monthly_maximum_points": monthly_maximum_points})
    assert response.status_code == 200, response.get_json()
    return response.get_json()
