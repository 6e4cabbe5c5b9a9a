"""What the honours show: rankings as documents (API, pages, exports), a volunteer's own
honours, certificates and their public verification, and special honours for deeds."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, select
from sqlalchemy.orm import Session, object_session

from ledger.clock import now
from volunteers import access, programmes
from volunteers.errors import Invalid, NotFound
from volunteers.models import Award, User
from volunteers.users import get_user

from . import bonuses, ranking
from .models import RankingRow, RankingSnapshot, SpecialHonour

MAX_TITLE_LENGTH = 60


def tier_names(config: dict) -> dict[str, str]:
    return {rule["key"]: rule["name"] for rule in config["tiers"]}


def display_names(session: Session, volunteer_ids) -> dict[int, str]:
    ids = list(set(volunteer_ids))
    if not ids:
        return {}
    return dict(session.execute(select(User.id, User.display_name).where(User.id.in_(ids))).all())


def _rows(session: Session, config: dict, placements) -> list[dict]:
    names = display_names(session, [p.volunteer_id for p in placements])
    tiers = tier_names(config)
    return [{"position": p.position, "rank": p.rank, "volunteer_id": p.volunteer_id,
             "display_name": names.get(p.volunteer_id, ""), "points": p.points,
             "reached_at": p.reached_at, "tier": p.tier, "tier_name": tiers.get(p.tier),
             "bonus_fen": p.bonus_fen} for p in placements]


def _summaries(summaries) -> list[dict]:
    return [{"key": s.key, "name": s.name, "count": s.count, "min_points": s.min_points,
             "max_points": s.max_points, "bonus_fen": s.bonus_fen,
             "bonus_total_fen": s.bonus_total_fen} for s in summaries]


def preview_document(session: Session, computed: ranking.Ranking, *, limit: int = 100) -> dict:
    position = computed.position
    return {
        "programme": computed.programme.code, "year": computed.year, "status": "preview",
        "ledger_position": {"entry_id": position.entry_id, "chain_seq": position.chain_seq,
                            "chain_hash": position.chain_hash},
        "config": computed.config, "eligible_count": computed.eligible_count,
        "ranked_count": computed.ranked_count, "bonus_total_fen": computed.bonus_total_fen,
        "bonus_entry_count": None, "crediting": None,
        "tiers": _summaries(computed.tier_summaries()),
        "rows": _rows(session, computed.config, computed.placements[:limit]), "rows_offset": 0,
        "published_at": None, "published_by": None,
    }


def tier_summaries(session: Session, snapshot: RankingSnapshot) -> list[ranking.TierSummary]:
    from sqlalchemy import func

    counts = {tier: (count, low, high) for tier, count, low, high in session.execute(
        select(RankingRow.tier, func.count(), func.min(RankingRow.points),
               func.max(RankingRow.points))
        .where(RankingRow.snapshot_id == snapshot.id, RankingRow.tier.is_not(None))
        .group_by(RankingRow.tier))}
    return [ranking.TierSummary(rule["key"], rule["name"], *counts.get(rule["key"],
                                                                       (0, None, None)),
                                rule["bonus_fen"]) for rule in snapshot.config["tiers"]]


def snapshot_document(session: Session, snapshot: RankingSnapshot, *, offset: int = 0,
                      limit: int = 100, tier: str | None = None) -> dict:
    rows = ranking.snapshot_rows(session, snapshot, offset=offset, limit=limit, tier=tier)
    placements = [ranking.tiers.Placement(r.position, r.rank, r.volunteer_id, r.points,
                                          r.reached_at, r.tier, r.bonus_fen) for r in rows]
    return {
        "programme": snapshot.programme.code, "year": snapshot.year, "status": "published",
        "ledger_position": {"entry_id": snapshot.ledger_entry_id,
                            "chain_seq": snapshot.chain_seq, "chain_hash": snapshot.chain_hash},
        "config": snapshot.config, "eligible_count": snapshot.eligible_count,
        "ranked_count": snapshot.ranked_count, "bonus_total_fen": snapshot.bonus_total_fen,
        "bonus_entry_count": snapshot.bonus_entry_count,
        "crediting": bonuses.progress_document(bonuses.crediting_of(session, snapshot)),
        "tiers": _summaries(tier_summaries(session, snapshot)),
        "rows": _rows(session, snapshot.config, placements), "rows_offset": offset,
        "published_at": snapshot.published_at, "published_by": snapshot.published_by.username,
    }


# --- a volunteer's own honours and certificates -----------------------------------------


@dataclass(frozen=True)
class Honour:
    snapshot_id: int
    programme_code: str
    programme_name: str
    year: int
    volunteer_id: int
    display_name: str
    tier: str | None
    tier_name: str | None
    rank: int
    position: int
    points: int
    eligible_count: int
    bonus_fen: int
    published_at: datetime
    bonus_state: str | None = None  # paid, being_paid, or None without a bonus


def honours_of(session: Session, volunteer_id: int) -> list[Honour]:
    """Every published row of the volunteer: one lookup of the unique (snapshot, volunteer)
    key per snapshot."""
    rows = session.execute(
        select(RankingRow, RankingSnapshot).select_from(RankingSnapshot).join(
            RankingRow, and_(RankingRow.snapshot_id == RankingSnapshot.id,
                             RankingRow.volunteer_id == volunteer_id))
        .order_by(RankingSnapshot.year.desc(), RankingSnapshot.id))
    return [_honour(row, snapshot) for row, snapshot in rows]


def _honour(row: RankingRow, snapshot: RankingSnapshot) -> Honour:
    names = tier_names(snapshot.config)
    return Honour(snapshot.id, snapshot.programme.code, snapshot.programme.name, snapshot.year,
                  row.volunteer_id, row.volunteer.display_name, row.tier, names.get(row.tier),
                  row.rank, row.position, row.points, snapshot.eligible_count, row.bonus_fen,
                  snapshot.published_at, bonuses.state_of_row(
                      bonuses.crediting_of(object_session(snapshot), snapshot), row.position,
                      row.bonus_fen))


def certificate(session: Session, actor: User, snapshot_id: int, volunteer_id: int) -> Honour:
    """A volunteer's honour of one published ranking, for the volunteer or an admin."""
    honour = find_honour(session, snapshot_id, volunteer_id)
    if honour is None:
        raise NotFound("no such honour")
    if actor.id != volunteer_id:
        snapshot = session.get(RankingSnapshot, snapshot_id)
        access.require(actor, ranking.RANKING_ROLES, snapshot.programme.area)
    return honour


def find_honour(session: Session, snapshot_id: int, volunteer_id: int) -> Honour | None:
    found = session.execute(
        select(RankingRow, RankingSnapshot).join(
            RankingSnapshot, RankingSnapshot.id == RankingRow.snapshot_id)
        .where(RankingRow.snapshot_id == snapshot_id, RankingRow.volunteer_id == volunteer_id,
               RankingRow.tier.is_not(None))).first()
    return None if found is None else _honour(*found)


def masked_name(name: str) -> str:
    """张*明: the first and last characters, the middle hidden (a two-character name keeps its
    first: 王*)."""
    name = (name or "").strip()
    if len(name) <= 1:
        return name + "*"
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]


# --- special honours ---------------------------------------------------------------------


def give_special_honour(session: Session, actor: User, code: str, volunteer_id: int, year: int,
                        title: str, reason: str, amount_points: int,
                        idempotency_key: str) -> SpecialHonour:
    """A named honour (见义勇为 ...) with a reason. Points, if any, are a manual award: above
    the programme's threshold they wait for a second administrator (maker-checker)."""
    programme = programmes.get_programme(session, code)
    access.require(actor, ranking.RANKING_ROLES, programme.area)
    ranking.check_year(programme, year)
    title, reason = (title or "").strip(), (reason or "").strip()
    if not title or len(title) > MAX_TITLE_LENGTH:
        raise Invalid("a special honour needs a title", errors={"title": ["1 to 60 characters"]})
    existing = session.scalar(select(SpecialHonour).join(
        Award, Award.id == SpecialHonour.award_id).where(Award.idempotency_key == idempotency_key))
    if existing is not None:
        return existing
    volunteer = get_user(session, volunteer_id)
    award = None
    if amount_points:
        award = programmes.request_award(session, actor, code, volunteer.id, amount_points,
                                         f"{title}：{reason}"[:500], idempotency_key)
    elif not programme.area.contains(volunteer.area):
        raise Invalid(f"volunteer {volunteer_id} is outside the programme's area",
                      errors={"volunteer_id": [f"not in {programme.area.name}"]})
    honour = SpecialHonour(programme_id=programme.id, year=year, volunteer_id=volunteer.id,
                           title=title, reason=reason[:500], award=award,
                           created_by_id=actor.id, created_at=now())
    session.add(honour)
    session.flush()
    return honour


def special_honours(session: Session, *, programme_id: int | None = None,
                    volunteer_id: int | None = None, year: int | None = None):
    query = select(SpecialHonour).order_by(SpecialHonour.year.desc(), SpecialHonour.id)
    if programme_id is not None:
        query = query.where(SpecialHonour.programme_id == programme_id)
    if volunteer_id is not None:
        query = query.where(SpecialHonour.volunteer_id == volunteer_id)
    if year is not None:
        query = query.where(SpecialHonour.year == year)
    return list(session.scalars(query))
