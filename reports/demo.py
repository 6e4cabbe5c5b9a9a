"""Demo data for incident reports: the 丰行侠 categories and the departments of 大丰街道, and a
few dozen riders' reports in every state. Loading twice adds nothing; the caller commits."""

from __future__ import annotations

import io
import random
from datetime import timedelta
from pathlib import Path

from PIL import Image, ImageDraw
from sqlalchemy import select

from volunteers import programmes, users

from . import categories, departments, reports
from .models import Category, Report, ReportEvent
from .uploads import Upload

DEMO_SEED = 311
ACCOUNTS = (("dafeng_traffic", "organiser", "dafeng 交警大队大丰中队 staff"),)
DUPLICATE_SHARE_PERCENT = 20

DEPARTMENTS = (
    # code, name, area, phone
    ("dafeng-traffic", "交警大队大丰中队", "dafeng", "028-83971110"),
    ("dafeng-chengguan", "大丰街道综合行政执法中队", "dafeng", "028-83971234"),
    ("dafeng-police", "大丰派出所", "dafeng", "028-83971010"),
    ("dafeng-fire", "大丰消防救援站", "dafeng", "028-83971119"),
    ("dafeng-municipal", "大丰街道市政设施维护站", "dafeng", "028-83971300"),
    ("dafeng-sanitation", "大丰街道环卫所", "dafeng", "028-83971400"),
)

GROUPS = (
    ("traffic", "交通设施"),
    ("cityscape", "市容环境"),
    ("security", "治安隐患"),
    ("fire", "消防安全"),
    ("facilities", "公共设施"),
    ("disputes", "矛盾纠纷"),
)

CATEGORIES = (
    # group, code, name, points, urgency, deadline hours, department, legal basis
    ("traffic", "traffic-signal", "交通信号灯故障", 10, "urgent", 4, "dafeng-traffic",
     "《中华人民共和国道路交通安全法》第二十五条、第三十条"),
    ("traffic", "traffic-sign", "交通标志标线损毁", 6, "time_limited", 48, "dafeng-traffic",
     "《中华人民共和国道路交通安全法》第二十九条"),
    ("traffic", "illegal-parking", "机动车违停占道", 4, "time_limited", 24, "dafeng-traffic",
     "《中华人民共和国道路交通安全法》第五十六条"),
    ("cityscape", "street-vending", "占道经营", 5, "time_limited", 24, "dafeng-chengguan",
     "《城市市容和环境卫生管理条例》第十四条"),
    ("cityscape", "garbage", "垃圾堆积、清运不及时", 5, "time_limited", 24, "dafeng-sanitation",
     "《成都市市容和环境卫生管理条例》"),
    ("cityscape", "bike-parking", "共享单车乱停放", 3, "long_term", 72, "dafeng-chengguan",
     "《成都市互联网租赁自行车管理办法》"),
    ("security", "fighting", "打架斗殴", 15, "urgent", 1, "dafeng-police",
     "《中华人民共和国治安管理处罚法》第二十六条"),
    ("security", "vehicle-theft", "机动车、电动车盗窃线索", 12, "urgent", 2, "dafeng-police",
     "《中华人民共和国治安管理处罚法》第四十九条"),
    ("security", "crowd", "群众异常聚集", 10, "urgent", 2, "dafeng-police",
     "《中华人民共和国治安管理处罚法》第二十三条"),
    ("fire", "fire-exit", "消防通道堵塞", 10, "urgent", 4, "dafeng-fire",
     "《中华人民共和国消防法》第二十八条"),
    ("fire", "ebike-charging", "电动车违规充电（飞线充电）", 8, "time_limited", 24, "dafeng-fire",
     "《高层民用建筑消防安全管理规定》第三十七条"),
    ("facilities", "manhole", "井盖缺失、破损", 8, "urgent", 6, "dafeng-municipal",
     "《城市道路管理条例》第二十四条"),
    ("facilities", "street-light", "路灯不亮", 4, "long_term", 72, "dafeng-municipal",
     "《城市道路管理条例》"),
    ("disputes", "neighbour-dispute", "邻里纠纷", 6, "time_limited", 48, None,
     "《人民调解法》第十七条"),
)

PLACES = (
    # address, lat, lng, area
    ("蜀龙大道与大丰大道路口", 30.7662, 104.0575, "sanyuan"),
    ("石墨公园地铁站 B 口", 30.7705, 104.0612, "sanyuan"),
    ("南丰路 88 号", 30.7598, 104.0493, "nanfeng"),
    ("高院街 16 号院门口", 30.7741, 104.0528, "gaoyuan"),
    ("大丰农贸市场东侧", 30.7623, 104.0551, "nanfeng"),
    ("蜀龙大道 12 号院", 30.7681, 104.0589, "sanyuan-g1-c1"),
)

STORIES = (
    ("traffic-signal", "路口东西向红绿灯不亮，车辆通行混乱，已在路口提醒行人注意。"),
    ("garbage", "小区门口垃圾桶满溢，周边堆了好几袋生活垃圾，气味很大。"),
    ("fire-exit", "消防通道被两辆私家车堵住，消防车无法通行。"),
    ("manhole", "人行道上井盖缺失，已用锥桶临时围挡。"),
    ("street-vending", "早高峰有流动摊贩占用非机动车道卖早餐。"),
    ("bike-parking", "地铁口共享单车堆放，占用盲道。"),
    ("ebike-charging", "三楼住户从窗户拉电线给电动车充电。"),
    ("street-light", "小区后门路灯连续三晚不亮，老人出行不便。"),
    ("illegal-parking", "货车长期停在公交站台前，影响公交进站。"),
    ("vehicle-theft", "看到有人撬电动车锁，已记下体貌特征。"),
)

# (status to reach, hours ago filed, handled late?)
LIFECYCLES = (
    ("submitted", 2, False), ("submitted", 14, False), ("submitted", 30, False),
    ("verified", 5, False), ("verified", 20, False),
    ("dispatched", 3, False), ("dispatched", 26, False), ("dispatched", 80, False),
    ("in_progress", 6, False), ("in_progress", 50, False),
    ("resolved", 30, False), ("resolved", 100, True), ("resolved", 200, False),
    ("closed", 72, False), ("closed", 150, True), ("closed", 240, False),
    ("closed", 320, False), ("closed", 400, True), ("closed", 500, False),
    ("rejected", 40, False), ("rejected", 90, False),
)


def load(session, storage_dir: Path) -> bool:
    """The demo's report data once; False when it is already there."""
    if session.scalar(select(Category.id).where(Category.code == "traffic-signal")):
        return False
    admin = users.find_user(session, "admin")
    if admin is None:
        return False
    department_ids = load_departments(session, admin)
    load_categories(session, admin, department_ids)
    programme = programmes.get_programme(session, "fengxingxia")
    reports.set_duplicate_share(session, admin, programme, DUPLICATE_SHARE_PERCENT)
    load_reports(session, storage_dir)
    return True


def load_departments(session, admin) -> dict[str, int]:
    ids = {}
    for code, name, area, phone in DEPARTMENTS:
        ids[code] = departments.create_department(session, admin, code, name, area, phone).id
    traffic_officer = users.create_user(
        session, "dafeng_traffic", "jindou2026", role="organiser", area_code="dafeng",
        display_name="交警大队大丰中队 刘洋")
    departments.add_member(session, admin, departments.get_department(session, "dafeng-traffic"),
                           traffic_officer)
    return ids


def load_categories(session, admin, department_ids: dict[str, int]) -> None:
    for position, (code, name) in enumerate(GROUPS):
        categories.save_group(session, admin, code, name, position)
    for position, (group, code, name, points, urgency, hours, department, basis) in \
            enumerate(CATEGORIES):
        spec = categories.CategorySpec(code, name, points, urgency, hours,
                                       department_ids.get(department), basis)
        categories.save_category(session, admin, group, spec, position)


def demo_photo(rng: random.Random, label: str) -> Upload:
    image = Image.new("RGB", (640, 480), tuple(rng.randrange(60, 200) for _ in range(3)))
    ImageDraw.Draw(image).rectangle((80, 80, 560, 400), outline=(255, 255, 255), width=8)
    out = io.BytesIO()
    image.save(out, "JPEG")
    return Upload(f"{label}.jpg", out.getvalue())


def load_reports(session, storage_dir: Path) -> None:
    rng = random.Random(DEMO_SEED)
    reviewer = users.find_user(session, "dafeng_reviewer")
    for number, (status, hours_ago, late) in enumerate(LIFECYCLES):
        rider = users.find_user(session, f"rider{number % 24 + 1:02d}")
        code, story = STORIES[number % len(STORIES)]
        address, lat, lng, area = PLACES[number % len(PLACES)]
        jitter = rng.uniform(-0.0003, 0.0003)
        draft = reports.Draft(code, lat + jitter, lng + jitter, address, story, area_code=area)
        photos = [demo_photo(rng, code)] if number % 3 == 0 else []
        report = reports.file_report(session, rider, draft, photos, None, storage_dir)
        advance(session, reviewer, report, status)
        backdate(session, report, hours_ago, late)


def advance(session, reviewer, report: Report, status: str) -> None:
    if status == "submitted":
        return
    if status == "rejected":
        reports.reject(session, reviewer, report.id, "照片与描述不符，现场核实无此问题")
        return
    reports.verify(session, reviewer, report.id, f"demo:verify:{report.id}")
    steps = ("dispatched", "in_progress", "resolved", "closed")
    if status not in steps:
        return
    department = report.category.department.code if report.category.department else \
        "dafeng-chengguan"
    reports.dispatch(session, reviewer, report.id, department)
    if steps.index(status) >= 1:
        reports.start(session, reviewer, report.id, "已派人前往现场")
    if steps.index(status) >= 2:
        reports.resolve(session, reviewer, report.id, "已到现场处置完毕，恢复正常")
    if status == "closed":
        reports.close(session, reviewer, report.id, "回访确认")


def backdate(session, report: Report, hours_ago: int, late: bool) -> None:
    """Spread the demo over the past weeks, as if filed ``hours_ago`` (demo data only)."""
    shift = timedelta(hours=hours_ago)
    for name in ("created_at", "updated_at", "feedback_due_at", "first_feedback_at",
                 "verified_at", "dispatched_at", "deadline_at", "started_at", "escalate_at"):
        if getattr(report, name) is not None:
            setattr(report, name, getattr(report, name) - shift)
    handled = timedelta(hours=min(hours_ago * 0.6, report.category.deadline_hours * 0.8))
    if late:
        handled = timedelta(hours=report.category.deadline_hours * 1.5)
    if report.resolved_at is not None:
        report.resolved_at = report.dispatched_at + handled
        report.resolved_on_time = report.resolved_at <= report.deadline_at
        report.handling_seconds = int(handled.total_seconds())
    if report.closed_at is not None:
        report.closed_at = report.resolved_at + timedelta(hours=2)
    for event in session.scalars(select(ReportEvent).where(ReportEvent.report_id == report.id)):
        event.created_at = event.created_at - shift
    session.flush()
