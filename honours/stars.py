"""Stars of the year (明星团队, 明星志愿者 ...): chosen by configurable criteria from the
ledger and published once per programme and year. A star is keyed by subject type, so merchant
and project stars plug in by adding a source to ``SOURCES``:
``SOURCES["merchant"] = lambda session, programme, year, criteria: [(id, name, score), ...]``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger.clock import now
from volunteers import access
from volunteers.errors import Conflict, Invalid
from volunteers.models import Area, Programme, Team, TeamMember, User
from volunteers.programmes import get_programme

from . import leaderboards, ranking
from .models import Star

DEFAULT_CRITERIA = {
    "volunteer": {"count": 10, "min_points": 1},
    "team": {"count": 3, "min_points": 1, "min_members": 2},
}
MAX_STARS_PER_TYPE = 100


def _year_moment(year: int) -> datetime:
    return datetime(year, 7, 1, tzinfo=UTC)


def volunteer_candidates(session: Session, programme: Programme, year: int,
                         criteria: dict) -> list[tuple[int, str, int]]:
    """Volunteers by points earned in the year (the ranking's counting kinds)."""
    from .honours import display_names

    config = ranking.current_config(session, programme)
    scores = leaderboards.earned_points(session, programme, programme.area, "year",
                                        config["counting_kinds"], _year_moment(year))
    names = display_names(session, scores.keys())
    return [(vid, names.get(vid, ""), points) for vid, points in scores.items()
            if points >= criteria.get("min_points", 1)]


def team_candidates(session: Session, programme: Programme, year: int,
                    criteria: dict) -> list[tuple[int, str, int]]:
    """Teams by the points their members earned in the year; small teams need not apply."""
    config = ranking.current_config(session, programme)
    scores = leaderboards.earned_points(session, programme, programme.area, "year",
                                        config["counting_kinds"], _year_moment(year))
    rows = session.execute(
        select(Team.id, Team.name, TeamMember.user_id)
        .join(TeamMember, TeamMember.team_id == Team.id)
        .join(Area, Area.id == Team.area_id)
        .where(Area.path.startswith(programme.area.path, autoescape=True)))
    totals: dict[int, list] = {}
    for team_id, name, user_id in rows:
        entry = totals.setdefault(team_id, [name, 0, 0])
        entry[1] += scores.get(user_id, 0)
        entry[2] += 1
    return [(team_id, name, points) for team_id, (name, points, members) in totals.items()
            if members >= criteria.get("min_members", 1)
            and points >= criteria.get("min_points", 1)]


SOURCES: dict[str, Callable] = {"volunteer": volunteer_candidates, "team": team_candidates}
# What each source's score measures, recorded on the star as ``<criterion>_<year>``.
CRITERIA_NAMES: dict[str, str] = {"volunteer": "points_earned", "team": "points_earned"}


def register_source(subject_type: str, source: Callable, criterion: str,
                    default: dict | None = None) -> None:
    """Plug in a kind of star (merchants, projects ...) from its own package; with
    ``default`` criteria it is also chosen when no criteria are given."""
    SOURCES[subject_type] = source
    CRITERIA_NAMES[subject_type] = criterion
    if default is not None:
        DEFAULT_CRITERIA.setdefault(subject_type, dict(default))


def choose(session: Session, programme: Programme, year: int,
           criteria: dict | None = None) -> dict[str, list[tuple[int, str, int]]]:
    """The stars each source would name: its best ``count`` by score (ties by id)."""
    criteria = criteria or DEFAULT_CRITERIA
    chosen = {}
    for subject_type, rule in criteria.items():
        if subject_type not in SOURCES:
            raise Invalid(f"no star source for {subject_type}",
                          errors={"criteria": [f"one of {sorted(SOURCES)}"]})
        count = int(rule.get("count", 0))
        if not 0 < count <= MAX_STARS_PER_TYPE:
            raise Invalid("bad star count", errors={"count": [f"1 to {MAX_STARS_PER_TYPE}"]})
        candidates = SOURCES[subject_type](session, programme, year, rule)
        chosen[subject_type] = sorted(candidates, key=lambda c: (-c[2], c[0]))[:count]
    return chosen


def publish_stars(session: Session, actor: User, code: str, year: int,
                  criteria: dict | None = None) -> list[Star]:
    programme = get_programme(session, code)
    access.require(actor, ranking.RANKING_ROLES, programme.area)
    ranking.check_year(programme, year)
    if session.scalar(select(Star.id).where(Star.programme_id == programme.id,
                                            Star.year == year).limit(1)) is not None:
        raise Conflict(f"the {year} stars of {code} are already published")
    published_at = now()
    stars = []
    for subject_type, chosen in choose(session, programme, year, criteria).items():
        criterion_name = CRITERIA_NAMES.get(subject_type, subject_type)
        for place, (subject_id, name, score) in enumerate(chosen, start=1):
            stars.append(Star(programme_id=programme.id, year=year, subject_type=subject_type,
                              subject_id=subject_id, subject_name=name[:120],
                              criterion=f"{criterion_name}_{year}", score=score, place=place,
                              published_at=published_at, published_by_id=actor.id))
    session.add_all(stars)
    session.flush()
    return stars


def published_stars(session: Session, programme: Programme, year: int) -> list[Star]:
    return list(session.scalars(select(Star).where(
        Star.programme_id == programme.id, Star.year == year)
        .order_by(Star.subject_type, Star.place)))
