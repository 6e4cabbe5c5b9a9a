"""What issue 6 plugs into the honours, on SQLite and PostgreSQL: incident reports and service
hours on the administrators' dashboard (page and downloads), the service-hours leaderboard
(service, API and page), star projects and star merchants."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest

from activities import hours
from honours import dashboard, leaderboards, ranking, stars
from ledger.clock import CHINA
from reports import reports
from tests.activities_support import build_scene, make_activity, recent_start
from tests.merchants_support import OFFER_PRICE_POINTS, build_shops_in_app
from tests.reports_support import DAFENG, build_reports_world
from tests.test_activities_service import _attend
from tests.test_pages import login, text_of
from tests.web_support import ApiClient, ledger_snapshot
from volunteers import teams, users

YEAR = ranking.china_year_now()


def this_month() -> str:
    return datetime.now(UTC).astimezone(CHINA).strftime("%Y-%m")


def section(tables, key):
    return next(table for table in tables if table.key == key)


def month_row(table):
    return next(row for row in table.rows if row[0] == this_month())


def csv_rows(response):
    assert response.status_code == 200
    return list(csv.reader(io.StringIO(response.get_data().decode("utf-8-sig"))))


@pytest.fixture
def report_ctx(app, world, tmp_path):
    from web.extensions import db

    build_reports_world(app, world)
    with app.app_context():
        session = db.session
        people = {name: users.get_user(session, uid) for name, uid in world.ids.items()}
        yield session, people, tmp_path / "uploads"
        session.remove()


def _file(report_ctx, category="traffic-signal", nudge=0.0):
    session, people, storage = report_ctx
    draft = reports.Draft(category, DAFENG[0] + nudge, DAFENG[1], "蜀龙大道与大丰大道路口",
                          "红绿灯不亮")
    report = reports.file_report(session, people["rider"], draft, [], None, storage)
    session.commit()
    return report


def test_reports_by_category_and_month_with_the_on_time_rate(app, report_ctx):
    session, people, _storage = report_ctx
    reviewer = people["dafeng_reviewer"]
    verified, done, late = _file(report_ctx), _file(report_ctx, nudge=0.001), \
        _file(report_ctx, nudge=0.002)
    _file(report_ctx, category="garbage")
    reports.verify(session, reviewer, verified.id)
    for report in (done, late):
        reports.verify(session, reviewer, report.id)
        reports.dispatch(session, reviewer, report.id)
    late.deadline_at = late.dispatched_at - timedelta(minutes=1)
    reports.resolve(session, reviewer, done.id, "已修复")
    reports.resolve(session, reviewer, late.id, "已修复")
    reports.close(session, reviewer, done.id)
    session.commit()

    _programme, _area, tables = dashboard.build(session, people["root_admin"], "fengxingxia",
                                                YEAR)
    by_category = section(tables, "reports")
    keys = [key for key, _title in by_category.columns]
    rows = {row[0]: dict(zip(keys, row, strict=True)) for row in by_category.rows}
    signal, garbage = rows["交通信号灯故障"], rows["垃圾堆积"]
    assert (signal["reports"], signal["verified"], signal["resolved"], signal["closed"],
            signal["submitted"]) == (3, 1, 1, 1, 0)
    assert (signal["on_time"], signal["on_time_rate"]) == (1, 50)
    assert (garbage["reports"], garbage["submitted"], garbage["on_time_rate"]) == (1, 1, None)
    assert by_category.rows[0][0] == "交通信号灯故障"  # the busiest category first
    monthly = section(tables, "reports_monthly")
    assert month_row(monthly)[1:] == [4, 0, 2, 1, 50]
    assert sum(row[1] for row in monthly.rows) == 4
    # Outside the reports' area the section is empty.
    _p, _a, nanfeng = dashboard.build(session, people["root_admin"], "fengxingxia", YEAR,
                                      "nanfeng")
    assert section(nanfeng, "reports").rows == []
    session.commit()

    client = app.test_client()
    login(client, "root_admin")
    page = text_of(client.get(f"/dashboard/?programme=fengxingxia&year={YEAR}"))
    assert 'data-test="section-reports"' in page and 'data-test="section-reports_monthly"' in page
    assert "交通信号灯故障" in page
    rows = csv_rows(client.get(f"/dashboard/fengxingxia/{YEAR}/reports.csv"))
    assert rows[0][0] != "category"  # translated titles
    assert rows[1][:3] == ["交通信号灯故障", "3", "0"]
    xlsx = client.get(f"/dashboard/fengxingxia/{YEAR}/reports_monthly.xlsx")
    assert xlsx.status_code == 200 and xlsx.get_data()[:2] == b"PK"


@pytest.fixture
def hours_ctx(app, world):
    from web.extensions import db

    scene = build_scene(app, world)
    with app.app_context():
        session = db.session
        organiser = users.get_user(session, scene.ids["sanyuan_organiser"])
        activity = make_activity(session, organiser.id, starts_in=recent_start(hours=4),
                                 length=timedelta(hours=5))
        _attend(session, scene, activity, "rider", 90)
        _attend(session, scene, activity, "volunteer_a", 150)
        _attend(session, scene, activity, "rider2", None)  # never checked out: not approved
        session.commit()
        hours.approve(session, organiser, activity.id)
        session.commit()
        yield session, scene, activity
        session.remove()


def test_approved_hours_fill_the_dashboards_hours_section(app, hours_ctx):
    session, scene, _activity = hours_ctx
    admin = users.get_user(session, scene.ids["root_admin"])
    _programme, _area, tables = dashboard.build(session, admin, "fengxingxia", YEAR)
    table = section(tables, "hours")
    assert month_row(table) == [this_month(), 4.0, 2, 1]
    assert sum(row[1] for row in table.rows) == 4.0
    _p, _a, elsewhere = dashboard.build(session, admin, "fengxingxia", YEAR, "nanfeng")
    assert sum(row[1] for row in section(elsewhere, "hours").rows) == 0
    session.commit()

    client = app.test_client()
    login(client, "root_admin")
    page = text_of(client.get(f"/dashboard/?programme=fengxingxia&year={YEAR}"))
    assert 'data-test="section-hours"' in page
    rows = csv_rows(client.get(f"/dashboard/fengxingxia/{YEAR}/hours.csv"))
    assert len(rows) == 13
    assert [row for row in rows[1:] if row[0] == this_month()] == [[this_month(), "4.0", "2",
                                                                     "1"]]


def test_the_hours_leaderboard_by_volunteer_and_team(app, hours_ctx):
    session, scene, _activity = hours_ctx
    admin = users.get_user(session, scene.ids["root_admin"])
    rider = users.get_user(session, scene.ids["rider"])
    for period in leaderboards.PERIODS:
        board = leaderboards.board(session, admin, "fengxingxia", period, metric="hours")
        assert [(line.subject_id, line.score) for line in board.lines] == [
            (scene.ids["volunteer_a"], 150), (rider.id, 90)]
        assert board.metric == "hours"
    mine = leaderboards.board(session, rider, "fengxingxia", "month", metric="hours")
    assert (mine.mine.place, mine.mine.score) == (2, 90)
    team = teams.create_team(session, admin, "环保队", "sanyuan", scene.ids["volunteer_a"])
    teams.add_member(session, admin, team.id, rider.id)
    session.commit()
    by_team = leaderboards.board(session, admin, "fengxingxia", "year", by="team",
                                 metric="hours")
    assert [(line.name, line.score) for line in by_team.lines] == [("环保队", 240)]
    # The points board still counts points: 90 min and 150 min at 12 points an hour.
    points = leaderboards.board(session, admin, "fengxingxia", "month")
    assert sorted(line.score for line in points.lines)[-2:] == [18, 30]
    session.commit()  # end the reading transaction (SQLite) before the requests

    before = ledger_snapshot(app)
    api = ApiClient(app)
    body = api.get("/programmes/fengxingxia/leaderboards?period=month&metric=hours",
                   as_="root_admin").get_json()
    assert (body["metric"], body["unit"]) == ("hours", "minutes")
    assert [line["score"] for line in body["lines"]] == [150, 90]
    bad = api.get("/programmes/fengxingxia/leaderboards?metric=kilometres", as_="root_admin")
    assert bad.status_code == 422 and bad.get_json()["code"] == "validation_error"
    assert "metric" in bad.get_json()["errors"]
    assert ledger_snapshot(app) == before

    client = app.test_client()
    login(client, "root_admin")
    page = text_of(client.get("/honours/leaderboards?programme=fengxingxia&period=month"
                              "&metric=hours"))
    assert 'data-test="metric-hours"' in page and 'data-test="metric-points"' in page
    assert "2.5" in page and "1.5" in page
    assert client.get("/honours/leaderboards?metric=kilometres").status_code == 404


def test_activities_are_star_projects_by_the_hours_served(app, hours_ctx):
    session, scene, activity = hours_ctx
    admin = users.get_user(session, scene.ids["root_admin"])
    programme = activity.programme
    chosen = stars.choose(session, programme, YEAR, {"project": {"count": 3}})
    assert chosen["project"] == [(activity.id, "社区环境清洁", 240)]
    assert stars.choose(session, programme, YEAR,
                        {"project": {"count": 3, "min_minutes": 300}})["project"] == []
    assert stars.choose(session, programme, YEAR - 1, {"project": {"count": 3}}) == {
        "project": []} or YEAR - 1 < programme.created_at.year
    published = stars.publish_stars(session, admin, "fengxingxia", YEAR)
    projects = [s for s in published if s.subject_type == "project"]
    assert [(s.subject_id, s.score, s.place, s.criterion) for s in projects] == [
        (activity.id, 240, 1, f"minutes_served_{YEAR}")]
    session.commit()
    client = app.test_client()
    login(client, "root_admin")
    page = text_of(client.get(f"/honours/?programme=fengxingxia&year={YEAR}"))
    assert "社区环境清洁" in page


def test_a_merchant_with_redemptions_is_a_star_merchant(app, api, world):
    from web.extensions import db

    shops = build_shops_in_app(app, world)
    for name, offer, till in (("rider", shops.offer, "till"), ("rider2", shops.offer, "till"),
                              ("rider", shops.other_offer, "other_till")):
        voucher = api.post(f"/offers/{offer}/vouchers", as_=name).get_json()
        assert api.post("/vouchers/redeem", as_=till,
                        json={"code": voucher["short_code"]}).status_code == 200
    api.post(f"/offers/{shops.other_offer}/vouchers", as_="rider2")  # held, never redeemed
    with app.app_context():
        session = db.session
        admin = users.get_user(session, world.ids["root_admin"])
        programme = dashboard.get_programme(session, "fengxingxia")
        chosen = stars.choose(session, programme, YEAR, {"merchant": {"count": 5}})
        assert chosen["merchant"] == [(shops.merchant, "大丰老茶馆", 2 * OFFER_PRICE_POINTS),
                                      (shops.other_merchant, "新都面馆", OFFER_PRICE_POINTS)]
        picky = stars.choose(session, programme, YEAR, {"merchant": {"count": 5,
                                                                      "min_vouchers": 2}})
        assert [c[0] for c in picky["merchant"]] == [shops.merchant]
        published = stars.publish_stars(session, admin, "fengxingxia", YEAR,
                                        {"merchant": {"count": 1}})
        assert [(s.subject_type, s.subject_id, s.score, s.criterion) for s in published] == [
            ("merchant", shops.merchant, 2 * OFFER_PRICE_POINTS, f"points_accepted_{YEAR}")]
        session.commit()
        session.remove()
    client = app.test_client()
    login(client, "root_admin")
    page = text_of(client.get(f"/honours/?programme=fengxingxia&year={YEAR}"))
    assert "大丰老茶馆" in page
