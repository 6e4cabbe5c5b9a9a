"""Leaderboards (志愿圈圈's 龙虎榜): points earned this week, month or year, by volunteer or
by team, in an area of a programme, with the viewer's own line even outside the top.

The year reads the ledger's per-year totals; a week or a month reads that period's earning
entries (index on kind and time), net of any reversal of them. Service hours join here when
their records exist: ``METRICS`` maps a metric name to the function that scores it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session, aliased

from ledger import Account, AccountTotal, Entry, PostingRow
from ledger.clock import CHINA, now
from volunteers import access, areas
from volunteers.errors import Forbidden, Invalid
from volunteers.models import STAFF_ROLES, Area, Programme, Team, TeamMember, User
from volunteers.programmes import get_programme

from . import ranking

PERIODS = ("week", "month", "year")
# What a line's score counts, by metric.
METRIC_UNITS = {"points": "points", "hours": "minutes"}
MAX_LINES = 100


@dataclass(frozen=True)
class Line:
    place: int
    subject_id: int
    name: str
    score: int  # in the board's unit: points earned, or minutes served


@dataclass
class Board:
    programme: str
    period: str
    starts_at: datetime
    ends_at: datetime
    by: str
    area: str
    lines: list[Line] = field(default_factory=list)
    mine: Line | None = None
    metric: str = "points"

    @property
    def unit(self) -> str:
        return METRIC_UNITS.get(self.metric, "points")

    def as_dict(self) -> dict:
        return {"programme": self.programme, "period": self.period, "starts_at": self.starts_at,
                "ends_at": self.ends_at, "by": self.by, "area": self.area,
                "metric": self.metric, "unit": self.unit,
                "lines": [vars(line) for line in self.lines],
                "mine": vars(self.mine) if self.mine else None}


def period_bounds(period: str, moment: datetime | None = None) -> tuple[datetime, datetime]:
    """The calendar week (from Monday), month or year holding ``moment``, in China time."""
    local = (moment or now()).astimezone(CHINA)
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
    if period == "week":
        start = midnight - timedelta(days=local.weekday())
        end = start + timedelta(days=7)
    elif period == "month":
        start = midnight.replace(day=1)
        end = (start + timedelta(days=32)).replace(day=1)
    elif period == "year":
        start = midnight.replace(month=1, day=1)
        end = start.replace(year=start.year + 1)
    else:
        raise Invalid(f"unknown period {period!r}", errors={"period": [f"one of {PERIODS}"]})
    return start.astimezone(UTC), end.astimezone(UTC)


def earned_points(session: Session, programme: Programme, area: Area, period: str,
                  kinds, moment: datetime | None = None) -> dict[int, int]:
    """Volunteer id -> points earned in the period, for active volunteers of ``area``."""
    start, end = period_bounds(period, moment)
    people = (User.active.is_(True), Area.path.startswith(area.path, autoescape=True),
              Account.owner_type == "volunteer", Account.unit == "POINT")
    if period == "year":
        year = start.astimezone(CHINA).year
        total = func.sum(AccountTotal.credited)
        query = (select(Account.owner_id, total).select_from(AccountTotal)
                 .join(Account, Account.id == AccountTotal.account_id)
                 .join(User, User.id == Account.owner_id).join(Area, Area.id == User.area_id)
                 .where(AccountTotal.year == year, AccountTotal.kind.in_(list(kinds)), *people)
                 .group_by(Account.owner_id).having(total > 0))
    else:
        reversal = aliased(Entry)
        total = func.sum(PostingRow.amount)
        query = (select(Account.owner_id, total).select_from(Entry)
                 .join(PostingRow, PostingRow.entry_id == Entry.id)
                 .join(Account, Account.id == PostingRow.account_id)
                 .join(User, User.id == Account.owner_id).join(Area, Area.id == User.area_id)
                 .where(Entry.kind.in_(list(kinds)), Entry.created_at >= start,
                        Entry.created_at < end, Entry.status == "posted", PostingRow.amount > 0,
                        ~exists(select(reversal.id).where(reversal.reverses_id == Entry.id)),
                        *people)
                 .group_by(Account.owner_id).having(total > 0))
    return {volunteer_id: int(points) for volunteer_id, points in session.execute(query)}


# Scores by metric: a function (session, programme, area, period, kinds, moment) -> {volunteer
# id: score}. ``activities`` adds "hours" (approved service minutes) when it is imported.
METRICS: dict[str, Callable] = {"points": earned_points}


def _viewer_may_see(session: Session, actor: User, programme: Programme, area: Area) -> None:
    if access.holds(actor, STAFF_ROLES):
        access.require_overlap(actor, STAFF_ROLES, area)
        return
    if not programme.area.contains(actor.area):
        raise Forbidden("this programme's leaderboards are for its own volunteers")


def board(session: Session, actor: User, code: str, period: str, *, area_code: str | None = None,
          by: str = "volunteer", limit: int = 20, metric: str = "points",
          moment: datetime | None = None) -> Board:
    programme = get_programme(session, code)
    area = areas.get_area(session, area_code) if area_code else programme.area
    if not programme.area.contains(area):
        raise Invalid(f"area {area.code} is outside the programme",
                      errors={"area": [f"within {programme.area.code}"]})
    _viewer_may_see(session, actor, programme, area)
    limit = max(1, min(limit, MAX_LINES))
    if metric not in METRICS:
        raise Invalid(f"unknown metric {metric!r}",
                      errors={"metric": [f"one of {sorted(METRICS)}"]})
    kinds = ranking.current_config(session, programme)["counting_kinds"]
    scores = METRICS[metric](session, programme, area, period, kinds, moment)
    start, end = period_bounds(period, moment)
    if by == "team":
        scores, names, mine_id = team_scores(session, area, scores, actor)
    else:
        names = _volunteer_names(session, scores, actor)
        mine_id = actor.id
    ordered = sorted(scores.items(), key=lambda item: (-item[1], item[0]))
    lines, place = [], 0
    for index, (subject_id, points) in enumerate(ordered):
        if index == 0 or points != ordered[index - 1][1]:
            place = index + 1
        lines.append(Line(place, subject_id, names.get(subject_id, ""), points))
    mine = next((line for line in lines if line.subject_id == mine_id), None)
    return Board(programme.code, period, start, end, by, area.code, lines[:limit], mine, metric)


def _volunteer_names(session: Session, scores: dict[int, int], actor: User) -> dict[int, str]:
    from .honours import display_names, masked_name

    names = display_names(session, scores.keys())
    if access.holds(actor, STAFF_ROLES):
        return names
    return {vid: name if vid == actor.id else masked_name(name) for vid, name in names.items()}


def team_scores(session: Session, area: Area, scores: dict[int, int], actor: User):
    """Team id -> the sum of its members' points; team names; the viewer's first team."""
    rows = session.execute(
        select(Team.id, Team.name, TeamMember.user_id)
        .join(TeamMember, TeamMember.team_id == Team.id)
        .join(Area, Area.id == Team.area_id)
        .where(Area.path.startswith(area.path, autoescape=True)))
    totals: dict[int, int] = {}
    names: dict[int, str] = {}
    mine = None
    for team_id, name, user_id in rows:
        names[team_id] = name
        totals[team_id] = totals.get(team_id, 0) + scores.get(user_id, 0)
        if user_id == actor.id and mine is None:
            mine = team_id
    return {team: points for team, points in totals.items() if points > 0}, names, mine
