"""Payout runs over the API, on SQLite and PostgreSQL: a run that pays a cash-out, a year-end
bonus and a merchant settlement exports a file whose lines and totals match the ledger, and
importing the channel's result file pays exactly those lines once; maker-checker; failed
lines owed again; payment details masked; bad results refused with nothing moved."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from sqlalchemy import select, update

import ledger
from honours import bonuses
from honours.ranking import china_year_now
from merchants import settlement
from merchants.models import Redemption
from tests.merchants_support import build_shops_in_app
from tests.payments_support import open_cash_out
from tests.ranking_support import configure_small_world
from tests.web_support import in_app, ledger_snapshot
from volunteers import users

YEAR = china_year_now()
LAST_MONTH = settlement.previous_period()



def balance(app, code: str) -> int:
    return in_app(app, lambda session: ledger.balance(session, code).posted)


def details(api, as_, path="/me/payment-details", **body):
    body = {"channel": "alipay", "account_name": "张小明", "account": "13800005678"} | body
    response = api.put(path, as_=as_, json=body)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


@pytest.fixture
def owed(app, api, world):
    """A cash-out (rider, 50 points), the rider's 大侠 bonus (¥500) credited by the
    worker, and last month's settlement of the teahouse (2 vouchers)."""
    shops = build_shops_in_app(app, world)
    for name in ("rider", "rider2"):
        voucher = api.post(f"/offers/{shops.offer}/vouchers", as_=name).get_json()
        assert api.post("/vouchers/redeem", as_="till",
                        json={"code": voucher["short_code"]}).status_code == 200

    def settle(session):
        session.execute(update(Redemption).values(
            redeemed_at=settlement.period_end(LAST_MONTH) - timedelta(days=2)))
        admin = users.get_user(session, world.ids["root_admin"])
        settlement.set_rate(session, admin, world.programme, 2)
        return settlement.settle(session, admin, LAST_MONTH)[0].settlement.amount_fen

    world.ids["settlement_fen"] = in_app(app, settle)
    configure_small_world(app)
    open_cash_out(api, minimum_points=10, monthly_maximum_points=1_000)
    cashed = api.post("/programmes/fengxingxia/cash-outs", as_="rider",
                      json={"amount_points": 50}, headers={"Idempotency-Key": "co-1"})
    assert cashed.status_code == 201, cashed.get_json()
    world.ids["cash_out_fen"] = cashed.get_json()["amount_fen"]
    ranked = api.post("/programmes/fengxingxia/rankings", as_="root_admin",
                      json={"year": YEAR, "publish": True})
    assert ranked.status_code == 201, ranked.get_json()
    world.ids["bonus_fen"] = ranked.get_json()["bonus_total_fen"]
    in_app(app, bonuses.credit_all)
    world.ids["merchant"] = shops.merchant
    return world


def result_file(exported: bytes, outcome=lambda index: ("成功", f"ALI{index:04d}", ""),
                first_amount: str | None = None) -> bytes:
    """The channel's result file: the exported rows with status, reference and reason."""
    rows = list(csv.reader(io.StringIO(exported.decode("utf-8-sig"))))
    header_at = next(i for i, row in enumerate(rows) if "商户流水号" in row)
    out = rows[:header_at] + [rows[header_at] + ["状态", "支付宝流水号", "失败原因"]]
    for index, row in enumerate(rows[header_at + 1:]):
        if index == 0 and first_amount:
            row[3] = first_amount
        out.append(row + list(outcome(index)))
    text = io.StringIO()
    csv.writer(text).writerows(out)
    return ("\ufeff" + text.getvalue()).encode()


def upload(api, run_id, data, as_="second_admin", name="result.csv"):
    return api.post(f"/payout-runs/{run_id}/results", as_=as_,
                    data={"file": (io.BytesIO(data), name)},
                    content_type="multipart/form-data")


def test_a_run_pays_a_cash_out_a_bonus_and_a_settlement_once(app, api, owed):
    rider_cash = f"volunteer:{owed.ids['rider']}:cash"
    merchant_cash = f"merchant:{owed.ids['merchant']}:cash"
    owed_rider = owed.ids["cash_out_fen"] + 50_000
    assert balance(app, rider_cash) == owed_rider
    assert balance(app, merchant_cash) == owed.ids["settlement_fen"]
    # Nobody has payment details yet: nothing can go in a run, every line waits.
    before = ledger_snapshot(app)
    refused = api.post("/payout-runs", as_="root_admin", json={"programme": "fengxingxia"})
    assert (refused.status_code, refused.get_json()["code"]) == (409, "nothing_owed")
    shown = details(api, "rider")
    assert shown["account"] == "138****5678" and shown["account_name"] == "张*明"
    details(api, "till", path=f"/merchants/{owed.ids['merchant']}/payment-details",
            account_name="大丰老茶馆", account="teahouse@example.com")
    made = api.post("/payout-runs", as_="root_admin", json={"programme": "fengxingxia"})
    assert made.status_code == 201, made.get_json()
    run = made.get_json()
    assert (run["status"], run["lines"]) == ("prepared", 3)
    assert run["total_fen"] == owed_rider + owed.ids["settlement_fen"]
    assert sorted(line["kind"] for line in run["items"]) == ["bonus", "cash_out", "settlement"]
    assert all("5678" not in line["account"] or "****" in line["account"]
               for line in run["items"])
    # A line is in one run at most: a second run finds nothing.
    again = api.post("/payout-runs", as_="root_admin", json={"programme": "fengxingxia"})
    assert again.get_json()["code"] == "nothing_owed"
    assert api.get(f"/payout-runs/{run['id']}/export?channel=alipay",
                   as_="root_admin").get_json()["code"] == "run_not_approved"
    own = api.post(f"/payout-runs/{run['id']}/approve", as_="root_admin")
    assert (own.status_code, own.get_json()["code"]) == (403, "own_run")
    approved = api.post(f"/payout-runs/{run['id']}/approve", as_="second_admin")
    assert approved.get_json()["status"] == "approved"
    exported = api.get(f"/payout-runs/{run['id']}/export?channel=alipay", as_="root_admin")
    assert exported.status_code == 200
    rows = list(csv.reader(io.StringIO(exported.data.decode("utf-8-sig"))))
    assert rows[0][:2] == ["批次号", "付款日期"] and rows[1][0] == f"JD{run['id']:06d}"
    lines = rows[4:]
    assert {row[1] for row in lines} == {"13800005678", "teahouse@example.com"}
    fen = sorted(round(float(row[3]) * 100) for row in lines)
    assert fen == sorted(line["amount_fen"] for line in run["items"])
    assert rows[1][3] == f"{run['total_fen'] / 100:.2f}"
    assert ledger_snapshot(app)["entries"] == before["entries"]
    # Bad results: another run's file, an unknown line, a different amount. Nothing moves.
    wrong = result_file(exported.data).replace(f"JD{run['id']:06d}".encode(), b"JD999999")
    assert upload(api, run["id"], wrong).get_json()["code"] == "wrong_run"
    unknown = api.post(f"/payout-runs/{run['id']}/results", as_="second_admin", json={
        "lines": [{"line_id": 99_999, "status": "paid", "reference": "x"}]})
    assert (unknown.status_code, unknown.get_json()["code"]) == (422, "unknown_line")
    changed = result_file(exported.data, first_amount="0.01")
    assert upload(api, run["id"], changed).get_json()["code"] == "amount_mismatch"
    assert ledger_snapshot(app)["entries"] == before["entries"]
    paid = upload(api, run["id"], result_file(exported.data))
    assert paid.status_code == 200, paid.get_json()
    assert (paid.get_json()["status"], paid.get_json()["paid_fen"]) == ("closed", run["total_fen"])
    assert balance(app, rider_cash) == 0 and balance(app, merchant_cash) == 0
    assert balance(app, "programme:fengxingxia:payouts") == owed_rider
    entries = ledger_snapshot(app)["entries"]
    assert entries == before["entries"] + 3
    assert upload(api, run["id"], result_file(exported.data)).status_code == 200  # once only
    assert ledger_snapshot(app)["entries"] == entries
    mine = api.get("/me/payouts", as_="rider").get_json()
    assert (mine["owed_fen"], mine["paid_fen"]) == (0, owed_rider)
    assert {item["paid_reference"] for item in mine["paid"]} <= {"ALI0000", "ALI0001",
                                                                 "ALI0002"}
    shop = api.get(f"/merchants/{owed.ids['merchant']}/settlements", as_="till").get_json()
    assert [(s["status"], s["run_id"]) for s in shop] == [("paid", run["id"])]
    assert shop[0]["payment_reference"].startswith("ALI")
    in_app(app, ledger.seal_all)
    assert in_app(app, ledger.verify).ok


def test_a_failed_line_is_owed_again_and_the_next_run_takes_it(app, api, owed):
    details(api, "rider")
    run = api.post("/payout-runs", as_="root_admin",
                   json={"programme": "fengxingxia", "kinds": ["cash_out"]}).get_json()
    assert [line["kind"] for line in run["items"]] == ["cash_out"]
    assert api.post(f"/payout-runs/{run['id']}/approve", as_="second_admin").status_code == 200
    line = run["items"][0]
    failed = api.post(f"/payout-runs/{run['id']}/results", as_="second_admin", json={
        "lines": [{"line_id": line["id"], "status": "failed", "reason": "账户名不符"}]})
    assert failed.get_json()["status"] == "closed"
    assert failed.get_json()["items"][0]["reason"] == "账户名不符"
    mine = api.get("/me/payouts", as_="rider").get_json()
    assert [i["last_failure"] for i in mine["owed"] if i["kind"] == "cash_out"] == ["账户名不符"]
    second = api.post("/payout-runs", as_="second_admin",
                      json={"programme": "fengxingxia", "kinds": ["cash_out"]}).get_json()
    assert [i["source"] for i in second["items"]] == [line["source"]]
    again = api.post(f"/payout-runs/{run['id']}/results", as_="second_admin", json={
        "lines": [{"line_id": line["id"], "status": "paid", "reference": "late"}]})
    assert (again.status_code, again.get_json()["code"]) == (409, "line_settled")


def test_payment_details_are_checked_and_kept_encrypted(app, api, world):
    bad = api.put("/me/payment-details", as_="rider",
                  json={"channel": "bank", "account_name": "张小明", "account": "12ab"})
    assert (bad.status_code, bad.get_json()["code"]) == (422, "validation_error")
    details(api, "rider", channel="bank", account="6222 0212 3456 7890 123")
    shown = details(api, "rider")  # changed: the old version is kept, replaced

    def stored(session):
        from payouts.models import PaymentDetails

        return [(row.channel, row.sealed, row.replaced_at is None)
                for row in session.scalars(select(PaymentDetails).order_by(
                    PaymentDetails.id))]

    rows = in_app(app, stored)
    assert [(channel, current) for channel, _, current in rows] == [
        ("bank", False), ("alipay", True)]
    assert all("13800005678" not in sealed and "6222" not in sealed for _, sealed, _ in rows)
    assert shown["account"] == "138****5678"


def test_the_command_line_prepares_approves_exports_and_imports(app, api, owed, tmp_path):
    details(api, "rider", channel="bank", account="6222021234567890123", bank_name="工商银行")
    runner = app.test_cli_runner()
    prepared = runner.invoke(args=["payouts", "prepare", "--programme", "fengxingxia",
                                   "--kinds", "cash_out,bonus", "--as", "root_admin"])
    assert prepared.exit_code == 0, prepared.output
    run_id = int(prepared.output.split()[1])
    assert "2 lines" in prepared.output and "channels bank" in prepared.output
    own = runner.invoke(args=["payouts", "approve", "--run", str(run_id), "--as", "root_admin"])
    assert own.exit_code == 1 and "own_run" in own.output
    assert runner.invoke(args=["payouts", "approve", "--run", str(run_id),
                               "--as", "second_admin"]).exit_code == 0
    sheet = tmp_path / "run.xlsx"
    exported = runner.invoke(args=["payouts", "export", "--run", str(run_id),
                                   "--channel", "bank",
                                   "--format", "xlsx", "--output", str(sheet),
                                   "--as", "root_admin"])
    assert exported.exit_code == 0, exported.output
    from openpyxl import Workbook, load_workbook

    rows = [list(row) for row in load_workbook(sheet).active.iter_rows(values_only=True)]
    assert rows[3] == ["序号", "收款人姓名", "收款账号", "开户行", "金额（元）", "用途",
                       "业务参考号"]
    assert {row[2] for row in rows[4:]} == {"6222021234567890123"}
    assert sum(round(float(row[4]) * 100) for row in rows[4:]) == (
        owed.ids["cash_out_fen"] + 50_000)
    book = Workbook()
    book.active.append(["业务参考号", "金额（元）", "状态", "银行流水号", "失败原因"])
    for row in rows[4:]:
        book.active.append([row[6], row[4], "成功", f"BANK-{row[0]}", None])
    results = tmp_path / "results.xlsx"
    book.save(results)
    imported = runner.invoke(args=["payouts", "import-results", "--run", str(run_id),
                                   "--file", str(results), "--as", "second_admin"])
    assert imported.exit_code == 0, imported.output
    assert "closed" in imported.output
    assert balance(app, f"volunteer:{owed.ids['rider']}:cash") == 0
