"""Activity categories (the 志愿圈圈 system has 35) and each programme's earning rules."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from volunteers import access, audit
from volunteers.errors import Invalid, NotFound
from volunteers.models import Programme, User

from .models import ActivityCategory, ProgrammeEarningRule

DEFAULT_POINTS_PER_HOUR = 10
DEFAULT_DAILY_CHECKIN_POINTS = 1
MAX_POINTS_PER_HOUR = 1_000
MAX_DAILY_CHECKIN_POINTS = 100

# (code, name): the categories of 昆明五华 志愿圈圈's activity catalogue.
CATEGORIES = (
    ("civilisation", "文明实践"),
    ("elderly-disabled", "助老助残"),
    ("environment", "环境整治"),
    ("drill", "应急演练"),
    ("culture", "文化文艺"),
    ("traffic", "文明交通"),
    ("garbage-sorting", "垃圾分类"),
    ("epidemic", "疫情防控"),
    ("community-patrol", "平安巡逻"),
    ("anti-fraud", "反诈宣传"),
    ("legal-aid", "法律援助"),
    ("health", "健康义诊"),
    ("blood-donation", "无偿献血"),
    ("education", "助学支教"),
    ("children", "关爱儿童"),
    ("left-behind", "关爱留守"),
    ("veterans", "拥军优属"),
    ("disaster", "应急救援"),
    ("fire-safety", "消防安全"),
    ("food-safety", "食品安全"),
    ("ecology", "生态保护"),
    ("greening", "植树护绿"),
    ("river", "河湖巡护"),
    ("conflict", "矛盾调解"),
    ("policy", "政策宣讲"),
    ("party", "党建活动"),
    ("neighbourhood", "邻里互助"),
    ("poverty", "扶贫帮困"),
    ("sports", "全民健身"),
    ("reading", "全民阅读"),
    ("tourism", "文明旅游"),
    ("big-event", "大型赛会"),
    ("digital", "数字助老"),
    ("psychological", "心理关爱"),
    ("other", "其他服务"),
)


def ensure_categories(session: Session) -> list[ActivityCategory]:
    existing = {c.code: c for c in session.scalars(select(ActivityCategory))}
    for order, (code, name) in enumerate(CATEGORIES, start=1):
        if code not in existing:
            existing[code] = ActivityCategory(code=code, name=name, sort_order=order)
            session.add(existing[code])
    session.flush()
    return all_categories(session)


def all_categories(session: Session) -> list[ActivityCategory]:
    return list(session.scalars(select(ActivityCategory).order_by(ActivityCategory.sort_order,
                                                                  ActivityCategory.id)))


def get_category(session: Session, code: str) -> ActivityCategory:
    category = session.scalar(select(ActivityCategory).where(ActivityCategory.code == code))
    if category is None:
        raise Invalid(f"no category {code}", errors={"category": ["unknown category"]})
    return category


def earning_rule(session: Session, programme: Programme) -> ProgrammeEarningRule:
    """The programme's rule, or an unsaved one with the defaults."""
    rule = session.get(ProgrammeEarningRule, programme.id)
    if rule is None:
        rule = ProgrammeEarningRule(programme_id=programme.id,
                                    points_per_hour=DEFAULT_POINTS_PER_HOUR,
                                    daily_checkin_points=DEFAULT_DAILY_CHECKIN_POINTS)
    return rule


def set_earning_rule(session: Session, actor: User, programme_code: str, *,
                     points_per_hour: int | None = None,
                     daily_checkin_points: int | None = None) -> ProgrammeEarningRule:
    programme = session.scalar(select(Programme).where(Programme.code == programme_code))
    if programme is None:
        raise NotFound(f"no programme {programme_code}", programme=programme_code)
    access.require(actor, ("admin",), programme.area)
    rule = earning_rule(session, programme)
    fields = ("points_per_hour", "daily_checkin_points")
    before = audit.snapshot(rule, fields) if rule in session else None
    if points_per_hour is not None:
        if not 0 <= points_per_hour <= MAX_POINTS_PER_HOUR:
            raise Invalid("bad rate", errors={"points_per_hour": [f"0 to {MAX_POINTS_PER_HOUR}"]})
        rule.points_per_hour = points_per_hour
    if daily_checkin_points is not None:
        if not 0 <= daily_checkin_points <= MAX_DAILY_CHECKIN_POINTS:
            raise Invalid("bad reward", errors={
                "daily_checkin_points": [f"0 to {MAX_DAILY_CHECKIN_POINTS}"]})
        rule.daily_checkin_points = daily_checkin_points
    session.add(rule)
    session.flush()
    audit.record(session, actor, "earning_rule.update", f"programme:{programme.code}", before,
                 audit.snapshot(rule, fields), area=programme.area)
    return rule
