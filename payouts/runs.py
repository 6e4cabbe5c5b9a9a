"""Payout runs: gather what is owed, prepare, approve (a second administrator), export, settle.

Owed items come from three sources, each named once in ``payout_items.source``:
- ``cash_out:<id>``: a pending cash-out (``volunteer:V:cash``), paid through
  ``payments.cash_out.mark_paid`` (``volunteer:V:cash -> programme:P:payouts``);
- ``bonus:<snapshot>:<volunteer>``: a year-end bonus the worker credited to
  ``volunteer:V:cash``, paid ``volunteer:V:cash -> programme:P:payouts`` (kind ``bonus_paid``);
- ``settlement:<id>``: a posted merchant settlement (``merchant:M:cash``), paid through
  ``merchants.settlement.mark_paid`` (``merchant:M:cash -> world:cny``).

An item is in one run at most: preparing moves it ``owed -> in_run`` by a conditional UPDATE,
so two runs prepared at once never share one. A payee without payment details stays owed and
is listed as waiting. Results are all or nothing: every line is checked (in this run, the same
amount, not already settled otherwise) before anything moves; a paid line posts its entry
with the channel's reference; a failed line's item is owed again, with the reason, for the
next run.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import String, and_, cast, exists, literal, select, update
from sqlalchemy.orm import Session

import ledger
from honours.models import BonusCrediting, RankingRow, RankingSnapshot
from ledger import Posting
from ledger.clock import now
from merchants import settlement as settlements
from merchants.models import Merchant, Settlement
from payments import cash_out
from payments.models import CashOutRequest
from volunteers import access
from volunteers.errors import Invalid, NotFound
from volunteers.models import Programme, User
from volunteers.notifications import N_, notify
from volunteers.programmes import get_programme

from . import details as payment_details
from .errors import (
    AmountMismatch,
    LineSettled,
    NothingOwed,
    OwnRun,
    RunClosed,
    RunNotApproved,
    UnknownLine,
)
from .models import ITEM_KINDS, PaymentDetails, PayoutItem, PayoutRun, PayoutRunLine

ADMIN = ("admin",)
MAX_LINES_PER_RUN = 1_000
MAX_REFERENCE = 120
MAX_REASON = 200
MAX_RESULTS = MAX_LINES_PER_RUN
MAX_LISTED = 200


# --- gathering ------------------------------------------------------------------------------


def sync_items(session: Session, programme: Programme, up_to: datetime) -> None:
    """Every owed sum of the programme up to ``up_to`` as an item (each source once), set-based;
    items whose source was paid elsewhere meanwhile (a cash-out marked paid by hand) are
    closed as paid with that reference."""
    moment = now()
    item = PayoutItem.__table__
    columns = ["source", "kind", "programme_id", "payee_type", "payee_id", "amount_fen", "memo",
               "owed_since", "status"]

    def add(rows, source):
        session.execute(item.insert().from_select(columns, rows.where(~exists(
            select(PayoutItem.id).where(PayoutItem.source == source)))))

    source = literal("cash_out:") + cast(CashOutRequest.id, String)
    add(select(source, literal("cash_out"), CashOutRequest.programme_id, literal("volunteer"),
               CashOutRequest.volunteer_id, CashOutRequest.amount_fen,
               literal("积分兑现"), CashOutRequest.created_at, literal("owed"))
        .where(CashOutRequest.programme_id == programme.id, CashOutRequest.status == "pending",
               CashOutRequest.created_at <= up_to), source)
    source = (literal("bonus:") + cast(RankingRow.snapshot_id, String)
              + literal(":") + cast(RankingRow.volunteer_id, String))
    add(select(source, literal("bonus"), RankingSnapshot.programme_id, literal("volunteer"),
               RankingRow.volunteer_id, RankingRow.bonus_fen, literal("年度荣誉奖金"),
               RankingSnapshot.published_at, literal("owed"))
        .select_from(RankingRow)
        .join(RankingSnapshot, RankingSnapshot.id == RankingRow.snapshot_id)
        .join(BonusCrediting, BonusCrediting.snapshot_id == RankingSnapshot.id)
        .where(RankingSnapshot.programme_id == programme.id,
               RankingSnapshot.published_at <= up_to, RankingRow.tier.is_not(None),
               RankingRow.bonus_fen > 0,
               RankingRow.position <= BonusCrediting.credited_through), source)
    source = literal("settlement:") + cast(Settlement.id, String)
    add(select(source, literal("settlement"), Settlement.programme_id, literal("merchant"),
               Settlement.merchant_id, Settlement.amount_fen, literal("商户结算"),
               Settlement.created_at, literal("owed"))
        .where(Settlement.programme_id == programme.id, Settlement.status == "posted",
               Settlement.created_at <= up_to), source)
    # Paid by hand since (the old per-request paths): closed with their reference.
    for kind, model, status, reference in (
            ("cash_out", CashOutRequest, "paid", CashOutRequest.payout_reference),
            ("settlement", Settlement, "paid", Settlement.payment_reference)):
        paid = session.execute(
            select(PayoutItem.id, reference).join(
                model, PayoutItem.source == literal(f"{kind}:")
                + cast(model.id, String))
            .where(PayoutItem.programme_id == programme.id, PayoutItem.status == "owed",
                   model.status == status)).all()
        for item_id, paid_reference in paid:
            session.execute(update(PayoutItem).where(PayoutItem.id == item_id).values(
                status="paid", paid_reference=(paid_reference or "")[:MAX_REFERENCE] or None,
                paid_at=moment))
    session.flush()


@dataclass
class Waiting:
    """An owed item whose payee has no payment details: not in any run until they do."""

    item: PayoutItem
    payee_name: str


@dataclass
class Prepared:
    run: PayoutRun | None
    waiting: list[Waiting] = field(default_factory=list)


def _check_kinds(kinds) -> list[str]:
    kinds = list(kinds or ITEM_KINDS)
    if not kinds or len(kinds) > len(ITEM_KINDS) or any(k not in ITEM_KINDS for k in kinds):
        raise Invalid("unknown kind of payout", errors={"kinds": [", ".join(ITEM_KINDS)]})
    return sorted(set(kinds), key=ITEM_KINDS.index)


def prepare(session: Session, actor: User, programme_code: str, *, kinds=None,
            up_to: datetime | None = None) -> Prepared:
    """A run of the programme's owed items of ``kinds`` owed since at most ``up_to`` (now by
    default), oldest first, at most ``MAX_LINES_PER_RUN``; items whose payee has no payment
    details wait. Refused with ``nothing_owed`` when no line can go in (nothing written)."""
    programme = get_programme(session, programme_code)
    access.require(actor, ADMIN, programme.area)
    kinds = _check_kinds(kinds)
    moment = now()
    up_to = ledger.rules.as_utc(up_to) if up_to else moment
    if up_to > moment:
        raise Invalid("up_to is in the future", errors={"up_to": ["now or earlier"]})
    sync_items(session, programme, up_to)
    candidates = session.execute(
        select(PayoutItem, PaymentDetails)
        .outerjoin(PaymentDetails, and_(PaymentDetails.owner_type == PayoutItem.payee_type,
                                        PaymentDetails.owner_id == PayoutItem.payee_id,
                                        PaymentDetails.replaced_at.is_(None)))
        .where(PayoutItem.programme_id == programme.id, PayoutItem.status == "owed",
               PayoutItem.kind.in_(kinds), PayoutItem.owed_since <= up_to)
        .order_by(PayoutItem.owed_since, PayoutItem.id)).all()
    ready = [(item, found) for item, found in candidates if found is not None]
    waiting = [Waiting(item, payee_name(session, item)) for item, found in candidates
               if found is None]
    if not ready:
        raise NothingOwed(f"nothing owed in {programme.code} can be paid now "
                          f"({len(waiting)} waiting for payment details)",
                          waiting=len(waiting))
    ready = ready[:MAX_LINES_PER_RUN]
    run = PayoutRun(programme_id=programme.id, kinds=kinds, up_to=up_to, status="prepared",
                    line_count=0, total_fen=0, prepared_by_id=actor.id, prepared_at=moment)
    session.add(run)
    session.flush()
    taken = session.execute(
        update(PayoutItem).where(PayoutItem.id.in_([item.id for item, _ in ready]),
                                 PayoutItem.status == "owed")
        .values(status="in_run", run_id=run.id)
        .execution_options(synchronize_session=False)).rowcount
    by_id = {item.id: found for item, found in ready}
    mine = session.scalars(select(PayoutItem).where(PayoutItem.run_id == run.id,
                                                    PayoutItem.status == "in_run")
                           .order_by(PayoutItem.owed_since, PayoutItem.id)
                           .execution_options(populate_existing=True)).all()
    if not taken or not mine:
        raise NothingOwed("another run took these lines first; prepare again")
    for item in mine:
        found = by_id[item.id]
        session.add(PayoutRunLine(run_id=run.id, item_id=item.id, details_id=found.id,
                                  channel=found.channel, amount_fen=item.amount_fen,
                                  status="pending"))
    run.line_count, run.total_fen = len(mine), sum(item.amount_fen for item in mine)
    session.flush()
    return Prepared(run, waiting)


def payee_name(session: Session, item: PayoutItem) -> str:
    if item.payee_type == "merchant":
        merchant = session.get(Merchant, item.payee_id)
        return merchant.name if merchant else str(item.payee_id)
    user = session.get(User, item.payee_id)
    return user.display_name if user else str(item.payee_id)


# --- approving and reading ------------------------------------------------------------------


def get_run(session: Session, actor: User, run_id: int) -> PayoutRun:
    run = session.get(PayoutRun, run_id)
    if run is None:
        raise NotFound(f"no payout run {run_id}", run_id=run_id)
    access.require(actor, ADMIN, run.programme.area)
    return run


def _locked_run(session: Session, actor: User, run_id: int) -> PayoutRun:
    run = get_run(session, actor, run_id)
    return session.scalars(select(PayoutRun).where(PayoutRun.id == run.id).with_for_update(
        of=PayoutRun).execution_options(populate_existing=True)).one()


def approve(session: Session, actor: User, run_id: int) -> PayoutRun:
    """The second administrator's approval (maker-checker): never the one who prepared it."""
    run = _locked_run(session, actor, run_id)
    if run.prepared_by_id == actor.id:
        raise OwnRun("a second administrator must approve a payout run you prepared",
                     run_id=run.id)
    if run.status != "prepared":
        raise RunClosed(f"payout run {run.id} is already {run.status}", run_id=run.id,
                        status=run.status)
    run.status, run.approved_by_id, run.approved_at = "approved", actor.id, now()
    session.flush()
    return run


def list_runs(session: Session, actor: User, programme_code: str | None = None,
              limit: int = MAX_LISTED) -> list[PayoutRun]:
    access.require(actor, ADMIN)
    query = select(PayoutRun).order_by(PayoutRun.id.desc()).limit(min(limit, MAX_LISTED))
    if programme_code:
        programme = get_programme(session, programme_code)
        access.require(actor, ADMIN, programme.area)
        query = query.where(PayoutRun.programme_id == programme.id)
    return [run for run in session.scalars(query)
            if access.holds(actor, ADMIN, run.programme.area)]


def totals(run: PayoutRun) -> dict:
    counts = {status: 0 for status in ("pending", "paid", "failed")}
    fen = dict(counts)
    for line in run.lines:
        counts[line.status] += 1
        fen[line.status] += line.amount_fen
    return {"counts": counts, "fen": fen}


# --- exporting ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ExportLine:
    line_id: int
    reference: str  # the line's reference in the file (商户流水号 / 明细单号 / 业务参考号)
    name: str
    account: str
    bank: str
    amount_fen: int
    memo: str


def line_reference(line: PayoutRunLine) -> str:
    return f"JD{line.run_id:06d}L{line.id:08d}"


def export_lines(session: Session, actor: User, run_id: int, channel: str) -> list[ExportLine]:
    """The run's pending lines paid by ``channel``, with the payees' details opened."""
    run = get_run(session, actor, run_id)
    if run.status == "prepared":
        raise RunNotApproved(f"payout run {run.id} is not approved yet", run_id=run.id)
    found = []
    for line in run.lines:
        if line.channel != channel or line.status != "pending":
            continue
        opened = payment_details.opened(line.details)
        found.append(ExportLine(line.id, line_reference(line), opened["name"],
                                opened["account"], opened.get("bank", ""), line.amount_fen,
                                f"{run.programme.name} {line.item.memo}"[:40]))
    return found


# --- results --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Result:
    line_id: int
    status: str  # paid or failed
    reference: str | None = None
    reason: str | None = None
    amount_fen: int | None = None  # from a result file: checked against the line


def settle(session: Session, actor: User, run_id: int, results: list[Result]) -> PayoutRun:
    """Apply the channel's results, all or nothing. A line given the result it already has
    (same status and reference) is left alone, so a file imported twice pays nothing twice."""
    run = _locked_run(session, actor, run_id)
    if run.status == "prepared":
        raise RunNotApproved(f"payout run {run.id} is not approved yet", run_id=run.id)
    if not results or len(results) > MAX_RESULTS:
        raise Invalid("results name 1 to 1000 lines", errors={"lines": ["1 to 1000 lines"]})
    lines = {line.id: line for line in run.lines}
    seen = set()
    todo = []
    for result in results:
        line = lines.get(result.line_id)
        if line is None:
            raise UnknownLine(f"line {result.line_id} is not in payout run {run.id}",
                              line_id=result.line_id, run_id=run.id)
        if result.line_id in seen:
            raise Invalid(f"line {result.line_id} is named twice",
                          errors={"lines": [f"line {result.line_id} twice"]})
        seen.add(result.line_id)
        reference = (result.reference or "").strip()
        reason = (result.reason or "").strip()
        if result.status not in ("paid", "failed"):
            raise Invalid("a result is paid or failed", errors={"status": ["paid or failed"]},
                          line_id=line.id)
        if result.status == "paid" and not 0 < len(reference) <= MAX_REFERENCE:
            raise Invalid(f"line {line.id}: a paid line needs the channel's reference",
                          errors={"reference": [f"1 to {MAX_REFERENCE} characters"]},
                          line_id=line.id)
        if result.status == "failed" and not 0 < len(reason) <= MAX_REASON:
            raise Invalid(f"line {line.id}: a failed line needs its reason",
                          errors={"reason": [f"1 to {MAX_REASON} characters"]},
                          line_id=line.id)
        if result.amount_fen is not None and result.amount_fen != line.amount_fen:
            raise AmountMismatch(
                f"line {line.id}: {result.amount_fen} fen in the results, "
                f"{line.amount_fen} in the run", line_id=line.id, run_fen=line.amount_fen,
                result_fen=result.amount_fen)
        if line.status != "pending":
            if line.status == result.status and (line.reference or "") == reference:
                continue  # imported before
            raise LineSettled(f"line {line.id} is already {line.status}", line_id=line.id,
                              status=line.status)
        todo.append((line, result.status, reference, reason))
    moment = now()
    for line, status, reference, reason in todo:
        item = line.item
        if status == "paid":
            item.paid_entry_id = _pay(session, actor, item, reference)
            item.status, item.paid_reference, item.paid_at = "paid", reference, moment
            line.reference = reference
        else:
            item.status, item.run_id, item.last_failure = "owed", None, reason
            line.reason = reason
        line.status, line.settled_at, line.settled_by_id = status, moment, actor.id
    if all(line.status != "pending" for line in run.lines):
        run.status, run.closed_at = "closed", moment
    session.flush()
    return run


def _pay(session: Session, actor: User, item: PayoutItem, reference: str) -> int:
    """The ledger's owed -> paid move for one item; answers the entry's id."""
    kind, _, rest = item.source.partition(":")
    if kind == "cash_out":
        return cash_out.mark_paid(session, actor, int(rest), reference).paid_entry_id
    if kind == "settlement":
        return settlements.mark_paid(session, actor, int(rest), reference).paid_entry_id
    programme = item.programme
    result = ledger.post(
        session, idempotency_key=f"{item.source}:paid", kind="bonus_paid",
        postings=[Posting(f"volunteer:{item.payee_id}:cash", -item.amount_fen, "CNY"),
                  Posting(programme.account("payouts"), item.amount_fen, "CNY")],
        reference=item.source, memo=reference, actor=actor.username)
    notify(session, item.payee_id,
           N_("Your year-end bonus was paid: ¥%(yuan)s, reference %(reference)s."),
           {"yuan": f"{item.amount_fen // 100}.{item.amount_fen % 100:02d}",
            "reference": reference}, link="/wallet", reference=item.source)
    return result.entry_id


# --- what payees see ------------------------------------------------------------------------


def payee_items(session: Session, payee_type: str, payee_id: int,
                limit: int = MAX_LISTED) -> list[PayoutItem]:
    return list(session.scalars(select(PayoutItem).where(
        PayoutItem.payee_type == payee_type, PayoutItem.payee_id == payee_id)
        .order_by(PayoutItem.id.desc()).limit(min(limit, MAX_LISTED))))


def my_payouts(session: Session, actor: User) -> dict:
    """A volunteer's owed and paid lines: cash-outs and year-end bonuses, with the items made
    for those no run has gathered yet."""
    for programme_id in session.scalars(select(CashOutRequest.programme_id).where(
            CashOutRequest.volunteer_id == actor.id).distinct()):
        sync_items(session, session.get(Programme, programme_id), now())
    for programme_id in session.scalars(
            select(RankingSnapshot.programme_id).join(
                RankingRow, and_(RankingRow.snapshot_id == RankingSnapshot.id,
                                 RankingRow.volunteer_id == actor.id)).distinct()):
        sync_items(session, session.get(Programme, programme_id), now())
    items = payee_items(session, "volunteer", actor.id)
    return {"items": items,
            "details": payment_details.masked(payment_details.current(
                session, "volunteer", actor.id))}


def merchant_settlements(session: Session, actor: User, merchant_id: int) -> list[dict]:
    """A merchant's settlements with their run and payment reference, for its own staff or
    an administrator over it."""
    from merchants import offers

    merchant = offers.get_merchant(session, merchant_id)
    offers.require_staff_or_admin(session, actor, merchant)
    rows = session.scalars(select(Settlement).where(Settlement.merchant_id == merchant.id)
                           .order_by(Settlement.id.desc()).limit(MAX_LISTED)).all()
    items = {item.source: item for item in session.scalars(select(PayoutItem).where(
        PayoutItem.source.in_([f"settlement:{row.id}" for row in rows])))}
    out = []
    for row in rows:
        item = items.get(f"settlement:{row.id}")
        out.append({"id": row.id, "period": row.period, "points": row.points,
                    "amount_fen": row.amount_fen, "status": row.status,
                    "run_id": item.run_id if item else None,
                    "payment_reference": row.payment_reference,
                    "created_at": row.created_at, "paid_at": row.paid_at})
    return out


# --- documents (API, pages, CLI) ------------------------------------------------------------


def run_document(session: Session, run: PayoutRun, waiting: list[Waiting] | None = None) -> dict:
    """A run with its lines (payment details masked) and its sums by status."""
    summed = totals(run)
    return {
        "id": run.id, "programme": run.programme.code, "kinds": run.kinds, "up_to": run.up_to,
        "status": run.status, "lines": run.line_count, "total_fen": run.total_fen,
        "paid_fen": summed["fen"]["paid"], "failed_fen": summed["fen"]["failed"],
        "pending_fen": summed["fen"]["pending"],
        "prepared_by": run.prepared_by.username, "prepared_at": run.prepared_at,
        "approved_by": run.approved_by.username if run.approved_by else None,
        "approved_at": run.approved_at, "closed_at": run.closed_at,
        "channels": sorted({line.channel for line in run.lines}),
        "items": [{"id": line.id, "reference": line_reference(line), "kind": line.item.kind,
                   "source": line.item.source, "payee_type": line.item.payee_type,
                   "payee_id": line.item.payee_id, "channel": line.channel,
                   "account_name": line.details.masked_name,
                   "account": line.details.masked_account, "amount_fen": line.amount_fen,
                   "status": line.status, "channel_reference": line.reference,
                   "reason": line.reason} for line in run.lines],
        "waiting": [{"item_id": w.item.id, "kind": w.item.kind,
                     "payee_type": w.item.payee_type, "payee_id": w.item.payee_id,
                     "payee_name": w.payee_name, "amount_fen": w.item.amount_fen}
                    for w in (waiting or [])],
    }


def item_document(item: PayoutItem) -> dict:
    return {"id": item.id, "kind": item.kind, "source": item.source,
            "programme": item.programme.code, "amount_fen": item.amount_fen,
            "memo": item.memo, "owed_since": item.owed_since, "status": item.status,
            "run_id": item.run_id, "paid_reference": item.paid_reference,
            "paid_at": item.paid_at, "last_failure": item.last_failure}


def my_payouts_document(session: Session, actor: User) -> dict:
    found = my_payouts(session, actor)
    owed = [item for item in found["items"] if item.status != "paid"]
    paid = [item for item in found["items"] if item.status == "paid"]
    return {"owed": [item_document(i) for i in owed], "paid": [item_document(i) for i in paid],
            "owed_fen": sum(i.amount_fen for i in owed),
            "paid_fen": sum(i.amount_fen for i in paid), "payment_details": found["details"]}


def export_file(session: Session, actor: User, run_id: int, channel: str,
                fmt: str) -> tuple[bytes, str]:
    """The batch-transfer file of the run's pending lines for ``channel``: (bytes, name)."""
    from . import files

    if channel not in files.CHANNELS:
        raise Invalid("unknown channel", errors={"channel": [", ".join(files.CHANNELS)]})
    if fmt not in files.FORMATS:
        raise Invalid("unknown format", errors={"format": ["csv or xlsx"]})
    lines = export_lines(session, actor, run_id, channel)
    run = session.get(PayoutRun, run_id)
    day = now().astimezone(ledger.clock.CHINA).strftime("%Y%m%d")
    rows = files.rows_for(channel, run.id, run.programme.name, day, lines)
    return files.render(rows, fmt), f"{files.batch_number(run.id)}-{channel}-{day}.{fmt}"


def import_results(session: Session, actor: User, run_id: int, data: bytes,
                   filename: str) -> PayoutRun:
    from . import files

    get_run(session, actor, run_id)
    return settle(session, actor, run_id, files.parse_results(data, filename, run_id))
