"""Several fund sources per programme, on SQLite and PostgreSQL: sources with their own
accounts, funding that names its source, the stated rule (earmarked first, then the admin's
order, then the general fund) for every CNY leaving, fund_exhausted naming the source, and the
per-source balance and monthly in/out."""

from __future__ import annotations

from tests.payments_support import available, give_points, open_cash_out
from tests.web_support import ledger_snapshot

SOURCES = "/programmes/fengxingxia/fund-sources"


def source(api, **body):
    response = api.post(SOURCES, as_="root_admin", json=body)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def fund(api, fen, fund_source=None, key="f"):
    body = {"amount_fen": fen, "source": "测试拨款"} | (
        {"fund_source": fund_source} if fund_source else {})
    response = api.post("/programmes/fengxingxia/funding", as_="root_admin", json=body,
                        headers={"Idempotency-Key": key})
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def cash_out(api, points, key):
    return api.post("/programmes/fengxingxia/cash-outs", as_="rider",
                    json={"amount_points": points}, headers={"Idempotency-Key": key})


def test_cash_leaves_by_the_stated_rule_and_each_source_reports(app, api, world):
    made = source(api, code="shezhi", name="社治激励资金", sponsor="新都区委社会工作部")
    assert (made["account"], made["balance_fen"]) == ("programme:fengxingxia:fund:shezhi", 0)
    source(api, code="saohuang", name="扫黄打非奖励资金", sponsor="新都区文化执法大队",
           earmarks={"kinds": ["settlement"]}, priority=0)
    taken = api.post(SOURCES, as_="root_admin", json={"code": "shezhi", "name": "x",
                                                      "sponsor": "y"})
    assert (taken.status_code, taken.get_json()["code"]) == (422, "validation_error")
    assert fund(api, 3_000, "shezhi", key="f1")["fund_source"] == "shezhi"
    fund(api, 5_000, "saohuang", key="f2")
    unknown = api.post("/programmes/fengxingxia/funding", as_="root_admin", json={
        "amount_fen": 1, "source": "x", "fund_source": "nowhere"},
        headers={"Idempotency-Key": "f3"})
    assert unknown.status_code == 422
    give_points(app, world, "rider", 100)
    open_cash_out(api, minimum_points=10, monthly_maximum_points=1_000)
    general = available(app, world.fund)
    # The earmarked source never pays a cash-out; 社治 (first unearmarked) does.
    first = cash_out(api, 20, "c1")
    assert first.status_code == 201, first.get_json()
    fen = first.get_json()["amount_fen"]
    assert available(app, "programme:fengxingxia:fund:shezhi") == 3_000 - fen
    assert available(app, "programme:fengxingxia:fund:saohuang") == 5_000
    assert available(app, world.fund) == general
    listed = {s["code"]: s for s in api.get(SOURCES, as_="root_admin").get_json()}
    assert list(listed) == ["saohuang", "shezhi", "general"]
    month = listed["shezhi"]["monthly"][0]
    assert (month["in_fen"], month["out_fen"], month["paid_for"]) == (
        3_000, fen, {"cash_out": fen})
    assert listed["general"]["balance_fen"] == general


def test_fund_exhausted_names_the_source_and_moves_nothing(app, api, world):
    source(api, code="pingan", name="平安城市基金", sponsor="新都区平安办",
           earmarks={"kinds": ["cash_out"]})
    give_points(app, world, "rider", 100)
    open_cash_out(api, minimum_points=10, monthly_maximum_points=1_000)
    # Drain the general fund into a source earmarked for settlements only.
    general = available(app, world.fund)
    source(api, code="only-shops", name="商户结算专项", sponsor="区商务局",
           earmarks={"kinds": ["settlement"]})
    import ledger
    from ledger import Posting
    from web.extensions import db

    with app.app_context():
        ledger.post(db.session, idempotency_key="drain", kind="fund_transfer",
                    postings=[Posting(world.fund, -general, "CNY"),
                              Posting("programme:fengxingxia:fund:only-shops", general, "CNY")])
        db.session.commit()
        db.session.remove()
    before = ledger_snapshot(app)
    refused = cash_out(api, 20, "c2")
    assert (refused.status_code, refused.get_json()["code"]) == (409, "fund_exhausted")
    assert "programme:fengxingxia:fund:pingan" in refused.get_json()["message"]
    assert ledger_snapshot(app) == before


def test_the_dashboard_exports_each_source(app, api, world):
    from honours.ranking import china_year_now
    from tests.test_pages import login

    source(api, code="shezhi", name="社治激励资金", sponsor="新都区委社会工作部")
    fund(api, 3_000, "shezhi", key="f9")
    client = app.test_client()
    login(client, "root_admin")
    response = client.get(f"/dashboard/fengxingxia/{china_year_now()}/fund_sources.csv")
    assert response.status_code == 200
    text = response.get_data().decode("utf-8-sig")
    assert "社治激励资金 (shezhi),3000,0,3000" in text.replace("\r", "")


def test_the_admin_page_lists_sources_and_adds_one(app, world):
    from tests.test_pages import login, post_form, text_of

    client = app.test_client()
    login(client, "root_admin")
    assert 'data-test="fund-sources-link"' in text_of(client.get("/admin"))
    page = "/admin/fund-sources/fengxingxia"
    added = post_form(client, page, page, {
        "code": "jianyi", "name": "见义勇为基金", "sponsor": "新都区见义勇为协会",
        "earmarks": ["ranking_bonus"], "priority": "1"}, follow_redirects=True)
    html = text_of(added)
    assert 'data-code="jianyi"' in html and "见义勇为基金" in html
    assert 'data-code="general"' in html
    assert client.get("/admin/fund-sources/nowhere").status_code == 404
