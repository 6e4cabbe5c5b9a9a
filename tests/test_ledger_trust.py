"""A ledger an auditor can trust without trusting the database (issue 14): the Merkle tree the
sealers build, signed heads, ``jindou ledger verify`` that reads only and checks the log against
heads signed outside the database, and rewrites with every hash recomputed that only such a
head still catches."""

from __future__ import annotations

import copy
import hashlib
import json
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, insert, select, update

import ledger
from ledger import Posting, heads, merkle
from ledger.models import Account, ChainLink, Entry, TreeNode, UnsealedEntry
from ledger.models import Posting as PostingRow
from tests.ledger_rewrite import guards_off, recompute_everything
from tests.web_support import PASSWORD, ApiClient, csrf_token, in_app

SOURCE = "world:points"
WALLET = "volunteer:1:wallet"
AWARDS = (30, 150, 20, 40)


@pytest.fixture
def cli(app):
    return app.test_cli_runner()



def signer(app) -> heads.Signer:
    return heads.Signer(app.config["JINDOU_LEDGER_SIGNING_KEY"])


def award(session, number: int, amount: int) -> int:
    return ledger.post(session, idempotency_key=f"trust:{number}", kind="manual_award",
                       postings=[Posting(SOURCE, -amount, "POINT"),
                                 Posting(WALLET, amount, "POINT")]).entry_id


def open_chart(session) -> None:
    ledger.open_account(session, SOURCE, "POINT", "equity")
    ledger.open_account(session, WALLET, "POINT", "liability", no_overdraft=True)


def seal_and_sign(app) -> dict:
    def work(session):
        ledger.seal_all(session)
        head = heads.current_head(session, signer(app))
        heads.record(session, head)
        return head
    return in_app(app, work)


def awards_each_signed(app) -> tuple[list[int], dict]:
    """The awards, each sealed and followed by a signed head (as the worker's seal job keeps
    one after each seal); answers the entry ids and the last head."""
    in_app(app, open_chart)
    ids, head = [], None
    for number, amount in enumerate(AWARDS):
        ids.append(in_app(app, lambda session, n=number, a=amount: award(session, n, a)))
        head = seal_and_sign(app)
    return ids, head


def write_head(tmp_path, head: dict, name: str = "anchor.json"):
    path = tmp_path / name
    path.write_text(json.dumps(head))
    return path


def verify(cli, *anchors):
    args = ["ledger", "verify"]
    for anchor in anchors:
        args += ["--anchor", str(anchor)]
    return cli.invoke(args=args)


# --- verify reads, never writes ---------------------------------------------------------------

def test_verify_reports_the_queue_and_leaves_it(app, cli):
    in_app(app, open_chart)
    in_app(app, lambda session: [award(session, n, a) for n, a in enumerate(AWARDS)])
    result = verify(cli)
    assert result.exit_code == 0, result.output
    assert result.output.startswith("ok: 4 entries verified; 4 queued for sealing, the oldest ")
    queued = in_app(app, lambda s: s.scalar(select(func.count()).select_from(UnsealedEntry)))
    assert queued == 4


def test_a_forged_entry_in_the_queue_fails_verify_and_is_not_sealed(app, cli):
    ids, _ = awards_each_signed(app)

    def forge(session):
        entry = session.get(Entry, ids[0])
        forged = session.execute(insert(Entry).values(
            idempotency_key="forged", fingerprint=entry.fingerprint, kind="manual_award",
            created_at=entry.created_at, status="posted", hash=entry.hash,
        ).returning(Entry.id)).scalar_one()
        for posting in entry.postings:
            session.execute(insert(PostingRow).values(
                entry_id=forged, account_id=posting.account_id, unit="POINT",
                amount=posting.amount * 10, posted_after=None, created_at=entry.created_at))
        session.execute(insert(UnsealedEntry).values(entry_id=forged))
        return forged
    forged = in_app(app, forge)
    result = verify(cli)
    assert result.exit_code == 1
    assert f"bad: entry {forged}: content does not match its hash" in result.output
    assert "1 queued for sealing" in result.output
    assert in_app(app, lambda s: s.scalar(
        select(func.count()).select_from(ChainLink).where(ChainLink.entry_id == forged))) == 0


# --- the tree the sealers build ---------------------------------------------------------------

def test_sealing_builds_the_rfc6962_tree_of_the_chain(app):
    in_app(app, open_chart)
    for batch in range(3):  # three seals: the tree grows across them
        in_app(app, lambda session, b=batch: [award(session, 10 * b + n, n + 1)
                                              for n in range(5 + b)])
        in_app(app, ledger.seal_all)

    def check(session):
        chain = session.execute(select(ChainLink.entry_id, Entry.hash)
                                .join(Entry, Entry.id == ChainLink.entry_id)
                                .order_by(ChainLink.seq)).all()
        leaves = [merkle.entry_leaf(entry_id, entry_hash) for entry_id, entry_hash in chain]
        stored = dict(((level, idx), bytes(h)) for level, idx, h in session.execute(
            select(TreeNode.level, TreeNode.idx, TreeNode.hash)))
        expected = {(level, idx): h for level, idx, h in merkle.append(0, [], leaves)
                    if level > 0}  # leaves follow from the chain: not stored
        assert stored == expected
        size = len(leaves)
        assert size == 18 == heads.tree_size(session)
        root = merkle.root(size, heads.fetcher(session))
        assert root == merkle.reference_root(leaves)
        for entry_id, _ in chain:
            proof = heads.inclusion(session, entry_id, size)
            assert merkle.verify_inclusion(bytes.fromhex(proof["leaf_hash"]),
                                           proof["leaf_index"], size,
                                           [bytes.fromhex(h) for h in proof["proof"]], root)
        for first in range(size + 1):
            proof = [bytes.fromhex(h) for h in heads.consistency(session, first, size)["proof"]]
            assert merkle.verify_consistency(first, size, merkle.reference_root(leaves[:first]),
                                             root, proof)
    in_app(app, check)


# --- heads and anchors ------------------------------------------------------------------------

def test_head_is_signed_and_verify_checks_the_log_against_it(app, cli, tmp_path):
    in_app(app, open_chart)
    in_app(app, lambda session: award(session, 1, 30))
    in_app(app, ledger.seal_all)
    output = tmp_path / "head.json"
    result = cli.invoke(args=["ledger", "head", "--output", str(output)])
    assert result.exit_code == 0, result.output
    head = json.loads(output.read_text())
    assert set(head) == {"tree_size", "root_hash", "entry_id", "at", "signature", "key_id",
                         "public_key", "accounts_through", "accounts_digest"}
    assert head["tree_size"] == 1 and head["key_id"] == signer(app).key_id
    assert heads.signature_checks(head)
    printed = cli.invoke(args=["ledger", "head"])
    assert json.loads(printed.output)["root_hash"] == head["root_hash"]
    in_app(app, lambda session: award(session, 2, 40))
    in_app(app, ledger.seal_all)  # the log grows: still consistent with the older head
    result = verify(cli, output)
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "ok: 2 entries verified, consistent with 1 signed head(s)"


def rewrite(session, kind: str, ids: list[int]) -> int:
    """One of the rewrites of issue 14; answers the entry it changed."""
    target = ids[1] if kind == "deleted" else ids[0]
    if kind == "raised":  # the 30-point award made 300
        session.execute(update(PostingRow).where(PostingRow.entry_id == target)
                        .values(amount=PostingRow.amount * 10))
    elif kind == "deleted":  # the 150-point award gone
        session.execute(ChainLink.__table__.delete().where(ChainLink.entry_id == target))
        session.execute(PostingRow.__table__.delete().where(PostingRow.entry_id == target))
        session.execute(Entry.__table__.delete().where(Entry.id == target))
    elif kind == "rekinded":  # re-kinded and back-dated 400 days
        entry = session.get(Entry, target)
        moment = entry.created_at - timedelta(days=400)
        session.execute(update(Entry).where(Entry.id == target)
                        .values(kind="activity_hours", created_at=moment))
        session.execute(update(PostingRow).where(PostingRow.entry_id == target)
                        .values(created_at=moment))
    session.flush()
    recompute_everything(session)
    return target


@pytest.mark.parametrize("kind", ["raised", "deleted", "rekinded"])
def test_a_rewrite_with_every_hash_recomputed_fails_only_against_a_signed_head(
        app, cli, tmp_path, kind):
    ids, head = awards_each_signed(app)
    anchor = write_head(tmp_path, head)
    assert verify(cli, anchor).exit_code == 0

    def tamper(session):
        with guards_off(session.connection()):
            return rewrite(session, kind, ids)
    target = in_app(app, tamper)
    unanchored = verify(cli)
    assert unanchored.exit_code == 0, unanchored.output  # the database agrees with itself
    result = verify(cli, anchor)
    assert result.exit_code == 1, result.output
    assert result.output.startswith(f"bad: entry {target}: the log is not consistent with "
                                    f"the anchor {anchor} of 4 entries")


def test_an_account_flag_rewrite_as_owner_fails_against_a_signed_head(app, cli, tmp_path):
    """The head commits to every account's code|unit|kind|no_overdraft: an owner who switches
    the guard trigger off and flips the wallet's flags passes plain verify, not the anchor."""
    ids, _ = awards_each_signed(app)
    anchor = tmp_path / "head.json"
    assert cli.invoke(args=["ledger", "head", "--output", str(anchor)]).exit_code == 0
    head = json.loads(anchor.read_text())
    manifest = heads.manifest_path(anchor)
    lines = json.loads(manifest.read_bytes())
    assert f"{WALLET}|POINT|liability|true" in lines and f"{SOURCE}|POINT|equity|false" in lines
    assert hashlib.sha256(manifest.read_bytes()).hexdigest() == head["accounts_digest"]
    # The signature covers the new fields: without them (or with another digest) it fails.
    assert not heads.signature_checks({k: v for k, v in head.items()
                                       if k not in heads.ACCOUNT_FIELDS})
    assert not heads.signature_checks(dict(head, accounts_digest="ab" * 32))
    # A genuine anchor passes, also once an account was opened after it.
    in_app(app, lambda session: ledger.open_account(session, "volunteer:2:wallet", "POINT",
                                                    "liability", no_overdraft=True))
    genuine = verify(cli, anchor)
    assert genuine.exit_code == 0, genuine.output

    def tamper(session):
        with guards_off(session.connection()):
            session.execute(update(Account).where(Account.code == WALLET)
                            .values(no_overdraft=False, kind="asset"))
    in_app(app, tamper)
    assert verify(cli).exit_code == 0  # the database agrees with itself
    result = verify(cli, anchor)
    assert result.exit_code == 1, result.output
    assert result.output.startswith(
        f"bad: account {WALLET}: its fixed fields (code|unit|kind|no_overdraft) are "
        f"POINT|asset|false, the anchor {anchor} signed POINT|liability|true"), result.output
    manifest.unlink()  # without the manifest: still refused, without a name
    result = verify(cli, anchor)
    assert result.exit_code == 1, result.output
    assert result.output.startswith(
        f"bad: an account's fixed fields (code, unit, kind, no_overdraft) changed since the "
        f"anchor {anchor} was signed"), result.output
    # A head signed before heads committed to the accounts still checks its tree part.
    older = signer(app).sign({k: head[k] for k in heads.SIGNED_FIELDS if k != "key_id"})
    assert heads.signature_checks(older) and "accounts_digest" not in older
    result = verify(cli, write_head(tmp_path, older, "older.json"))
    assert result.exit_code == 0, result.output


def test_anchor_files_that_are_not_heads_of_this_ledger_exit_2_with_one_line(app, cli,
                                                                               tmp_path):
    in_app(app, open_chart)
    in_app(app, lambda session: award(session, 1, 30))
    head = seal_and_sign(app)
    not_json = tmp_path / "not.json"
    not_json.write_text("{tree_size: 1")
    missing = write_head(tmp_path, {k: v for k, v in head.items() if k != "root_hash"}, "m.json")
    other = heads.Signer("11" * 32).sign(  # another instance's ledger: another log
        {k: head[k] for k in heads.SIGNED_FIELDS} | {"root_hash": "cd" * 32})
    foreign = write_head(tmp_path, other, "foreign.json")
    for path, reason in ((not_json, "not JSON"), (missing, "missing root_hash"),
                         (foreign, "not this ledger: signed by key"),
                         (tmp_path / "absent.json", "No such file")):
        result = verify(cli, path)
        assert result.exit_code == 2, (path, result.output)
        assert result.output.startswith(f"bad anchor {path}: {reason}"), result.output
        assert len(result.output.strip().splitlines()) == 1
    # An auditor without the private key names the key to trust.
    named = cli.invoke(args=["ledger", "verify", "--key-id", head["key_id"], "--anchor",
                             str(write_head(tmp_path, head, "kept.json"))])
    assert named.exit_code == 0, named.output
    assert verify(cli, foreign).exit_code == 2
    trusting_other = cli.invoke(args=["ledger", "verify", "--key-id", other["key_id"],
                                      "--anchor", str(foreign)])
    assert trusting_other.exit_code == 1  # its root is not this log's
    assert "not consistent with the anchor" in trusting_other.output
    forged = write_head(tmp_path, dict(head, root_hash="ab" * 32), "forged.json")
    result = verify(cli, forged)
    assert result.exit_code == 1
    assert "its signature does not check" in result.output


def test_the_worker_publishes_heads_that_verify_then_checks(app, make_app, cli, tmp_path):
    from jobs import catalogue
    from jobs import heads as publishing

    directory = tmp_path / "published"
    outside = tmp_path / "outside"
    make_app(JINDOU_LEDGER_HEADS_DIR=str(directory))
    ids, _ = awards_each_signed(app)
    publishing.configure(publishing.Publishing(signer(app), directory, str(outside)))
    try:
        size = in_app(app, catalogue.publish_head)
    finally:
        publishing.configure(None)
    assert size == 4
    [published] = [path for path in directory.glob("head-*.json")
                   if not path.name.endswith(heads.MANIFEST_SUFFIX)]
    manifest = heads.manifest_path(published)
    assert (outside / published.name).read_bytes() == published.read_bytes()
    assert (outside / manifest.name).read_bytes() == manifest.read_bytes()
    assert f"{WALLET}|POINT|liability|true" in json.loads(manifest.read_bytes())
    result = verify(cli)
    assert result.output.strip() == "ok: 4 entries verified, consistent with 1 signed head(s)"

    def tamper(session):
        with guards_off(session.connection()):
            return rewrite(session, "raised", ids)
    target = in_app(app, tamper)
    result = verify(cli)
    assert result.exit_code == 1
    assert result.output.startswith(f"bad: entry {target}: the log is not consistent with "
                                    f"the published head {published.name} of 4 entries")


# --- over HTTP: the head, proofs and a statement a volunteer can keep -------------------------

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "verify-statement"


def add_auditor(app) -> None:
    from volunteers import users

    in_app(app, lambda session: users.create_user(session, "ledger_auditor", PASSWORD,
                                                  role="auditor", area_code="root"))


def awards_over_the_api(app, world, api) -> None:
    for amount in (30, 12, 8):
        response = api.post("/programmes/fengxingxia/awards", as_="dafeng_reviewer",
                            json={"volunteer_id": world.ids["rider"], "amount_points": amount,
                                  "reason": "上报井盖缺失"})
        assert response.status_code == 201, response.get_json()


def test_the_head_and_proofs_for_admins_and_auditors_only(app, world):
    api = ApiClient(app)
    add_auditor(app)
    awards_over_the_api(app, world, api)
    for who in ("root_admin", "ledger_auditor"):
        response = api.get("/ledger/head", as_=who)
        assert response.status_code == 200, response.get_json()
        head = response.get_json()
        assert heads.signature_checks(head) and head["key_id"] == signer(app).key_id
    for who, status in (("rider", 403), ("xindu_admin", 403), (None, 401)):
        assert api.get("/ledger/head", as_=who).status_code == status
        assert api.get("/ledger/proofs/consistency?from=1", as_=who).status_code == status
    size, root = head["tree_size"], bytes.fromhex(head["root_hash"])
    entry_id = in_app(app, lambda session: session.scalar(
        select(ChainLink.entry_id).where(ChainLink.seq == size - 1)))
    proof = api.get(f"/ledger/entries/{entry_id}/proof", as_="ledger_auditor").get_json()
    assert proof["head"]["root_hash"] == head["root_hash"] and proof["leaf_index"] == size - 2
    assert merkle.verify_inclusion(bytes.fromhex(proof["leaf_hash"]), proof["leaf_index"], size,
                                   [bytes.fromhex(h) for h in proof["proof"]], root)
    older = api.get(f"/ledger/entries/{entry_id}/proof?tree_size={size - 1}",
                    as_="ledger_auditor").get_json()
    consistency = api.get(f"/ledger/proofs/consistency?from={size - 1}&to={size}",
                          as_="ledger_auditor").get_json()
    assert consistency["head"]["root_hash"] == head["root_hash"]
    assert merkle.verify_consistency(size - 1, size, bytes.fromhex(older["head"]["root_hash"]),
                                     root, [bytes.fromhex(h) for h in consistency["proof"]])
    for path, status in ((f"/ledger/entries/{entry_id}/proof?tree_size={size - 2}", 404),
                         (f"/ledger/entries/{entry_id}/proof?tree_size={size + 1}", 422),
                         ("/ledger/entries/999999/proof", 404),
                         (f"/ledger/proofs/consistency?from={size + 1}", 422),
                         ("/ledger/proofs/consistency?from=2&to=1", 422),
                         ("/ledger/proofs/consistency?from=x", 422),
                         ("/ledger/proofs/consistency", 422)):
        response = api.get(path, as_="root_admin")
        assert response.status_code == status, (path, response.get_json())
        assert response.get_json()["code"] in {"not_found", "validation_error"}


def test_a_statement_with_proofs_checks_offline_and_any_change_is_refused(app, world,
                                                                          tmp_path):
    api = ApiClient(app)
    awards_over_the_api(app, world, api)
    wallet = world.wallet("rider")
    head = api.get("/ledger/head", as_="root_admin").get_json()
    response = api.get(f"/accounts/{wallet}/statement?proof=true", as_="rider")
    assert response.status_code == 200, response.get_json()
    statement = response.get_json()
    assert [line["amount"] for line in statement["items"]] == [8, 12, 30]
    head_file = write_head(tmp_path, head, "head.json")

    def script(document) -> subprocess.CompletedProcess:
        path = tmp_path / "statement.json"
        path.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
        return subprocess.run([sys.executable, str(SCRIPT), str(path), str(head_file)],
                              capture_output=True, text=True, timeout=60)

    genuine = script(statement)
    assert genuine.returncode == 0, genuine.stderr
    assert genuine.stdout.startswith(f"ok: 3 entries of {wallet} proven under the head of ")
    first_entry = statement["items"][0]["entry_id"]
    changes = {
        "amount": lambda s: s["items"][0].update(amount=80),
        "memo": lambda s: s["items"][0].update(memo="改过"),
        "content": lambda s: s["proof"]["entries"][0]["content"]["postings"][0].__setitem__(
            2, -800),
        "proof": lambda s: s["proof"]["entries"][0]["inclusion"].__setitem__(0, "00" * 32),
        "balance": lambda s: s["account"].update(posted=999999),
        "dropped proof": lambda s: s["proof"]["entries"].pop(),
    }
    for name, change in changes.items():
        altered = copy.deepcopy(statement)
        change(altered)
        result = script(altered)
        assert result.returncode == 1, (name, result.stdout)
        assert result.stderr.startswith("bad: "), (name, result.stderr)
    assert f"entry {first_entry}" in script(
        copy.deepcopy(statement) | {"items": [dict(statement["items"][0], amount=80)]}).stderr
    # The printable page shows the same proofs, and its download checks the same way.
    browser = app.test_client()
    token = csrf_token(browser.get("/login").get_data(as_text=True))
    browser.post("/login", data={"csrf_token": token, "username": "rider", "password": PASSWORD})
    page = browser.get("/wallet/proof")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert head["root_hash"] in html and html.count('data-test="proven"') == 3
    download = browser.get("/wallet/proof.json")
    assert "attachment" in download.headers["Content-Disposition"]
    kept = script(download.get_json())
    assert kept.returncode == 0, kept.stderr
    # A byte of the file changed anywhere that matters: refused.
    text = json.dumps(statement, ensure_ascii=False)
    position = text.index('"posted_after": ') + len('"posted_after": ')
    path = tmp_path / "statement.json"
    path.write_text(text[:position] + "7" + text[position + 1:], encoding="utf-8")
    result = subprocess.run([sys.executable, str(SCRIPT), str(path), str(head_file)],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
