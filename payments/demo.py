"""Demo data for donations and cash-out, on top of ``volunteers.demo``: causes in 大丰街道 and
五华 (困难家庭, 助学) with some riders' donations, cash-out opened for 丰行侠 with one request
paid and one waiting. Loading twice adds nothing; the caller commits."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

import ledger
from volunteers import users

from . import cash_out, donations
from .models import DonationCause

CAUSES = (
    # key, programme, area, kind, title, story, target points, publisher
    ("zhang", "fengxingxia", "sanyuan", "family_in_need", "三元社区困难家庭：独居老人张婆婆过冬",
     "张婆婆今年 82 岁，独自住在蜀龙大道旁的老院子里，老伴去年过世，子女在外地务工。"
     "入冬后屋里阴冷，社区想为她添置一床厚棉被和一台取暖器。", 120, "xindu_admin"),
    ("xiaoyu", "fengxingxia", "nanfeng", "student_aid", "南丰社区助学：高二学生小雨的学习用品",
     "小雨父亲因工伤卧床，母亲在菜市场打零工。她成绩优异，想要一套高三复习资料和一盏护眼台灯。",
     80, "xindu_admin"),
    ("li", "wuhua-jindou", "cuihu", "family_in_need", "翠湖社区困难家庭：因病致困的李师傅一家",
     "李师傅患尿毒症需每周透析，妻子照顾他无法外出工作。志愿者们想帮这个家庭渡过难关。",
     1500, "cuihu_organiser"),
)
# (cause key or None for the pool, donor, points)
DONATIONS = (
    ("zhang", "rider01", 8), ("zhang", "rider04", 5), ("zhang", "rider07", 10),
    ("xiaoyu", "rider02", 6), ("xiaoyu", "rider05", 4), (None, "rider03", 5),
    ("li", "volunteer01", 30), ("li", "volunteer02", 20), ("li", "volunteer05", 25),
)
CASH_OUT_MINIMUM_POINTS = 10
CASH_OUT_MONTHLY_MAXIMUM_POINTS = 100


def load(session: Session) -> bool:
    """Returns whether anything was created."""
    if session.scalar(select(DonationCause.id).where(DonationCause.title == CAUSES[0][4])):
        return False
    admin = users.find_user(session, "admin")
    if admin is None:
        return False
    causes = {}
    for key, programme, area, kind, title, story, target, publisher in CAUSES:
        actor = users.find_user(session, publisher)
        causes[key] = donations.publish_cause(session, actor, programme, area, kind, title,
                                              story, target)
    for number, (key, donor_name, points) in enumerate(DONATIONS):
        donor = users.find_user(session, donor_name)
        if donor is None or _available(session, donor) < points:
            continue
        cause = causes.get(key)
        donations.donate(session, donor, points, f"demo:donation:{number}",
                         cause_id=cause.id if cause else None,
                         programme_code=None if cause else "fengxingxia",
                         message="一点心意" if number % 3 == 0 else None)
    cash_out.set_policy(session, admin, "fengxingxia", enabled=True,
                        minimum_points=CASH_OUT_MINIMUM_POINTS,
                        monthly_maximum_points=CASH_OUT_MONTHLY_MAXIMUM_POINTS)
    requests = []
    for donor_name in ("rider06", "rider08", "rider09", "rider10", "rider11"):
        rider = users.find_user(session, donor_name)
        if rider is not None and _available(session, rider) >= CASH_OUT_MINIMUM_POINTS:
            requests.append(cash_out.request_cash_out(
                session, rider, "fengxingxia", CASH_OUT_MINIMUM_POINTS,
                f"demo:cash_out:{donor_name}"))
        if len(requests) == 2:
            break
    if requests:
        cash_out.mark_paid(session, users.find_user(session, "xindu_admin"), requests[0].id,
                           "微信转账 4200001234202611300001")
    return True


def _available(session: Session, user) -> int:
    try:
        return ledger.balance(session, user.wallet_code).available
    except ledger.UnknownAccount:
        return 0
