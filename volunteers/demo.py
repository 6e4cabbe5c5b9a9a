"""Demo data: 成都新都 大丰街道's 丰行侠 riders, 昆明五华's 金豆 volunteers and 成都青羊
少城's courtyards, with funding and a history of awards. Loading twice adds nothing."""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from . import areas, programmes, users
from .models import User

DEMO_PASSWORD = "jindou2026"
DEMO_SEED = 2026

AREAS = (
    # code, name, level, parent
    ("xindu", "成都市新都区", "district", "root"),
    ("dafeng", "大丰街道", "street", "xindu"),
    ("sanyuan", "三元社区", "community", "dafeng"),
    ("nanfeng", "南丰社区", "community", "dafeng"),
    ("gaoyuan", "高院社区", "community", "dafeng"),
    ("sanyuan-g1", "三元社区第一网格", "grid", "sanyuan"),
    ("sanyuan-g1-c1", "蜀龙大道12号院", "courtyard", "sanyuan-g1"),
    ("wuhua", "昆明市五华区", "district", "root"),
    ("huashan", "华山街道", "street", "wuhua"),
    ("cuihu", "翠湖社区", "community", "huashan"),
    ("longxiang", "龙翔街道", "street", "wuhua"),
    ("yunda", "云大社区", "community", "longxiang"),
    ("qingyang", "成都市青羊区", "district", "root"),
    ("shaocheng", "少城街道", "street", "qingyang"),
    ("kuanxiangzi", "宽巷子社区", "community", "shaocheng"),
    ("kuanxiangzi-g2", "宽巷子第二网格", "grid", "kuanxiangzi"),
    ("kuanxiangzi-g2-c3", "宽巷子27号院", "courtyard", "kuanxiangzi-g2"),
    ("kuanxiangzi-g2-c5", "窄巷子8号院", "courtyard", "kuanxiangzi-g2"),
)

STAFF = (
    # username, display name, role, area
    ("admin", "系统管理员 李静", "admin", "root"),
    ("admin2", "复核管理员 王磊", "admin", "root"),
    ("xindu_admin", "新都区管理员 陈晨", "admin", "xindu"),
    ("dafeng_reviewer", "大丰街道审核员 赵敏", "reviewer", "dafeng"),
    ("wuhua_admin", "五华区管理员 杨帆", "admin", "wuhua"),
    ("cuihu_organiser", "翠湖社区组织者 周婷", "organiser", "cuihu"),
)

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐"
GIVEN = ("伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟",
         "涛", "明", "超", "秀英", "霞", "平", "刚", "桂英", "建华", "晓东")

RIDER_DEEDS = (
    (8, "上报交通信号灯故障（蜀龙大道与大丰大道路口）"),
    (5, "上报占道经营，已劝离"),
    (10, "发现消防通道被堵塞并上报"),
    (6, "上报井盖缺失"),
    (4, "上报共享单车乱停放"),
    (12, "协助调解路边纠纷"),
    (5, "上报绿化带垃圾堆积"),
)
WUHUA_DEEDS = (
    (30, "翠湖公园环境清洁志愿服务 3 小时"),
    (20, "敬老院陪伴老人 2 小时"),
    (40, "社区消防演练协助 4 小时"),
    (15, "完成居民微心愿：为独居老人更换灯泡"),
    (25, "文明交通劝导 2.5 小时"),
)


@dataclass
class DemoSummary:
    created: bool
    accounts: list[tuple[str, str, str]] = field(default_factory=list)


def load(session: Session) -> DemoSummary:
    """Build the demo once; the caller commits."""
    summary = DemoSummary(created=users.find_user(session, "admin") is None)
    if not summary.created:
        summary.accounts = _listing(session)
        return summary
    areas.ensure_root(session)
    for code, name, level, parent in AREAS:
        areas.create_area(session, code, name, level, parent)
    staff = {name: users.create_user(session, name, DEMO_PASSWORD, role=role, area_code=area,
                                     display_name=display)
             for name, display, role, area in STAFF}
    admin = staff["admin"]
    fengxingxia = programmes.create_programme(
        session, admin, "fengxingxia", "丰行侠·新都大丰", "dafeng", points_per_yuan=1,
        award_approval_threshold_points=100)
    wuhua = programmes.create_programme(
        session, admin, "wuhua-jindou", "五华金豆", "wuhua", points_per_yuan=10,
        award_approval_threshold_points=500)
    programmes.fund_programme(session, admin, "fengxingxia", 5_000_000,
                              "社治激励资金 2026 年第一批", "demo:funding:fengxingxia:1")
    programmes.fund_programme(session, admin, "wuhua-jindou", 2_000_000, "五华区志愿服务专项资金",
                              "demo:funding:wuhua:1")
    rng = random.Random(DEMO_SEED)
    riders = _people(session, rng, "rider", 24, ("sanyuan", "nanfeng", "gaoyuan"))
    helpers = _people(session, rng, "volunteer", 16, ("cuihu", "yunda"))
    _people(session, rng, "resident", 4, ("kuanxiangzi-g2-c3", "kuanxiangzi-g2-c5"))
    _history(session, rng, staff["dafeng_reviewer"], fengxingxia.code, riders, RIDER_DEEDS)
    _history(session, rng, staff["wuhua_admin"], wuhua.code, helpers, WUHUA_DEEDS)
    programmes.request_award(session, staff["xindu_admin"], "fengxingxia", riders[0].id, 200,
                             "见义勇为：协助救助落水儿童", "demo:award:brave:1")
    summary.accounts = _listing(session)
    return summary


def _people(session, rng, prefix: str, count: int, area_codes) -> list[User]:
    people = []
    for number in range(1, count + 1):
        name = rng.choice(SURNAMES) + rng.choice(GIVEN)
        people.append(users.create_user(
            session, f"{prefix}{number:02d}", DEMO_PASSWORD, role="volunteer",
            area_code=area_codes[(number - 1) % len(area_codes)], display_name=name,
            phone=f"139{rng.randrange(10**8):08d}"))
    return people


def _history(session, rng, actor, programme_code, people, deeds) -> None:
    for person in people:
        for number in range(rng.randint(2, 7)):
            points, reason = rng.choice(deeds)
            programmes.request_award(session, actor, programme_code, person.id, points, reason,
                                     f"demo:award:{person.username}:{number}")


def _listing(session) -> list[tuple[str, str, str]]:
    rows = [(name, role, area) for name, _display, role, area in STAFF]
    rows += [("rider01 … rider24", "volunteer", "dafeng 大丰街道"),
             ("volunteer01 … volunteer16", "volunteer", "wuhua 五华区"),
             ("resident01 … resident04", "volunteer", "shaocheng 少城街道")]
    return rows
