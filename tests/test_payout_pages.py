"""Payout pages through the test client with real CSRF tokens: a volunteer saves payment
details and sees what is owed on /wallet; an administrator prepares a run, a second approves
it, downloads the batch file and uploads the channel's results; the merchant page shows its
settlement paid with the reference."""

from __future__ import annotations

import io

from tests.test_pages import login, post_form, text_of
from tests.test_payout_runs import owed, result_file  # noqa: F401 (the fixture)


def test_payees_and_administrators_pay_a_run_from_the_pages(app, api, owed):  # noqa: F811
    rider = app.test_client()
    login(rider, "rider")
    wallet = text_of(rider.get("/wallet"))
    assert 'data-test="wallet-payouts"' in wallet and 'data-status="owed"' in wallet
    saved = post_form(rider, "/wallet/payouts", "/wallet/payouts", {
        "channel": "alipay", "account_name": "张小明", "account": "13800005678"},
        follow_redirects=True)
    page = text_of(saved)
    assert "138****5678" in page and "13800005678" not in page and "张*明" in page
    till = app.test_client()
    login(till, "till")
    merchant_page = f"/merchant?merchant={owed.ids['merchant']}"
    post_form(till, merchant_page, f"/merchants/{owed.ids['merchant']}/payment-details", {
        "channel": "alipay", "account_name": "大丰老茶馆", "account": "teahouse@example.com"})
    maker, checker = app.test_client(), app.test_client()
    login(maker, "root_admin")
    login(checker, "second_admin")
    assert 'data-test="payout-runs-link"' in text_of(maker.get("/admin"))
    prepared = post_form(maker, "/admin/payout-runs", "/admin/payout-runs", {
        "programme": "fengxingxia", "kinds": ["cash_out", "bonus", "settlement"]},
        follow_redirects=True)
    html = text_of(prepared)
    assert 'data-status="prepared"' in html and "teahouse@example.com" not in html
    run_path = prepared.request.path
    assert 'data-test="approve"' not in html  # the maker cannot approve
    approved = post_form(checker, run_path, run_path + "/approve", {}, follow_redirects=True)
    assert 'data-status="approved"' in text_of(approved)
    exported = checker.get(run_path + "/export?channel=alipay&format=csv")
    assert exported.status_code == 200 and b"13800005678" in exported.data
    done = post_form(checker, run_path, run_path + "/results", {
        "file": (io.BytesIO(result_file(exported.data)), "result.csv")},
        content_type="multipart/form-data", follow_redirects=True)
    assert 'data-status="closed"' in text_of(done)
    assert 'data-status="paid"' in text_of(rider.get("/wallet"))
    shop = text_of(till.get(merchant_page))
    assert 'data-test="settlements"' in shop and "ALI000" in shop
