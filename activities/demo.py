"""Demo data for service hours and micro-wishes in 昆明五华 (翠湖社区) and 成都新都 (三元社区):
the 35 categories, earning rules, teams, past activities with approved hours, upcoming ones,
wishes in every state, party members and a few daily check-ins. Built on the users of
``volunteers.demo``; loading twice adds nothing."""

from __future__ import annotations

import io
from datetime import timedelta

from PIL import Image, ImageDraw
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from ledger.clock import CHINA, now
from volunteers import teams, users
from volunteers.demo import DEMO_PASSWORD
from volunteers.models import User

from . import catalogue, checkin, daily, duty, hours, planning, signups, wishes
from .models import Activity, Signup
from .planning import ActivityDraft
from .wishes import WishDraft

DEMO_KEY = b"jindou-demo-checkin-key"
EXTRA_STAFF = (("dafeng_organiser", "大丰街道组织者 刘洋", "organiser", "dafeng"),)

# title, category, area, venue, (lat, lng), days from today, start hour, hours, seats,
# attendees (user names, minutes served; None = keep the counted time)
ACTIVITIES = (
    ("翠湖公园环境整治", "environment", "cuihu", "翠湖公园北门", (25.0480, 102.7050), -14, 9, 3, 20,
     [("volunteer01", None), ("volunteer03", None), ("volunteer05", None),
      ("volunteer07", None), ("volunteer09", None), ("volunteer11", 150)]),
    ("敬老院助老陪伴", "elderly-disabled", "cuihu", "五华区社会福利院", None, -7, 14, 2, 10,
     [("volunteer01", None), ("volunteer02", None), ("volunteer13", 90)]),
    ("蜀龙大道文明交通劝导", "traffic", "sanyuan", "蜀龙大道与大丰大道路口",
     (30.8232, 104.1587), -5, 8, 2, 12,
     [("rider01", None), ("rider02", None), ("rider04", None), ("rider07", 100)]),
    ("社区消防应急演练", "drill", "cuihu", "翠湖社区党群服务中心", (25.0466, 102.7068), 3, 9, 3,
     30, []),
    ("垃圾分类入户宣传", "garbage-sorting", "cuihu", "翠湖南路小区", None, 1, 15, 2, 15, []),
    ("华山街道文艺汇演志愿服务", "culture", "cuihu", "华山街道文化站", None, 10, 18, 4, 25, []),
    ("三元社区反诈宣传", "anti-fraud", "sanyuan", "三元社区广场", (30.8240, 104.1601), 2, 10, 2, 8,
     []),
)
PARTY_MEMBERS = (("volunteer01", "in_service"), ("volunteer02", "resident"),
                 ("volunteer03", "in_service"), ("rider02", "in_service"))
# title, resident, story, needs, area, points, state, claimer
WISHES = (
    ("为独居老人更换客厅灯泡", "王秀英", "王奶奶 82 岁独居，客厅灯坏了一周，晚上只能摸黑。",
     "一个 LED 灯泡并上门更换", "cuihu", 15, "open", None),
    ("陪李爷爷去医院复查", "李建华", "李爷爷术后需要每月复查，子女在外地工作。",
     "周三上午陪同去省人民医院", "cuihu", 30, "claimed", "volunteer03"),
    ("给留守儿童辅导作业", "张小明", "小明父母在外务工，数学作业常常没人辅导。",
     "每周两次、每次一小时的作业辅导", "cuihu", 40, "fulfilled", "volunteer05"),
    ("为困难家庭送米面油", "赵桂英", "赵阿姨家中两位老人常年卧病。",
     "一袋大米、一桶食用油", "cuihu", 25, "confirmed", "volunteer07"),
    ("修理轮椅刹车", "周德明", "周爷爷的轮椅刹车失灵，出门不安全。",
     "懂维修的志愿者上门修理", "cuihu", 20, "abandoned", "volunteer09"),
    ("帮残障居民网上缴纳水电费", "陈平", "陈叔叔视力不好，不会用手机缴费。",
     "教会使用手机缴费", "sanyuan", 15, "open", None),
    ("为高龄老人清理阳台杂物", "刘桂兰", "刘奶奶阳台堆满杂物，存在消防隐患。",
     "两三名志愿者搬运清理", "sanyuan", 30, "confirmed", "rider01"),
)


def load(session: Session) -> list[tuple[str, str, str]]:
    """Build the demo once (after ``volunteers.demo.load``); returns extra demo accounts."""
    listing = [(name, role, area) for name, _display, role, area in EXTRA_STAFF]
    if session.scalar(select(Activity.id).limit(1)) is not None:
        return listing
    people = {u.username: u for u in session.scalars(select(User))}
    for name, display, role, area in EXTRA_STAFF:
        people[name] = users.find_user(session, name) or users.create_user(
            session, name, DEMO_PASSWORD, role=role, area_code=area, display_name=display)
    catalogue.ensure_categories(session)
    admin = people["admin"]
    catalogue.set_earning_rule(session, admin, "wuhua-jindou", points_per_hour=10,
                               daily_checkin_points=1)
    catalogue.set_earning_rule(session, admin, "fengxingxia", points_per_hour=5,
                               daily_checkin_points=1)
    organisers = {"cuihu": people["cuihu_organiser"], "sanyuan": people["dafeng_organiser"]}
    team_ids = _teams(session, organisers, people)
    for row in ACTIVITIES:
        _activity(session, organisers[row[2]], people, *row)
    for name, status in PARTY_MEMBERS:
        duty.set_party_status(session, people["wuhua_admin"] if name.startswith("volunteer")
                              else organisers["sanyuan"], people[name].id, status)
    for row in WISHES:
        _wish(session, organisers[row[4]], people, team_ids, *row)
    for number, name in enumerate(("volunteer01", "volunteer03", "rider01", "rider02")):
        for days_ago in range(number + 1, 0, -1):
            daily.check_in_today(session, people[name], at=now() - timedelta(days=days_ago))
    session.flush()
    return listing


def _teams(session, organisers, people) -> dict[str, int]:
    cuihu = teams.create_team(session, organisers["cuihu"], "翠湖社区志愿服务队", "cuihu",
                              people["volunteer01"].id)
    for name in ("volunteer03", "volunteer05", "volunteer07"):
        teams.add_member(session, organisers["cuihu"], cuihu.id, people[name].id)
    riders = teams.create_team(session, organisers["sanyuan"], "大丰骑手先锋队", "sanyuan",
                               people["rider01"].id)
    for name in ("rider04", "rider07"):
        teams.add_member(session, organisers["sanyuan"], riders.id, people[name].id)
    return {"cuihu": cuihu.id, "sanyuan": riders.id}


def _activity(session, organiser, people, title, category, area, venue, place, days, hour,
              length_hours, seats, attendees) -> Activity:
    day = (now().astimezone(CHINA) + timedelta(days=days)).replace(
        hour=hour, minute=0, second=0, microsecond=0)
    programme = "wuhua-jindou" if area == "cuihu" else "fengxingxia"
    activity = planning.create_activity(session, organiser, ActivityDraft(
        title=title, category=category, area=area, programme=programme, venue=venue,
        starts_at=day, ends_at=day + timedelta(hours=length_hours), capacity=seats,
        lat=place[0] if place else None, lng=place[1] if place else None,
        checkin_radius_m=500 if place else None,
        description=f"{title}：欢迎社区志愿者报名参加。"))
    if days > 0:
        for name in ("volunteer02", "volunteer04") if area == "cuihu" else ("rider03",):
            signups.sign_up(session, people[name], activity.id)
        return activity
    adjustments = {}
    for number, (name, minutes) in enumerate(attendees):
        _attend(session, activity, people[name], place, number)
        if minutes is not None:
            adjustments[_attendance_id(session, activity, people[name])] = hours.Adjustment(
                minutes, "组织者核对签到表后更正")
    hours.approve(session, organiser, activity.id, None, adjustments)
    return activity


def _attend(session, activity, volunteer, place, number) -> None:
    # The activity is over, so sign-up is recorded as it happened rather than through the
    # service (which closes sign-up at the end).
    session.add(Signup(activity_id=activity.id, user_id=volunteer.id, status="signed_up",
                       created_at=activity.starts_at - timedelta(days=2)))
    session.execute(update(Activity).where(Activity.id == activity.id)
                    .values(signed_up_count=Activity.signed_up_count + 1))
    session.flush()
    arrive = activity.starts_at + timedelta(minutes=2 * number)
    leave = activity.ends_at - timedelta(minutes=3 * number)
    lat, lng = place if place else (None, None)
    checkin.check_in(session, volunteer, activity.id,
                     checkin.current_code(DEMO_KEY, activity.id, "in", arrive), key=DEMO_KEY,
                     lat=lat, lng=lng, at=arrive)
    checkin.check_out(session, volunteer, activity.id,
                      checkin.current_code(DEMO_KEY, activity.id, "out", leave), key=DEMO_KEY,
                      lat=lat, lng=lng, at=leave)


def _attendance_id(session, activity, volunteer) -> int:
    return checkin.find_attendance(session, activity.id, volunteer.id).id


def _wish(session, organiser, people, team_ids, title, resident, story, needs, area, points,
          state, claimer) -> None:
    programme = "wuhua-jindou" if area == "cuihu" else "fengxingxia"
    wish = wishes.publish_wish(session, organiser, WishDraft(
        title=title, resident_name=resident, story=story, needs=needs, area=area,
        programme=programme, reward_points=points))
    if claimer is None:
        return
    team_id = team_ids["sanyuan"] if claimer == "rider01" else None
    wishes.claim(session, people[claimer], wish.id, team_id)
    if state == "abandoned":
        wishes.abandon(session, people[claimer], wish.id, "临时出差，无法完成")
        return
    if state in ("fulfilled", "confirmed"):
        wishes.fulfil(session, people[claimer], wish.id, "已完成，居民很满意。", [_photo(title)])
    if state == "confirmed":
        wishes.confirm(session, organiser, wish.id)


def _photo(title: str) -> bytes:
    image = Image.new("RGB", (480, 360), (246, 232, 200))
    drawing = ImageDraw.Draw(image)
    drawing.rectangle((20, 20, 460, 340), outline=(200, 150, 30), width=6)
    drawing.ellipse((190, 110, 290, 210), fill=(200, 150, 30))
    drawing.text((30, 300), f"wish {len(title)}", fill=(60, 60, 60))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=85)
    return buffer.getvalue()
