"""Builders for report tests: categories, a department with staff, a courtyard, photos."""

from __future__ import annotations

import io

from PIL import Image

from reports import categories, departments
from tests.web_support import PASSWORD
from volunteers import areas, users

SIGNAL_POINTS = 10
GARBAGE_POINTS = 5
DAFENG = (30.7662, 104.0575)
GPS_IFD = 0x8825


def build_reports_world(app, world) -> None:
    """On top of ``build_world``: two category groups, a department with one staff member,
    and a grid with a courtyard under 三元社区."""
    from web.extensions import db

    with app.app_context():
        session = db.session
        admin = users.get_user(session, world.ids["root_admin"])
        areas.create_area(session, "sanyuan-g1", "三元社区第一网格", "grid", "sanyuan")
        areas.create_area(session, "sanyuan-g1-c1", "蜀龙大道12号院", "courtyard", "sanyuan-g1")
        traffic = departments.create_department(session, admin, "traffic", "交警队", "dafeng")
        officer = users.create_user(session, "traffic_officer", PASSWORD, role="organiser",
                                    area_code="dafeng", display_name="交警 刘洋")
        departments.add_member(session, admin, traffic, officer)
        world.ids["traffic_officer"] = officer.id
        categories.save_group(session, admin, "traffic", "交通设施", 0)
        categories.save_group(session, admin, "cityscape", "市容环境", 1)
        categories.save_category(session, admin, "traffic", categories.CategorySpec(
            "traffic-signal", "交通信号灯故障", SIGNAL_POINTS, "urgent", 4, traffic.id,
            "《道路交通安全法》第二十五条"))
        categories.save_category(session, admin, "cityscape", categories.CategorySpec(
            "garbage", "垃圾堆积", GARBAGE_POINTS, "time_limited", 24, None, None))
        session.commit()
        session.remove()


def jpeg_with_gps(size=(800, 600), color=(200, 80, 40)) -> bytes:
    """A real JPEG carrying EXIF GPS tags (30°46'N 104°03'E), a camera model and a comment."""
    image = Image.new("RGB", size, color)
    exif = Image.Exif()
    exif[0x0110] = "Jindou Test Camera"  # Model
    exif[0x010F] = "Jindou"  # Make
    exif[GPS_IFD] = {1: "N", 2: (30.0, 46.0, 0.0), 3: "E", 4: (104.0, 3.0, 0.0)}
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif, comment=b"secret comment")
    return out.getvalue()


def png_bytes() -> bytes:
    out = io.BytesIO()
    Image.new("RGBA", (300, 200), (0, 120, 200, 255)).save(out, "PNG")
    return out.getvalue()


def report_form(category="traffic-signal", lat=DAFENG[0], lng=DAFENG[1], **extra) -> dict:
    form = {"category": category, "lat": str(lat), "lng": str(lng),
            "address": "蜀龙大道与大丰大道路口", "description": "红绿灯不亮，路口拥堵"}
    form.update(extra)
    return form
