"""Builders and clients for tests that go through the web layer."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import ledger
from volunteers import areas, programmes, users

PASSWORD = "correct-horse-9"


@dataclass
class World:
    """Who and what exists: user ids by name, the programme's code and account codes."""

    ids: dict[str, int] = field(default_factory=dict)
    programme: str = "fengxingxia"
    budget: str = "programme:fengxingxia:budget"
    fund: str = "programme:fengxingxia:fund"

    def wallet(self, name: str) -> str:
        return f"volunteer:{self.ids[name]}:wallet"


AREAS = (
    ("xindu", "成都市新都区", "district", "root"),
    ("dafeng", "大丰街道", "street", "xindu"),
    ("sanyuan", "三元社区", "community", "dafeng"),
    ("nanfeng", "南丰社区", "community", "dafeng"),
    ("wuhua", "昆明市五华区", "district", "root"),
    ("huashan", "华山街道", "street", "wuhua"),
    ("cuihu", "翠湖社区", "community", "huashan"),
)
PEOPLE = (
    ("root_admin", "admin", "root"),
    ("second_admin", "admin", "root"),
    ("xindu_admin", "admin", "xindu"),
    ("wuhua_admin", "admin", "wuhua"),
    ("dafeng_reviewer", "reviewer", "dafeng"),
    ("nanfeng_reviewer", "reviewer", "nanfeng"),
    ("rider", "volunteer", "sanyuan"),
    ("rider2", "volunteer", "nanfeng"),
    ("kunming_volunteer", "volunteer", "cuihu"),
)
BUDGET_POINTS = 10_000


def build_world(app) -> World:
    from web.extensions import db

    world = World()
    with app.app_context():
        session = db.session
        areas.ensure_root(session)
        for code, name, level, parent in AREAS:
            areas.create_area(session, code, name, level, parent)
        for name, role, area in PEOPLE:
            world.ids[name] = users.create_user(session, name, PASSWORD, role=role,
                                                area_code=area, display_name=name).id
        admin = users.get_user(session, world.ids["root_admin"])
        programmes.create_programme(session, admin, "fengxingxia", "丰行侠·新都大丰", "dafeng",
                                    points_per_yuan=1, award_approval_threshold_points=100)
        programmes.fund_programme(session, admin, "fengxingxia", BUDGET_POINTS * 100, "测试资金",
                                  "world:funding")
        session.commit()
        ledger.seal_all(session)
    return world


def in_app(app, work):
    """``work(session)`` inside the app, committed, the session removed after."""
    from web.extensions import db

    with app.app_context():
        try:
            answer = work(db.session)
            db.session.commit()
            return answer
        finally:
            db.session.remove()


def ledger_snapshot(app) -> dict:
    """Everything a failed request must leave as it was."""
    from web.extensions import db

    with app.app_context():
        session = db.session
        accounts = {a.code: (a.posted, a.pending_in, a.pending_out)
                    for a in session.scalars(db.select(ledger.Account))}
        entries = session.scalar(db.select(db.func.count()).select_from(ledger.Entry))
        session.remove()
        return {"accounts": accounts, "entries": entries}


class ApiClient:
    """The test client with bearer tokens:
    ``api.post("/programmes", as_="root_admin", json=...)``."""

    def __init__(self, app):
        self.app = app
        self.client = app.test_client()
        self.tokens: dict[str, str] = {}

    def token(self, username: str) -> str:
        if username not in self.tokens:
            response = self.client.post("/api/v1/auth/tokens",
                                        json={"username": username, "password": PASSWORD})
            assert response.status_code == 201, response.get_json()
            self.tokens[username] = response.get_json()["token"]
        return self.tokens[username]

    def request(self, method: str, path: str, as_: str | None = None, headers=None, **kwargs):
        headers = dict(headers or {})
        if as_ is not None:
            headers["Authorization"] = f"Bearer {self.token(as_)}"
        return self.client.open("/api/v1" + path, method=method, headers=headers, **kwargs)

    def get(self, path, **kwargs):
        return self.request("GET", path, **kwargs)

    def post(self, path, **kwargs):
        return self.request("POST", path, **kwargs)

    def patch(self, path, **kwargs):
        return self.request("PATCH", path, **kwargs)

    def put(self, path, **kwargs):
        return self.request("PUT", path, **kwargs)

    def delete(self, path, **kwargs):
        return self.request("DELETE", path, **kwargs)


def csrf_token(html: str) -> str:
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html) or re.search(
        r'value="([^"]+)"[^>]*name="csrf_token"', html)
    assert match, "no CSRF token on the page"
    return match.group(1)
