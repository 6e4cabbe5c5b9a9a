"""The annual ranking (丰行侠's 大侠 / 少侠 / 侠士): configure, preview, publish, check.

A volunteer's score is what they *earned* in the year: the credits to their wallet by the
counting entry kinds, read from the ledger's per-year totals (``ledger_account_totals``), one
row per volunteer and kind, never the journal and never the balance. Spending, donating or
cashing out never lowers a rank; a reversed reward does (the ledger books a reversal against
the kind and year of the entry it reverses).

Publishing writes an immutable snapshot: the configuration, the ledger position it read (the
last entry id and the newest chain link) and every row, and reserves the whole bonus total
from ``programme:P:fund`` into ``programme:P:bonuses:YEAR``, all or nothing; the worker then
credits each bonus to ``volunteer:V:cash`` (``honours.bonuses``). ``check`` recomputes a snapshot
from the journal itself, only up to that entry, and names every difference.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import (
    and_,
    case,
    delete,
    exists,
    func,
    insert,
    literal,
    null,
    or_,
    select,
    text,
)
from sqlalchemy.orm import Session, aliased

import ledger
from ledger import Account, AccountTotal, ChainLink, Entry, PostingRow
from ledger.clock import CHINA, now
from volunteers import access, audit, fund_sources
from volunteers.errors import Conflict, Invalid, NotFound
from volunteers.models import STAFF_ROLES, Area, Programme, RoleGrant, User
from volunteers.programmes import get_programme

from . import bonuses, tiers
from .bonuses import HONOUR_MESSAGE, HONOURS_LINK  # noqa: F401 (re-exported)
from .errors import InsufficientFundsForBonuses
from .models import RankingConfig, RankingRow, RankingSnapshot

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
# Rows fetched per round trip when reading a million scores (a server-side cursor).
FETCH_ROWS = 50_000
# How PostgreSQL ranks a million scores, for the ranking's transaction only.
POSTGRES_SETTINGS = (("work_mem", "256MB"), ("jit", "off"), ("parallel_setup_cost", "100"),
                     ("parallel_tuple_cost", "0.001"))
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
    """A computed ranking: its counts over every eligible volunteer, and the placements from
    the top (all of them unless the caller asked for the first page only)."""

    programme: Programme
    year: int
    config: dict
    position: Position
    placements: list[tiers.Placement]
    eligible_count: int
    ranked_count: int
    bonus_total_fen: int
    summaries: list[TierSummary]

    def tier_summaries(self) -> list[TierSummary]:
        return self.summaries


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


AUDITED_FIELDS = ("mode", "tiers", "min_points", "counting_kinds", "exclude_staff")


def configure(session: Session, actor: User, code: str, config: dict) -> dict:
    """Replace the programme's ranking configuration (a published snapshot keeps its copy)."""
    programme = get_programme(session, code)
    access.require(actor, RANKING_ROLES, programme.area)
    config = validated_config(config)
    row = session.scalar(select(RankingConfig).where(RankingConfig.programme_id == programme.id))
    before = None if row is None else audit.snapshot(row, AUDITED_FIELDS)
    if row is None:
        row = RankingConfig(programme_id=programme.id)
        session.add(row)
    row.mode, row.tiers, row.min_points = config["mode"], config["tiers"], config["min_points"]
    row.counting_kinds, row.exclude_staff = config["counting_kinds"], config["exclude_staff"]
    row.updated_at, row.updated_by_id = now(), actor.id
    session.flush()
    audit.record(session, actor, "ranking_config.update", f"programme:{programme.code}",
                 before, audit.snapshot(row, AUDITED_FIELDS), area=programme.area)
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
    return now().astimezone(CHINA).year


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
            config: dict | None = None, *, limit: int | None = None) -> Ranking:
    """The year's ranking as it stands (a preview: nothing is written). ``actor`` None is the
    system. The database ranks, cuts the tiers and counts them (``preview_query``); only the
    first ``limit`` placements (all when None) and one line per tier cross the wire."""
    programme = get_programme(session, code)
    if actor is not None:
        access.require(actor, RANKING_ROLES, programme.area)
    check_year(programme, year)
    config = validated_config(config) if config else current_config(session, programme)
    _give_room_to_sort(session)
    for _ in range(MAX_POSITION_ATTEMPTS):
        position = ledger_position(session)
        placements, spans = [], {}
        rows = session.execute(preview_query(programme, year, config, limit),
                               execution_options={"yield_per": FETCH_ROWS})
        for row in rows:
            spans[row.tier] = (row.tier_count, row.tier_low, row.tier_high)
            if limit is None or row.position <= limit:
                placements.append(tiers.Placement(
                    row.position, row.rank, row.volunteer_id, row.points,
                    ledger.rules.as_utc(row.reached_at), row.tier, row.bonus_fen))
        if not _moved_since(session, position, year, config):
            break
    summaries = [TierSummary(rule["key"], rule["name"], *spans.get(rule["key"], (0, None, None)),
                             rule["bonus_fen"]) for rule in config["tiers"]]
    return Ranking(programme, year, config, position, placements,
                   sum(count for count, _, _ in spans.values()),
                   sum(summary.count for summary in summaries),
                   sum(summary.bonus_total_fen for summary in summaries), summaries)


def preview_query(programme: Programme, year: int, config: dict, limit: int | None):
    """``ranked_query`` in position order with each tier's count and points span (window
    aggregates), cut to the first ``limit`` positions plus the first row of every tier, so
    a preview of a million volunteers reads a page and a few lines, not a million rows."""
    ranked = ranked_query(programme, year, config).subquery("ranked")
    by_tier = {"partition_by": ranked.c.tier}
    counted = select(
        ranked, func.count().over(**by_tier).label("tier_count"),
        func.min(ranked.c.points).over(**by_tier).label("tier_low"),
        func.max(ranked.c.points).over(**by_tier).label("tier_high"),
        func.min(ranked.c.position).over(**by_tier).label("tier_first"),
    ).subquery("counted")
    query = select(counted).order_by(counted.c.position)
    if limit is None:
        return query
    return query.where(or_(counted.c.position <= limit,
                           counted.c.position == counted.c.tier_first))


def _give_room_to_sort(session: Session) -> None:
    """A million scores sort in memory rather than on disk; the query is not compiled first
    (JIT costs more than it saves here); and the scan of the yearly totals may be split
    between parallel workers, which PostgreSQL's default costs rarely allow for a query that
    then aggregates (a third faster here). This transaction only."""
    if session.get_bind().dialect.name == "postgresql":
        for setting, value in POSTGRES_SETTINGS:
            session.execute(text(f"SET LOCAL {setting} = '{value}'"))


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


def scores_query(programme: Programme, year: int, config: dict):
    """Each eligible volunteer's score from the ledger's per-year totals: the points credited
    by the counting kinds and when the latest credit still standing was posted
    (``last_credit_at``). The totals are summed per account first, so the joins that decide
    who is eligible see one row per wallet rather than one per wallet and kind."""
    earned = (select(AccountTotal.account_id,
                     func.sum(AccountTotal.credited).label("points"),
                     func.max(AccountTotal.last_credit_at).label("reached_at"))
              .where(AccountTotal.year == year,
                     AccountTotal.kind.in_(config["counting_kinds"]))
              .group_by(AccountTotal.account_id).subquery("earned"))
    points = func.sum(earned.c.points)
    return _eligible_people(
        select(Account.owner_id.label("volunteer_id"), points.label("points"),
               func.max(earned.c.reached_at).label("reached_at"))
        .select_from(Account).join(earned, earned.c.account_id == Account.id),
        programme, config,
    ).group_by(Account.owner_id).having(points >= max(config["min_points"], 1))


def ranked_query(programme: Programme, year: int, config: dict):
    """The tier rule of ``honours.tiers`` in SQL, over ``scores_query``: every eligible
    volunteer with position, competition rank, tier and bonus (columns named as
    ``ranking_rows``'), in no particular order.

    By share, tier i ends at position floor(N x (share_1 + ... + share_i)), moved down past
    everyone tied with the last one there. A tied group starts at its competition rank, so
    the group lands in the first tier whose end is at or after that rank: the whole group
    goes to the higher tier, and a tier its neighbour swallowed stays empty. ``check``
    recomputes every snapshot with ``tiers.assign`` from the journal, so the two
    implementations audit each other."""
    return ranked_from(scores_query(programme, year, config).subquery("scores"), config)


def ranked_from(scores, config: dict):
    """``ranked_query`` over any ``scores`` with volunteer_id, points and reached_at."""
    order = (scores.c.points.desc(), scores.c.reached_at.asc().nulls_last(),
             scores.c.volunteer_id)
    ordered = select(
        scores.c.volunteer_id, scores.c.points, scores.c.reached_at,
        func.row_number().over(order_by=order).label("position"),
        func.rank().over(order_by=scores.c.points.desc()).label("rank"),
        func.count().over().label("eligible"),
    ).subquery("ordered")
    conditions = []
    if config["mode"] == "proportion":
        cumulative = 0
        for rule in config["tiers"]:
            cumulative += rule["share_bp"]
            end = (ordered.c.eligible * cumulative) // tiers.BASIS_POINTS
            conditions.append((ordered.c.rank <= end, rule))
    else:
        conditions = [(ordered.c.points >= rule["min_points"], rule)
                      for rule in config["tiers"]]
    tier = case(*[(condition, literal(rule["key"])) for condition, rule in conditions],
                else_=null())
    bonus = case(*[(condition, literal(rule["bonus_fen"])) for condition, rule in conditions],
                 else_=literal(0))
    return select(ordered.c.position, ordered.c.rank, ordered.c.volunteer_id,
                  ordered.c.points, ordered.c.reached_at, tier.label("tier"),
                  bonus.label("bonus_fen"))


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
    """Rank, snapshot every row and reserve the whole bonus total from the fund into the
    year's bonus liability, or refuse and write nothing. The rows are ranked and written by
    the database in one INSERT ... SELECT (no million-row round trip); the reservation is one
    entry (``bonuses.reserve``). The individual credits and the notices follow after commit,
    from the worker (``bonuses.credit_all``). Flushes; the caller commits (and on any
    refusal rolls back)."""
    programme = get_programme(session, code)
    access.require(actor, RANKING_ROLES, programme.area)
    check_year(programme, year)
    config = current_config(session, programme)
    if published(session, programme, year) is not None:
        raise Conflict(f"the {year} ranking of {code} is already published",
                       programme=code, year=year)
    _give_room_to_sort(session)
    snapshot = RankingSnapshot(
        programme_id=programme.id, year=year, config=config, ledger_entry_id=0, chain_seq=0,
        chain_hash=ledger.rules.GENESIS_HASH, eligible_count=0, ranked_count=0,
        bonus_total_fen=0, bonus_entry_count=0, published_at=now(),
        published_by_id=actor.id)
    session.add(snapshot)
    session.flush()  # the unique (programme, year) refuses a concurrent twin here
    position = _insert_rows(session, snapshot, programme, year, config)
    snapshot.ledger_entry_id, snapshot.chain_seq = position.entry_id, position.chain_seq
    snapshot.chain_hash = position.chain_hash
    counted = session.execute(
        select(func.count(), func.count(RankingRow.tier),
               func.coalesce(func.sum(RankingRow.bonus_fen), 0))
        .where(RankingRow.snapshot_id == snapshot.id)).one()
    snapshot.eligible_count, snapshot.ranked_count = counted[0], counted[1]
    snapshot.bonus_total_fen = int(counted[2])
    _require_fund(session, programme, snapshot.bonus_total_fen)
    if progress:
        progress(snapshot.eligible_count, snapshot.eligible_count + 1)
    crediting = _reserve_bonuses(session, actor.username, programme, snapshot)
    snapshot.bonus_entry_count = 1 if crediting.reserve_entry_id else 0
    if progress:
        progress(1, snapshot.eligible_count + 1)
    session.flush()
    return snapshot


def _reserve_bonuses(session, actor_name, programme, snapshot):
    return bonuses.reserve(session, actor_name, programme, snapshot)


def _insert_rows(session: Session, snapshot: RankingSnapshot, programme: Programme, year: int,
                 config: dict) -> Position:
    """The ranking straight into ``ranking_rows``; again if a counting entry arrived while it
    ran (the rows would not match the position read before)."""
    columns = ("position", "rank", "volunteer_id", "points", "reached_at", "tier", "bonus_fen")
    ranked = ranked_query(programme, year, config).subquery("ranked")
    rows = select(literal(snapshot.id), *[ranked.c[name] for name in columns])
    for _ in range(MAX_POSITION_ATTEMPTS):
        position = ledger_position(session)
        session.execute(insert(RankingRow).from_select(["snapshot_id", *columns], rows))
        if not _moved_since(session, position, year, config):
            return position
        session.execute(delete(RankingRow).where(RankingRow.snapshot_id == snapshot.id))
    raise Conflict("the ledger kept moving while the ranking was written; try again")


def _require_fund(session: Session, programme: Programme, total_fen: int) -> None:
    available = fund_sources.best_available(session, programme, "ranking_bonus")
    if total_fen > available:
        raise InsufficientFundsForBonuses(
            f"the fund holds {available} fen; the bonuses need {total_fen}",
            missing_fen=total_fen - available, needed_fen=total_fen, available_fen=available)


cash_code = bonuses.cash_code


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


def snapshot_placements(session: Session, snapshot: RankingSnapshot, *,
                        by_volunteer: bool = False):
    """Every row of the snapshot as placements, streamed (by position, or by volunteer)."""
    order = RankingRow.volunteer_id if by_volunteer else RankingRow.position
    rows = session.execute(
        select(RankingRow.position, RankingRow.rank, RankingRow.volunteer_id, RankingRow.points,
               RankingRow.reached_at, RankingRow.tier, RankingRow.bonus_fen)
        .where(RankingRow.snapshot_id == snapshot.id).order_by(order),
        execution_options={"yield_per": FETCH_ROWS})
    return (tiers.Placement(*row) for row in rows)


def row_of(session: Session, snapshot: RankingSnapshot, volunteer_id: int) -> RankingRow | None:
    return session.scalar(select(RankingRow).where(RankingRow.snapshot_id == snapshot.id,
                                                   RankingRow.volunteer_id == volunteer_id))


def check(session: Session, code: str, year: int, progress: Progress | None = None) -> list[str]:
    """Recompute a published snapshot from the journal up to its ledger position and name
    every difference (empty: the snapshot is what the ledger says). The recomputed ranking
    is held in memory; the snapshot's rows stream past it."""
    programme = get_programme(session, code)
    snapshot = get_snapshot(session, None, code, year)
    differences = []
    link = session.scalar(select(ChainLink.hash).where(ChainLink.seq == snapshot.chain_seq))
    if snapshot.chain_seq and link != snapshot.chain_hash:
        differences.append(f"chain link {snapshot.chain_seq} is {link}, "
                           f"the snapshot recorded {snapshot.chain_hash}")
    _give_room_to_sort(session)
    position = Position(snapshot.ledger_entry_id, snapshot.chain_seq, snapshot.chain_hash)
    expected = {p.volunteer_id: p for p in tiers.assign(
        candidates_from_journal(session, programme, year, snapshot.config, position),
        tier_rules(snapshot.config), snapshot.config["mode"], snapshot.config["min_points"])}
    for mine in snapshot_placements(session, snapshot, by_volunteer=True):
        theirs = expected.pop(mine.volunteer_id, None)
        if theirs is None:
            differences.append(f"volunteer {mine.volunteer_id}: in the snapshot "
                               f"({mine.points} points) but not eligible by the journal")
        elif (mine.points, mine.position, mine.tier, mine.bonus_fen) != (
                theirs.points, theirs.position, theirs.tier, theirs.bonus_fen):
            differences.append(
                f"volunteer {mine.volunteer_id}: snapshot {mine.points} points, position "
                f"{mine.position}, tier {mine.tier}; journal {theirs.points} points, position "
                f"{theirs.position}, tier {theirs.tier}")
    for volunteer_id in sorted(expected):
        theirs = expected[volunteer_id]
        differences.append(f"volunteer {volunteer_id}: missing from the snapshot "
                           f"(expected {theirs.points} points, tier {theirs.tier})")
    differences.extend(bonuses.check_money(session, snapshot))
    if progress:
        progress(snapshot.eligible_count, snapshot.eligible_count)
    return differences


def years_published(session: Session, programme: Programme) -> list[int]:
    return list(session.scalars(select(RankingSnapshot.year).where(
        RankingSnapshot.programme_id == programme.id).order_by(RankingSnapshot.year.desc())))

