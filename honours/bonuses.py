"""Year-end bonuses after publication: the reservation, the crediting job, the proof.

Publishing a ranking (``ranking.publish``) reserves the whole bonus total in the same
transaction as the snapshot: one entry moves it from ``programme:P:fund`` to the bonus
liability ``programme:P:bonuses:YEAR`` (kind ``ranking_bonus_reserve``). So the money is
all-or-nothing with the ranking, and publishing a million volunteers writes one entry, not
sixteen thousand.

The individual credits come after commit, from the worker (``jobs.catalogue``'s
``credit_bonuses``, ``jindou worker --once``): each batch of ``BATCH_ROWS`` positions is one
transaction that locks the snapshot's crediting row, pays the batch's bonuses from the bonus
liability to each ``volunteer:V:cash`` through ``ledger.pay_out`` (keys
``ranking:S:bonus:<first position>:<n>``, fixed by the immutable rows, so a replay credits
nobody twice: idempotent per snapshot and volunteer), writes the batch's notices and moves
``credited_through``. A stopped worker resumes at the next batch.

``check_money`` proves the credits made plus the reservation left equal the reservation made
(and the snapshot's bonus total); ``ranking check`` includes it.
"""

from __future__ import annotations

from sqlalchemy import case, func, insert, literal, select
from sqlalchemy.orm import Session

import ledger
from ledger import Entry, Posting, PostingRow
from ledger.clock import now
from ledger.db import UtcDateTime
from volunteers import fund_sources
from volunteers.models import Notification, Programme
from volunteers.notifications import N_

from .errors import InsufficientFundsForBonuses
from .models import BonusCrediting, RankingRow, RankingSnapshot

# Positions per crediting transaction: about 160 entries of 63 payees at most.
BATCH_ROWS = 10_000
RESERVE_KIND, CREDIT_KIND = "ranking_bonus_reserve", "ranking_bonus"
HONOUR_MESSAGE = N_("You were named %(tier)s in the %(year)s ranking of %(programme)s.")
HONOURS_LINK = "/honours/mine"
PAID, BEING_PAID = "paid", "being_paid"


def bonus_account(programme: Programme, year: int) -> str:
    return programme.account(f"bonuses:{year}")


def cash_code(volunteer_id: int) -> str:
    return f"volunteer:{volunteer_id}:cash"


def reference_of(snapshot: RankingSnapshot) -> str:
    return f"ranking:{snapshot.id}"


# --- publishing: the reservation ----------------------------------------------------------


def reserve(session: Session, actor_name: str, programme: Programme,
            snapshot: RankingSnapshot) -> BonusCrediting:
    """The whole bonus total from the fund into the year's bonus liability, and the row the
    crediting job works from. Raises ``InsufficientFundsForBonuses`` (the caller rolls the
    publication back)."""
    account = bonus_account(programme, snapshot.year)
    last_position, bonus_count = session.execute(
        select(func.coalesce(func.max(RankingRow.position), 0),
               func.count(case((RankingRow.bonus_fen > 0, 1))))
        .where(RankingRow.snapshot_id == snapshot.id, RankingRow.tier.is_not(None))).one()
    crediting = BonusCrediting(
        snapshot_id=snapshot.id, account=account, reserved_fen=snapshot.bonus_total_fen,
        reserve_entry_id=None, last_position=last_position, credited_through=0,
        credited_count=0, credited_fen=0, bonus_count=bonus_count, started_at=now(),
        finished_at=None if last_position else now())
    ledger.open_account(session, account, "CNY", "liability", no_overdraft=True,
                        owner_type="programme", owner_id=programme.id)
    if snapshot.bonus_total_fen:
        try:
            paying = fund_sources.choose(session, programme, snapshot.bonus_total_fen,
                                         "ranking_bonus")
            result = ledger.post(
                session, idempotency_key=f"{reference_of(snapshot)}:reserve", kind=RESERVE_KIND,
                postings=[Posting(paying, -snapshot.bonus_total_fen, "CNY"),
                          Posting(account, snapshot.bonus_total_fen, "CNY")],
                reference=reference_of(snapshot), memo=f"{snapshot.year} 年度荣誉奖金（预留）",
                actor=actor_name)
        except (ledger.InsufficientFunds, fund_sources.FundExhausted) as error:
            available = fund_sources.best_available(session, programme, "ranking_bonus")
            raise InsufficientFundsForBonuses(
                str(error), missing_fen=max(snapshot.bonus_total_fen - available, 1),
                needed_fen=snapshot.bonus_total_fen, available_fen=available) from error
        crediting.reserve_entry_id = result.entry_id
    session.add(crediting)
    session.flush()
    return crediting


# --- the crediting job ----------------------------------------------------------------------


def pending(session: Session) -> list[int]:
    """Snapshots whose crediting is not finished, oldest first."""
    return list(session.scalars(select(BonusCrediting.snapshot_id).where(
        BonusCrediting.finished_at.is_(None)).order_by(BonusCrediting.snapshot_id)))


def credit_batch(session: Session, snapshot_id: int, batch_rows: int = BATCH_ROWS) -> int:
    """One batch of the snapshot's credits and notices (flushes; the caller commits). Answers
    how many bonuses it credited; 0 with the crediting finished when nothing is left."""
    crediting = session.scalars(
        select(BonusCrediting).where(BonusCrediting.snapshot_id == snapshot_id)
        .with_for_update().execution_options(populate_existing=True)).first()
    if crediting is None or crediting.finished_at is not None:
        return 0
    snapshot = session.get(RankingSnapshot, snapshot_id)
    start = crediting.credited_through
    end = min(start + batch_rows, crediting.last_position)
    in_batch = (RankingRow.snapshot_id == snapshot_id, RankingRow.position > start,
                RankingRow.position <= end, RankingRow.tier.is_not(None))
    payees = [ledger.Payee(cash_code(volunteer_id), bonus_fen, volunteer_id)
              for volunteer_id, bonus_fen in session.execute(
                  select(RankingRow.volunteer_id, RankingRow.bonus_fen)
                  .where(*in_batch, RankingRow.bonus_fen > 0).order_by(RankingRow.position))]
    results = []
    if payees:
        names = {rule["key"]: rule["name"] for rule in snapshot.config["tiers"]}
        results = ledger.pay_out(session, ledger.Payout(
            source=crediting.account, unit="CNY", kind=CREDIT_KIND,
            key_prefix=f"{reference_of(snapshot)}:bonus:{start + 1}",
            reference=reference_of(snapshot),
            memo=f"{snapshot.year} 年度荣誉奖金 {'/'.join(names.values())}",
            actor=snapshot.published_by.username, payee_owner_type="volunteer"), payees)
    if not results or any(result.created for result in results):
        _notify(session, snapshot, in_batch)  # a replayed batch told its rows already
    crediting.credited_through = end
    crediting.credited_count += len(payees)
    crediting.credited_fen += sum(payee.amount for payee in payees)
    if end >= crediting.last_position:
        crediting.finished_at = now()
    session.flush()
    return len(payees)


def _notify(session: Session, snapshot: RankingSnapshot, in_batch) -> None:
    """Tell every volunteer of the batch with a tier, in one INSERT ... SELECT."""
    names = [(rule["key"], rule["name"]) for rule in snapshot.config["tiers"]]
    tier_name = case(*[(RankingRow.tier == key, literal(name)) for key, name in names],
                     else_=literal(""))
    postgres = session.get_bind().dialect.name == "postgresql"
    build = func.json_build_object if postgres else func.json_object
    params = build("tier", tier_name, "year", literal(snapshot.year),
                   "programme", literal(snapshot.programme.name))
    rows = select(RankingRow.volunteer_id, literal(HONOUR_MESSAGE), params,
                  literal(HONOURS_LINK), literal(reference_of(snapshot)),
                  literal(now(), UtcDateTime())).where(*in_batch)
    session.execute(insert(Notification).from_select(
        ["user_id", "message", "params", "link", "reference", "created_at"], rows))


def credit_all(session: Session, max_batches: int | None = None) -> int:
    """Every pending snapshot's credits, batch by batch, each batch committed: the worker's
    job. Answers how many bonuses it credited."""
    total = batches = 0
    for snapshot_id in pending(session):
        while max_batches is None or batches < max_batches:
            total += credit_batch(session, snapshot_id)
            batches += 1
            finished = session.get(BonusCrediting, snapshot_id).finished_at is not None
            session.commit()
            if finished:
                break
    return total


# --- reading and proving --------------------------------------------------------------------


def crediting_of(session: Session, snapshot: RankingSnapshot) -> BonusCrediting | None:
    return session.get(BonusCrediting, snapshot.id)


def progress_document(crediting: BonusCrediting | None) -> dict | None:
    """For the administrator: how far the crediting is."""
    if crediting is None:
        return None
    return {"status": PAID if crediting.finished_at else BEING_PAID,
            "reserved_fen": crediting.reserved_fen, "credited_fen": crediting.credited_fen,
            "bonus_count": crediting.bonus_count, "credited_count": crediting.credited_count,
            "credited_through": crediting.credited_through,
            "last_position": crediting.last_position,
            "started_at": crediting.started_at, "finished_at": crediting.finished_at}


def state_of_row(crediting: BonusCrediting | None, position: int, bonus_fen: int) -> str | None:
    """For the volunteer: their bonus ``paid`` or ``being_paid`` (None without a bonus)."""
    if not bonus_fen:
        return None
    if crediting is None or position <= crediting.credited_through:
        return PAID
    return BEING_PAID


def check_money(session: Session, snapshot: RankingSnapshot) -> list[str]:
    """Credits made + reservation left = reservation made = the snapshot's bonus total, and
    the credits are exactly the bonuses of the rows credited so far."""
    crediting = crediting_of(session, snapshot)
    reference = reference_of(snapshot)
    credited = session.scalar(
        select(func.coalesce(func.sum(PostingRow.amount), 0)).join(
            Entry, Entry.id == PostingRow.entry_id)
        .where(Entry.reference == reference, Entry.kind == CREDIT_KIND, PostingRow.amount > 0))
    differences = []
    if crediting is None or crediting.reserve_entry_id is None:
        # Paid at publication (before reservations) or nothing to pay.
        if crediting is not None and crediting.finished_at is None:
            differences.append("bonuses: crediting has no reservation to pay from")
        if credited != snapshot.bonus_total_fen:
            differences.append(f"bonuses: {credited} fen credited, the snapshot's bonuses "
                               f"total {snapshot.bonus_total_fen}")
        return differences
    made = session.scalar(select(func.coalesce(func.sum(PostingRow.amount), 0)).join(
        ledger.Account, ledger.Account.id == PostingRow.account_id).where(
        PostingRow.entry_id == crediting.reserve_entry_id,
        ledger.Account.code == crediting.account))
    left = ledger.balance(session, crediting.account).posted
    if made != snapshot.bonus_total_fen:
        differences.append(f"bonuses: {made} fen reserved, the snapshot's bonuses total "
                           f"{snapshot.bonus_total_fen}")
    if credited + left != made:
        differences.append(f"bonuses: {credited} fen credited + {left} left in "
                           f"{crediting.account} is not the {made} reserved")
    due = session.scalar(select(func.coalesce(func.sum(RankingRow.bonus_fen), 0)).where(
        RankingRow.snapshot_id == snapshot.id, RankingRow.tier.is_not(None),
        RankingRow.position <= crediting.credited_through))
    if credited != due or credited != crediting.credited_fen:
        differences.append(f"bonuses: {credited} fen credited in the ledger, {due} due to the "
                           f"rows up to position {crediting.credited_through}, "
                           f"{crediting.credited_fen} recorded")
    return differences


def money_summary(session: Session, snapshot: RankingSnapshot) -> str:
    """One line for ``ranking check``: reserved, credited, left."""
    crediting = crediting_of(session, snapshot)
    if crediting is None or crediting.reserve_entry_id is None:
        return f"bonuses {snapshot.bonus_total_fen} fen paid at publication"
    left = ledger.balance(session, crediting.account).posted
    return (f"bonuses reserved {crediting.reserved_fen} fen = credited "
            f"{crediting.reserved_fen - left} + left {left} "
            f"({crediting.credited_count} of {crediting.bonus_count} volunteers)")
