"""Builders for the activities and wishes tests: organisers, a Kunming programme, activities
happening now, and check-in codes."""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from PIL import Image

import ledger
from activities import catalogue, checkin, planning
from activities.planning import ActivityDraft
from honours import leaderboards
from tests.web_support import PASSWORD
from volunteers import programmes, users

CHECKIN_KEY = b"test-checkin-key"
WUHUA_PROGRAMME = "wuhua-jindou"
POINTS_PER_HOUR = 12


@dataclass
class Scene:
    ids: dict[str, int] = field(default_factory=dict)
    programme: str = "fengxingxia"


def build_scene(app, world) -> Scene:
    """On top of tests.web_support's world: organisers on 三元 and 翠湖, a funded 五华
    programme, the categories, and an hourly rate for 丰行侠."""
    from web.extensions import db

    scene = Scene(ids=dict(world.ids))
    with app.app_context():
        session = db.session
        for name, role, area in (("sanyuan_organiser", "organiser", "sanyuan"),
                                 ("cuihu_organiser", "organiser", "cuihu"),
                                 ("volunteer_a", "volunteer", "sanyuan"),
                                 ("volunteer_b", "volunteer", "nanfeng")):
            scene.ids[name] = users.create_user(session, name, PASSWORD, role=role,
                                                area_code=area, display_name=name).id
        admin = users.get_user(session, world.ids["root_admin"])
        programmes.create_programme(session, admin, WUHUA_PROGRAMME, "五华金豆", "wuhua",
                                    points_per_yuan=10)
        programmes.fund_programme(session, admin, WUHUA_PROGRAMME, 100_000, "测试资金",
                                  "world:funding:wuhua")
        catalogue.ensure_categories(session)
        catalogue.set_earning_rule(session, admin, "fengxingxia", points_per_hour=POINTS_PER_HOUR,
                                   daily_checkin_points=2)
        session.commit()
        ledger.seal_all(session)
        session.remove()
    return scene


def make_activity(session, organiser_id: int, *, area="sanyuan", capacity=5,
                  starts_in=timedelta(minutes=-30), length=timedelta(hours=3),
                  max_minutes=None, radius=None, programme="fengxingxia", title="社区环境清洁"):
    organiser = users.get_user(session, organiser_id)
    starts_at = datetime.now(UTC) + starts_in
    return planning.create_activity(session, organiser, ActivityDraft(
        title=title, category="environment", area=area, programme=programme,
        venue="三元社区广场", starts_at=starts_at, ends_at=starts_at + length,
        capacity=capacity, max_minutes=max_minutes,
        lat=30.8232 if radius else None, lng=104.1587 if radius else None,
        checkin_radius_m=radius))


def code(activity_id: int, direction: str = "in", at=None, key: bytes = CHECKIN_KEY) -> str:
    return checkin.current_code(key, activity_id, direction, at)


def jpeg_with_gps() -> bytes:
    """A real JPEG carrying EXIF with a GPS block and a camera make."""
    image = Image.new("RGB", (64, 48), (200, 120, 40))
    exif = Image.Exif()
    exif[0x010F] = "TestCam"  # Make
    exif[0x8825] = {1: "N", 2: (30.0, 49.0, 23.0), 3: "E", 4: (104.0, 9.0, 31.0)}
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", exif=exif)
    return buffer.getvalue()


def png_bytes(size=(32, 32)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (10, 200, 90)).save(buffer, "PNG")
    return buffer.getvalue()


def recent_start(hours: int) -> timedelta:
    """``hours`` ago, but no earlier than the start of this China week, month and year (the
    periods the boards and the dashboard count by the activity's start): a run just after
    midnight in China must still find the hours in the current period."""
    now = datetime.now(UTC)
    earliest = max(leaderboards.period_bounds(period, now)[0]
                   for period in leaderboards.PERIODS)
    return max(now - timedelta(hours=hours), earliest + timedelta(seconds=1)) - now
