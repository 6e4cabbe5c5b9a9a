"""Reading the ledger through the API: account balances, statements and the journal, each
scoped to who is asking."""

from datetime import UTC, datetime, timedelta, timezone

import pytest

import ledger
from ledger import Posting
from tests.web_support import BUDGET_POINTS

CHINA = timezone(timedelta(hours=8))


def give(api, world, volunteer: str, amount_points: int, as_="dafeng_reviewer") -> dict:
    response = api.post("/programmes/fengxingxia/awards", as_=as_,
                        json={"volunteer_id": world.ids[volunteer],
                              "amount_points": amount_points, "reason": "上报占道经营"})
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def hold_points(app, wallet: str, amount_points: int) -> int:
    """A voucher-like hold from a wallet, made straight on the ledger."""
    from web.extensions import db

    with app.app_context():
        session = db.session
        ledger.open_account(session, "merchant:1:accepted", "POINT", "liability")
        result = ledger.hold(
            session, idempotency_key=f"test:hold:{wallet}:{amount_points}", kind="voucher_hold",
            postings=[Posting(wallet, -amount_points, "POINT"),
                      Posting("merchant:1:accepted", amount_points, "POINT")],
            expires_at=datetime.now(UTC) + timedelta(days=1),
        )
        session.commit()
        ledger.seal_all(session)
        db.session.remove()
        return result.entry_id


# --- accounts --------------------------------------------------------------------------------

def test_an_admin_reads_a_programme_account(api, world):
    response = api.get(f"/accounts/{world.budget}", as_="root_admin")
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert {key: body[key] for key in ("code", "unit", "posted", "pending", "available")} == {
        "code": world.budget, "unit": "POINT", "posted": BUDGET_POINTS, "pending": 0,
        "available": BUDGET_POINTS,
    }
    assert body["kind"] == "equity"
    assert body["no_overdraft"] is True
    assert body["closed"] is False


def test_a_cny_account_reads_in_fen(api, world):
    body = api.get(f"/accounts/{world.fund}", as_="xindu_admin").get_json()
    assert body["unit"] == "CNY"
    assert body["posted"] == BUDGET_POINTS * 100


def test_an_account_shows_held_points_as_pending(app, api, world):
    give(api, world, "rider", 80)
    hold_points(app, world.wallet("rider"), 30)
    body = api.get(f"/accounts/{world.wallet('rider')}", as_="root_admin").get_json()
    assert (body["posted"], body["pending"], body["available"]) == (80, -30, 50)
    merchant = api.get("/accounts/merchant:1:accepted", as_="root_admin").get_json()
    assert (merchant["posted"], merchant["pending"], merchant["available"]) == (0, 30, 0)
    wallet = api.get("/me", as_="rider").get_json()["wallet"]
    assert wallet["posted_points"] == 80
    assert wallet["available_points"] == 50


def test_a_volunteer_reads_their_own_wallet(api, world):
    give(api, world, "rider", 40)
    response = api.get(f"/accounts/{world.wallet('rider')}", as_="rider")
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["available"] == 40
    assert api.get(f"/accounts/{world.wallet('rider')}/statement", as_="rider").status_code == 200


@pytest.mark.parametrize("account", ["wallet:rider2", "budget", "world:points"])
def test_a_volunteer_cannot_read_other_accounts(api, world, account):
    code = {"wallet:rider2": world.wallet("rider2"), "budget": world.budget}.get(account, account)
    for path in (f"/accounts/{code}", f"/accounts/{code}/statement"):
        response = api.get(path, as_="rider")
        assert response.status_code == 403, path
        assert response.get_json()["code"] == "forbidden"


def test_a_reviewer_cannot_read_accounts(api, world):
    response = api.get(f"/accounts/{world.wallet('rider')}", as_="dafeng_reviewer")
    assert response.status_code == 403
    assert response.get_json()["code"] == "forbidden"


def test_an_admin_reads_wallets_of_their_area_only(api, world):
    assert api.get(f"/accounts/{world.wallet('rider')}", as_="xindu_admin").status_code == 200
    response = api.get(f"/accounts/{world.wallet('kunming_volunteer')}", as_="xindu_admin")
    assert response.status_code == 403
    assert api.get(f"/accounts/{world.wallet('kunming_volunteer')}",
                   as_="wuhua_admin").status_code == 200


def test_accounts_of_no_one_belong_to_the_root(api, world):
    assert api.get("/accounts/world:cny", as_="root_admin").status_code == 200
    assert api.get("/accounts/world:cny", as_="xindu_admin").status_code == 403


# --- statements --------------------------------------------------------------------------------

def test_a_statement_lists_postings_newest_first_with_running_balance(api, world):
    for amount in (10, 20, 30):
        give(api, world, "rider", amount)
    body = api.get(f"/accounts/{world.wallet('rider')}/statement", as_="rider").get_json()
    assert body["account"]["code"] == world.wallet("rider")
    assert body["account"]["posted"] == 60
    assert [line["amount"] for line in body["items"]] == [30, 20, 10]
    assert [line["posted_after"] for line in body["items"]] == [60, 30, 10]
    assert {line["kind"] for line in body["items"]} == {"manual_award"}
    assert body["next_before"] is None


def test_a_statement_pages_with_limit_and_before(api, world):
    for amount in range(1, 8):
        give(api, world, "rider", amount)
    path = f"/accounts/{world.wallet('rider')}/statement"
    seen = []
    before = None
    for _ in range(10):
        query = {"limit": 3} if before is None else {"limit": 3, "before": before}
        body = api.get(path, as_="root_admin", query_string=query).get_json()
        seen.append([line["amount"] for line in body["items"]])
        before = body["next_before"]
        if before is None:
            break
        assert before == body["items"][-1]["posting_id"]
    assert seen == [[7, 6, 5], [4, 3, 2], [1]]


def test_a_full_last_page_is_followed_by_an_empty_one(api, world):
    for amount in (1, 2):
        give(api, world, "rider", amount)
    path = f"/accounts/{world.wallet('rider')}/statement"
    first = api.get(path, as_="rider", query_string={"limit": 2}).get_json()
    assert first["next_before"] is not None
    last = api.get(path, as_="rider",
                   query_string={"limit": 2, "before": first["next_before"]}).get_json()
    assert last == {**last, "items": [], "next_before": None}


@pytest.mark.parametrize("query, field", [
    ({"limit": 0}, "limit"), ({"limit": 201}, "limit"), ({"limit": "many"}, "limit"),
    ({"before": 0}, "before"), ({"before": "x"}, "before"),
])
def test_statement_paging_arguments_are_validated(api, world, query, field):
    response = api.get(f"/accounts/{world.budget}/statement", as_="root_admin",
                       query_string=query)
    assert response.status_code == 422
    assert response.get_json()["code"] == "validation_error"
    assert field in response.get_json()["errors"]


def test_a_statement_of_an_unknown_account_is_not_found(api, world):
    response = api.get("/accounts/volunteer:424242:wallet/statement", as_="root_admin")
    assert response.status_code == 404
    assert response.get_json()["code"] == "not_found"


# --- the journal -------------------------------------------------------------------------------

def entry_ids(response) -> list[int]:
    assert response.status_code == 200, response.get_json()
    return [item["id"] for item in response.get_json()["items"]]


def test_a_root_admin_reads_the_whole_journal_with_postings(api, world):
    first = give(api, world, "rider", 10)
    second = give(api, world, "rider2", 20)
    body = api.get("/ledger/entries", as_="root_admin").get_json()
    ids = [item["id"] for item in body["items"]]
    assert ids[:2] == [second["entry_id"], first["entry_id"]]
    assert len(ids) == 3  # and the world's funding
    assert body["next_before"] is None
    newest = body["items"][0]
    assert newest["kind"] == "manual_award"
    assert newest["status"] == "posted"
    assert newest["reference"] == f"award:{second['id']}"
    assert newest["created_by"] == "dafeng_reviewer"
    assert sorted((p["account"], p["amount"], p["unit"]) for p in newest["postings"]) == sorted([
        (world.budget, -20, "POINT"), (world.wallet("rider2"), 20, "POINT")])
    assert sum(p["amount"] for p in body["items"][-1]["postings"] if p["unit"] == "CNY") == 0


def test_the_journal_filters_by_account(api, world):
    mine = give(api, world, "rider", 10)
    give(api, world, "rider2", 20)
    response = api.get("/ledger/entries", as_="root_admin",
                       query_string={"account": world.wallet("rider")})
    assert entry_ids(response) == [mine["entry_id"]]


def test_the_journal_filters_by_kind(api, world):
    award = give(api, world, "rider", 10)
    assert entry_ids(api.get("/ledger/entries", as_="root_admin",
                             query_string={"kind": "manual_award"})) == [award["entry_id"]]
    funding = entry_ids(api.get("/ledger/entries", as_="root_admin",
                                query_string={"kind": "funding"}))
    assert len(funding) == 1 and funding != [award["entry_id"]]
    assert entry_ids(api.get("/ledger/entries", as_="root_admin",
                             query_string={"kind": "voucher_redeem"})) == []


def test_the_journal_filters_by_since(api, world):
    everything = entry_ids(api.get("/ledger/entries", as_="root_admin"))
    since = datetime.now(UTC)
    award = give(api, world, "rider", 10)
    for moment in (since, since.astimezone(CHINA)):
        response = api.get("/ledger/entries", as_="root_admin",
                           query_string={"since": moment.isoformat()})
        assert entry_ids(response) == [award["entry_id"]], moment
    earlier = (since - timedelta(hours=1)).isoformat()
    assert entry_ids(api.get("/ledger/entries", as_="root_admin",
                             query_string={"since": earlier})) == (
        [award["entry_id"]] + everything)


def test_the_journal_pages(api, world):
    for amount in range(1, 6):
        give(api, world, "rider", amount)
    first = api.get("/ledger/entries", as_="root_admin", query_string={"limit": 4}).get_json()
    assert len(first["items"]) == 4
    assert first["next_before"] == first["items"][-1]["id"]
    rest = api.get("/ledger/entries", as_="root_admin",
                   query_string={"limit": 4, "before": first["next_before"]}).get_json()
    assert len(rest["items"]) == 2  # the last award and the funding
    assert rest["next_before"] is None
    ids = [item["id"] for item in first["items"] + rest["items"]]
    assert ids == sorted(ids, reverse=True)


def test_the_journal_rejects_a_bad_since(api, world):
    response = api.get("/ledger/entries", as_="root_admin", query_string={"since": "yesterday"})
    assert response.status_code == 422
    assert "since" in response.get_json()["errors"]


def test_a_volunteer_sees_only_their_own_wallets_entries(api, world):
    mine = give(api, world, "rider", 10)
    give(api, world, "rider2", 20)
    assert entry_ids(api.get("/ledger/entries", as_="rider")) == [mine["entry_id"]]
    own = api.get("/ledger/entries", as_="rider",
                  query_string={"account": world.wallet("rider")})
    assert entry_ids(own) == [mine["entry_id"]]
    assert entry_ids(api.get("/ledger/entries", as_="rider",
                             query_string={"kind": "funding"})) == []


def test_a_volunteer_without_entries_sees_an_empty_journal(api, world):
    give(api, world, "rider", 10)
    assert entry_ids(api.get("/ledger/entries", as_="kunming_volunteer")) == []


@pytest.mark.parametrize("account", ["wallet:rider2", "budget", "world:points"])
def test_a_volunteer_naming_another_account_is_forbidden(api, world, account):
    code = {"wallet:rider2": world.wallet("rider2"), "budget": world.budget}.get(account, account)
    response = api.get("/ledger/entries", as_="rider", query_string={"account": code})
    assert response.status_code == 403
    assert response.get_json()["code"] == "forbidden"


def test_an_area_admin_reads_the_journal_of_an_account_in_their_area(api, world):
    mine = give(api, world, "rider", 10)
    response = api.get("/ledger/entries", as_="xindu_admin",
                       query_string={"account": world.wallet("rider")})
    assert entry_ids(response) == [mine["entry_id"]]
    outside = api.get("/ledger/entries", as_="xindu_admin",
                      query_string={"account": world.wallet("kunming_volunteer")})
    assert outside.status_code == 403


def test_an_area_admin_must_name_an_account(api, world):
    response = api.get("/ledger/entries", as_="xindu_admin")
    assert response.status_code == 403
    assert response.get_json()["code"] == "forbidden"


def test_the_journal_of_an_unknown_account_is_not_found(api, world):
    response = api.get("/ledger/entries", as_="root_admin",
                       query_string={"account": "volunteer:424242:wallet"})
    assert response.status_code == 404
    assert response.get_json()["code"] == "not_found"


def test_timestamps_carry_their_offset_on_every_database(api, world):
    award = give(api, world, "rider", 10)
    statement = api.get(f"/accounts/{world.wallet('rider')}/statement", as_="rider").get_json()
    journal = api.get("/ledger/entries", as_="rider").get_json()
    moments = [award["created_at"], statement["items"][0]["created_at"],
               journal["items"][0]["created_at"]]
    for moment in moments:
        parsed = datetime.fromisoformat(moment)
        assert parsed.utcoffset() is not None, moment
        assert abs(parsed - datetime.now(UTC)) < timedelta(minutes=5), moment
