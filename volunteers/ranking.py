"""The annual ranking (丰行侠's 大侠 / 少侠 / 侠士): configure, preview, publish, check.

A volunteer's score is what they *earned* in the year: the credits to their wallet by the
counting entry kinds, read from the ledger's per-year totals (``ledger_account_totals``), one
row per volunteer and kind, never the journal and never the balance. Spending, donating or
cashing out never lowers a rank; a reversed reward does (the ledger books a reversal against
the kind and year of the entry it reverses).

Publishing writes an immutable snapshot: the configuration, the ledger position it read (the
last entry id and the newest chain link) and every row; then it pays each tier's bonus from
``programme:P:fund`` to ``volunteer:V:cash``, all or nothing. ``check`` recomputes a snapshot
from the journal itself, only up to that entry, and names every difference.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import and_, case, exists, func, insert, literal, select
from sqlalchemy.orm import Session, aliased

import ledger
from ledger import Account, AccountTotal, ChainLink, Entry, PostingRow
from ledger.db import UtcDateTime
from ledger.rules import BOOKING_TIMEZONE

from . import access, tiers
from .errors import Conflict, Invalid, NotFound
from .honour_errors import InsufficientFundsForBonuses
from .models import STAFF_ROLES, Area, Notification, Programme, RoleGrant, User
from .notifications import N_
from .programmes import get_programme
from .ranking_models import RankingConfig, RankingRow, RankingSnapshot

EARNING_KINDS = ("report_reward", "service_hours", "wish_reward", "daily_checkin",
                 "manual_award")
DEFAULT_TIERS = (
    {"key": "daxia", "name": "大侠", "share_bp": 500, "min_points": None, "bonus_fen": 50_000},
    {"key": "shaoxia", "name": "少侠", "share_bp": 1500, "min_points": None,
     "bonus_fen": 20_000},
    {"key": "xiashi", "name": "侠士", "share_bp": 3000, "min_points": None,
     "bonus_fen": 10_000},
)
DEFAULT_MIN_POINTS = 1
MAX_KINDS = 20
ROW_INSERT_BATCH = 10_000
# Rows fetched per round trip when reading a million scores (a server-side cursor).
FETCH_ROWS = 50_000
# A preview that sees the ledger move under it tries again this many times.
MAX_POSITION_ATTEMPTS = 3
RANKING_ROLES = ("admin",)


@dataclass(frozen=True)
class Position:
    """Where in the ledger a ranking read: entries up to ``entry_id``; the newest sealed
    chain link then (0 and the genesis hash on an empty chain)."""

    entry_id: int
    chain_seq: int
    chain_hash: str


@dataclass(frozen=True)
class TierSummary:
    key: str
    name: str
    count: int
    min_points: int | None
    max_points: int | None
    bonus_fen: int

    @property
    def bonus_total_fen(self) -> int:
        return self.count * self.bonus_fen


@dataclass
class Ranking:
    programme: Programme
    year: int
    config: dict
    position: Position
    placements: list[tiers.Placement]

    @property
    def eligible_count(self) -> int:
        return len(self.placements)

    @property
    def ranked(self) -> list[tiers.Placement]:
        return [p for p in self.placements if p.tier is not None]

    @property
    def bonus_total_fen(self) -> int:
        return sum(p.bonus_fen for p in self.placements)

    def tier_summaries(self) -> list[TierSummary]:
        return summarise(self.config, self.placements)


def summarise(config: dict, placements) -> list[TierSummary]:
    by_tier: dict[str, list[int]] = {rule["key"]: [] for rule in config["tiers"]}
    for placement in placements:
        if placement.tier is not None:
            by_tier[placement.tier].append(placement.points)
    return [TierSummary(rule["key"], rule["name"], len(by_tier[rule["key"]]),
                        min(by_tier[rule["key"]], default=None),
                        max(by_tier[rule["key"]], default=None), rule["bonus_fen"])
            for rule in config["tiers"]]


# --- configuration ------------------------------------------------------------------------


def default_config() -> dict:
    return {"mode": "proportion", "tiers": [dict(rule) for rule in DEFAULT_TIERS],
            "min_points": DEFAULT_MIN_POINTS, "counting_kinds": list(EARNING_KINDS),
            "exclude_staff": True}


def current_config(session: Session, programme: Programme) -> dict:
    row = session.scalar(select(RankingConfig).where(RankingConfig.programme_id == programme.id))
    if row is None:
        return default_config()
    return {"mode": row.mode, "tiers": row.tiers, "min_points": row.min_points,
            "counting_kinds": row.counting_kinds, "exclude_staff": row.exclude_staff}


def tier_rules(config: dict) -> list[tiers.TierRule]:
    return [tiers.TierRule(key=rule["key"], name=rule["name"], share_bp=rule.get("share_bp"),
                           min_points=rule.get("min_points"), bonus_fen=rule.get("bonus_fen", 0))
            for rule in config["tiers"]]


def configure(session: Session, actor: User, code: str, config: dict) -> dict:
    """Replace the programme's ranking configuration (a published snapshot keeps its copy)."""
    programme = get_programme(session, code)
    access.require(actor, RANKING_ROLES, programme.area)
    config = validated_config(config)
    row = session.scalar(select(RankingConfig).where(RankingConfig.programme_id == programme.id))
    if row is None:
        row = RankingConfig(programme_id=programme.id)
        session.add(row)
    row.mode, row.tiers, row.min_points = config["mode"], config["tiers"], config["min_points"]
    row.counting_kinds, row.exclude_staff = config["counting_kinds"], config["exclude_staff"]
    row.updated_at, row.updated_by_id = datetime.now(UTC), actor.id
    session.flush()
    return config


def validated_config(config: dict) -> dict:
    merged = default_config() | {k: v for k, v in config.items() if v is not None}
    rules = [{"key": str(rule["key"]), "name": str(rule["name"]),
              "share_bp": rule.get("share_bp"), "min_points": rule.get("min_points"),
              "bonus_fen": int(rule.get("bonus_fen") or 0)} for rule in merged["tiers"]]
    merged["tiers"] = rules
    problems = tiers.check_rules(tier_rules(merged), merged["mode"])
    kinds = merged["counting_kinds"]
    if not kinds or len(kinds) > MAX_KINDS or not all(isinstance(k, str) for k in kinds):
        problems["counting_kinds"] = [f"1 to {MAX_KINDS} entry kinds"]
    if "reversal" in kinds:
        problems.setdefault("counting_kinds", []).append(
            "reversals count against the kind they reverse, not as a kind of their own")
    if not isinstance(merged["min_points"], int) or merged["min_points"] < 0:
        problems["min_points"] = ["0 or more"]
    if problems:
        raise Invalid("the ranking configuration is not valid", errors=problems)
    return merged


# --- computing ----------------------------------------------------------------------------


def china_year_now() -> int:
    return datetime.now(UTC).astimezone(BOOKING_TIMEZONE).year


year_bounds = ledger.rules.year_bounds


def check_year(programme: Programme, year: int) -> None:
    first = ledger.rules.year_of(programme.created_at)
    if year > china_year_now():
        raise Invalid(f"{year} has not begun", errors={"year": ["a year in the future"]})
    if year < first:
        raise Invalid(f"programme {programme.code} began in {first}",
                      errors={"year": [f"before the programme began ({first})"]})


def ledger_position(session: Session) -> Position:
    entry_id = session.scalar(select(func.max(Entry.id))) or 0
    link = session.execute(
        select(ChainLink.seq, ChainLink.hash).order_by(ChainLink.seq.desc()).limit(1)).first()
    if link is None:
        return Position(entry_id, 0, ledger.rules.GENESIS_HASH)
    return Position(entry_id, link.seq, link.hash)


def compute(session: Session, actor: User | None, code: str, year: int,
            config: dict | None = None) -> Ranking:
    """The year's ranking as it stands (a preview: nothing is written). ``actor`` None is the
    system (the ``check`` command)."""
    programme = get_programme(session, code)
    if actor is not None:
        access.require(actor, RANKING_ROLES, programme.area)
    check_year(programme, year)
    config = validated_config(config) if config else current_config(session, programme)
    for _ in range(MAX_POSITION_ATTEMPTS):
        position = ledger_position(session)
        candidates = candidates_from_totals(session, programme, year, config, position)
        if not _moved_since(session, position, year, config):
            break
    placements = tiers.assign(candidates, tier_rules(config), config["mode"],
                              config["min_points"])
    return Ranking(programme, year, config, position, placements)


def _moved_since(session: Session, position: Position, year: int, config: dict) -> bool:
    """Whether an entry that counts for this ranking arrived after ``position`` was read (the
    totals may then include it): a concurrent reward or reversal."""
    original = aliased(Entry)
    start, end = year_bounds(year)
    kind = func.coalesce(original.kind, Entry.kind)
    moment = func.coalesce(original.created_at, Entry.created_at)
    return session.scalar(
        select(func.count()).select_from(Entry)
        .outerjoin(original, original.id == Entry.reverses_id)
        .where(Entry.id > position.entry_id, kind.in_(config["counting_kinds"]),
               moment >= start, moment < end)
    ) > 0


def _eligible_people(query, programme: Programme, config: dict):
    """Volunteers of the programme's area, active, and (by default) holding no staff role."""
    query = (query.join(User, User.id == Account.owner_id)
             .join(Area, Area.id == User.area_id)
             .where(Account.owner_type == "volunteer", Account.unit == "POINT",
                    User.active.is_(True),
                    Area.path.startswith(programme.area.path, autoescape=True)))
    if config["exclude_staff"]:
        query = query.where(~exists(select(RoleGrant.id).where(
            RoleGrant.user_id == User.id, RoleGrant.role.in_(STAFF_ROLES))))
    return query


def candidates_from_totals(session: Session, programme: Programme, year: int, config: dict,
                           position: Position) -> list[tiers.Candidate]:
    """Scores from the ledger's per-year totals, one index range per volunteer: the points
    credited and when the latest credit still standing was posted (``last_credit_at``), in
    rank order already (the sort in ``tiers`` then only confirms it)."""
    points = func.sum(AccountTotal.credited)
    reached = func.max(AccountTotal.last_credit_at)
    query = _eligible_people(
        select(Account.owner_id, points, reached)
        .select_from(Account)
        .join(AccountTotal, AccountTotal.account_id == Account.id)
        .where(AccountTotal.year == year, AccountTotal.kind.in_(config["counting_kinds"])),
        programme, config,
    ).group_by(Account.owner_id).having(points >= max(config["min_points"], 1)).order_by(
        points.desc(), reached.asc().nulls_last(), Account.owner_id)
    rows = session.execute(query, execution_options={"yield_per": FETCH_ROWS})
    return [tiers.Candidate(volunteer_id, int(total), ledger.rules.as_utc(moment))
            for volunteer_id, total, moment in rows]


def candidates_from_journal(session: Session, programme: Programme, year: int, config: dict,
                            position: Position) -> list[tiers.Candidate]:
    """The same scores summed from the journal itself, up to ``position`` only: the naive
    GROUP BY over every posting, which ``check`` uses to audit a snapshot. The moment of
    reaching the score comes from the same pass: the latest credit no reversal took back."""
    original, reversal = aliased(Entry), aliased(Entry)
    start, end = year_bounds(year)
    kind = func.coalesce(original.kind, Entry.kind)
    moment = func.coalesce(original.created_at, Entry.created_at)
    is_credit = and_(Entry.reverses_id.is_(None), PostingRow.amount > 0)
    credited = case(
        (is_credit, PostingRow.amount),
        (and_(Entry.reverses_id.is_not(None), PostingRow.amount < 0), PostingRow.amount),
        else_=0)
    points = func.sum(credited)
    reached = func.max(case((and_(is_credit, reversal.id.is_(None)), PostingRow.created_at)))
    query = _eligible_people(
        select(Account.owner_id, points, reached)
        .select_from(PostingRow)
        .join(Entry, Entry.id == PostingRow.entry_id)
        .outerjoin(original, original.id == Entry.reverses_id)
        .outerjoin(reversal, and_(reversal.reverses_id == Entry.id,
                                  reversal.id <= position.entry_id))
        .join(Account, Account.id == PostingRow.account_id)
        .where(Entry.id <= position.entry_id, Entry.status == "posted",
               kind.in_(config["counting_kinds"]), moment >= start, moment < end),
        programme, config,
    ).group_by(Account.owner_id).having(points >= max(config["min_points"], 1))
    rows = session.execute(query, execution_options={"yield_per": FETCH_ROWS})
    return [tiers.Candidate(volunteer_id, int(total), ledger.rules.as_utc(when))
            for volunteer_id, total, when in rows]


# --- publishing ---------------------------------------------------------------------------

# progress(steps_done_now, total_steps): rows written and bonuses paid, for a progress bar.
Progress = Callable[[int, int], None]


def publish(session: Session, actor: User, code: str, year: int,
            progress: Progress | None = None) -> RankingSnapshot:
    """Compute, snapshot every row and pay every bonus, or refuse and write nothing.
    Flushes; the caller commits (and on any refusal rolls back)."""
    ranking = compute(session, actor, code, year)
    programme = ranking.programme
    if published(session, programme, year) is not None:
        raise Conflict(f"the {year} ranking of {code} is already published",
                       programme=code, year=year)
    _require_fund(session, programme, ranking.bonus_total_fen)
    snapshot = RankingSnapshot(
        programme_id=programme.id, year=year, config=ranking.config,
        ledger_entry_id=ranking.position.entry_id, chain_seq=ranking.position.chain_seq,
        chain_hash=ranking.position.chain_hash, eligible_count=ranking.eligible_count,
        ranked_count=len(ranking.ranked), bonus_total_fen=ranking.bonus_total_fen,
        bonus_entry_count=0, published_at=datetime.now(UTC), published_by_id=actor.id)
    session.add(snapshot)
    session.flush()  # the unique (programme, year) refuses a concurrent twin here
    total = ranking.eligible_count + sum(1 for p in ranking.placements if p.bonus_fen)
    report = (lambda steps: progress(steps, total)) if progress else None
    _insert_rows(session, snapshot.id, ranking.placements, report)
    snapshot.bonus_entry_count = _pay_bonuses(session, actor, ranking, snapshot, report)
    _notify_honoured(session, snapshot, programme)
    session.flush()
    return snapshot


HONOUR_MESSAGE = N_("You were named %(tier)s in the %(year)s ranking of %(programme)s.")
HONOURS_LINK = "/honours/mine"


def _notify_honoured(session: Session, snapshot: RankingSnapshot, programme: Programme) -> None:
    """Tell every volunteer with a tier, in one INSERT ... SELECT from the snapshot's rows (a
    million-row ranking must not build half a million objects)."""
    names = [(rule["key"], rule["name"]) for rule in snapshot.config["tiers"]]
    tier_name = case(*[(RankingRow.tier == key, literal(name)) for key, name in names],
                     else_=literal(""))
    postgres = session.get_bind().dialect.name == "postgresql"
    build = func.json_build_object if postgres else func.json_object
    params = build("tier", tier_name, "year", literal(snapshot.year),
                   "programme", literal(programme.name))
    rows = select(RankingRow.volunteer_id, literal(HONOUR_MESSAGE), params,
                  literal(HONOURS_LINK), literal(f"ranking:{snapshot.id}"),
                  literal(snapshot.published_at, UtcDateTime())).where(
        RankingRow.snapshot_id == snapshot.id, RankingRow.tier.is_not(None))
    session.execute(insert(Notification).from_select(
        ["user_id", "message", "params", "link", "reference", "created_at"], rows))


def _require_fund(session: Session, programme: Programme, total_fen: int) -> None:
    available = ledger.balance(session, programme.account("fund")).available
    if total_fen > available:
        raise InsufficientFundsForBonuses(
            f"the fund holds {available} fen; the bonuses need {total_fen}",
            missing_fen=total_fen - available, needed_fen=total_fen, available_fen=available)


def _insert_rows(session: Session, snapshot_id: int, placements, progress) -> None:
    columns = ("snapshot_id", "position", "rank", "volunteer_id", "points", "reached_at",
               "tier", "bonus_fen")
    if session.get_bind().dialect.name == "postgresql":
        # COPY: a million rows in seconds, inside the request's own transaction.
        cursor = session.connection().connection.driver_connection.cursor()
        with cursor.copy(f"COPY ranking_rows ({', '.join(columns)}) FROM STDIN") as copy:
            for index, p in enumerate(placements):
                copy.write_row((snapshot_id, p.position, p.rank, p.volunteer_id, p.points,
                                p.reached_at, p.tier, p.bonus_fen))
                if progress and index % ROW_INSERT_BATCH == ROW_INSERT_BATCH - 1:
                    progress(ROW_INSERT_BATCH)
        return
    for start in range(0, len(placements), ROW_INSERT_BATCH):
        batch = placements[start:start + ROW_INSERT_BATCH]
        session.execute(insert(RankingRow), [
            dict(snapshot_id=snapshot_id, position=p.position, rank=p.rank,
                 volunteer_id=p.volunteer_id, points=p.points, reached_at=p.reached_at,
                 tier=p.tier, bonus_fen=p.bonus_fen) for p in batch])
        if progress:
            progress(len(batch))


def cash_code(volunteer_id: int) -> str:
    return f"volunteer:{volunteer_id}:cash"


def _pay_bonuses(session: Session, actor: User, ranking: Ranking, snapshot, progress) -> int:
    """Each tier's bonus from ``programme:P:fund`` to every payee's ``volunteer:V:cash``
    (opened when missing): one ``ledger.pay_out`` per tier, all or nothing with the rest of
    the publication."""
    names = {rule["key"]: rule["name"] for rule in ranking.config["tiers"]}
    entries = 0
    for tier in names:
        payees = [ledger.Payee(cash_code(p.volunteer_id), p.bonus_fen, p.volunteer_id)
                  for p in ranking.placements if p.tier == tier and p.bonus_fen > 0]
        if not payees:
            continue
        payout = ledger.Payout(
            source=ranking.programme.account("fund"), unit="CNY", kind="ranking_bonus",
            key_prefix=f"ranking:{snapshot.id}:bonus:{tier}", reference=f"ranking:{snapshot.id}",
            memo=f"{ranking.year} 年度荣誉奖金 {names[tier]}", actor=actor.username,
            payee_owner_type="volunteer")
        try:
            entries += len(ledger.pay_out(session, payout, payees))
        except ledger.InsufficientFunds as error:
            # The fund shrank since we looked: the caller rolls the whole publication back.
            available = ledger.balance(session, ranking.programme.account("fund")).available
            raise InsufficientFundsForBonuses(
                str(error), missing_fen=max(ranking.bonus_total_fen - available, 1)) from error
        if progress:
            progress(len(payees))
    return entries


# --- reading and checking -----------------------------------------------------------------


def published(session: Session, programme: Programme, year: int) -> RankingSnapshot | None:
    return session.scalar(select(RankingSnapshot).where(
        RankingSnapshot.programme_id == programme.id, RankingSnapshot.year == year))


def get_snapshot(session: Session, actor: User | None, code: str, year: int) -> RankingSnapshot:
    programme = get_programme(session, code)
    if actor is not None:
        access.require(actor, RANKING_ROLES, programme.area)
    snapshot = published(session, programme, year)
    if snapshot is None:
        raise NotFound(f"no published {year} ranking for {code}", programme=code, year=year)
    return snapshot


def snapshot_rows(session: Session, snapshot: RankingSnapshot, *, offset: int = 0,
                  limit: int = 100, tier: str | None = None) -> list[RankingRow]:
    query = (select(RankingRow).where(RankingRow.snapshot_id == snapshot.id)
             .order_by(RankingRow.position).offset(offset).limit(limit))
    if tier is not None:
        query = query.where(RankingRow.tier == tier)
    return list(session.scalars(query))


def snapshot_placements(session: Session, snapshot: RankingSnapshot) -> list[tiers.Placement]:
    rows = session.execute(
        select(RankingRow.position, RankingRow.rank, RankingRow.volunteer_id, RankingRow.points,
               RankingRow.reached_at, RankingRow.tier, RankingRow.bonus_fen)
        .where(RankingRow.snapshot_id == snapshot.id).order_by(RankingRow.position))
    return [tiers.Placement(*row) for row in rows]


def row_of(session: Session, snapshot: RankingSnapshot, volunteer_id: int) -> RankingRow | None:
    return session.scalar(select(RankingRow).where(RankingRow.snapshot_id == snapshot.id,
                                                   RankingRow.volunteer_id == volunteer_id))


def check(session: Session, code: str, year: int, progress: Progress | None = None) -> list[str]:
    """Recompute a published snapshot from the journal up to its ledger position and name
    every difference (empty: the snapshot is what the ledger says)."""
    programme = get_programme(session, code)
    snapshot = get_snapshot(session, None, code, year)
    differences = []
    link = session.scalar(select(ChainLink.hash).where(ChainLink.seq == snapshot.chain_seq))
    if snapshot.chain_seq and link != snapshot.chain_hash:
        differences.append(f"chain link {snapshot.chain_seq} is {link}, "
                           f"the snapshot recorded {snapshot.chain_hash}")
    position = Position(snapshot.ledger_entry_id, snapshot.chain_seq, snapshot.chain_hash)
    candidates = candidates_from_journal(session, programme, year, snapshot.config, position)
    expected = {p.volunteer_id: p for p in tiers.assign(
        candidates, tier_rules(snapshot.config), snapshot.config["mode"],
        snapshot.config["min_points"])}
    recorded = {p.volunteer_id: p for p in snapshot_placements(session, snapshot)}
    if progress:
        progress(len(recorded), len(recorded))
    for volunteer_id in sorted(expected.keys() | recorded.keys()):
        mine, theirs = recorded.get(volunteer_id), expected.get(volunteer_id)
        if mine is None:
            differences.append(f"volunteer {volunteer_id}: missing from the snapshot "
                               f"(expected {theirs.points} points, tier {theirs.tier})")
        elif theirs is None:
            differences.append(f"volunteer {volunteer_id}: in the snapshot "
                               f"({mine.points} points) but not eligible by the journal")
        elif (mine.points, mine.position, mine.tier, mine.bonus_fen) != (
                theirs.points, theirs.position, theirs.tier, theirs.bonus_fen):
            differences.append(
                f"volunteer {volunteer_id}: snapshot {mine.points} points, position "
                f"{mine.position}, tier {mine.tier}; journal {theirs.points} points, position "
                f"{theirs.position}, tier {theirs.tier}")
    return differences


def years_published(session: Session, programme: Programme) -> list[int]:
    return list(session.scalars(select(RankingSnapshot.year).where(
        RankingSnapshot.programme_id == programme.id).order_by(RankingSnapshot.year.desc())))

