"""Volunteer teams (志愿服务队): a leader and members, on an area. Organisers and admins of the
area form them; the leader may add and remove members too."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger.clock import now

from . import access, areas
from .errors import Conflict, Forbidden, Invalid, NotFound
from .models import Team, TeamMember, User
from .users import get_user

TEAM_ROLES = ("organiser", "admin")
MAX_TEAM_NAME_LENGTH = 120


def create_team(session: Session, actor: User, name: str, area_code: str, leader_id: int) -> Team:
    name = (name or "").strip()
    if not 0 < len(name) <= MAX_TEAM_NAME_LENGTH:
        raise Invalid("bad team name", errors={"name": [f"1 to {MAX_TEAM_NAME_LENGTH} characters"]})
    area = areas.get_area(session, area_code)
    access.require(actor, TEAM_ROLES, area)
    if session.scalar(select(Team.id).where(Team.name == name, Team.area_id == area.id)):
        raise Conflict(f"team {name} exists in {area_code}", errors={"name": ["taken"]})
    leader = get_user(session, leader_id)
    team = Team(name=name, area=area, leader=leader, created_at=now())
    session.add(team)
    session.flush()
    session.add(TeamMember(team_id=team.id, user_id=leader.id, joined_at=now()))
    session.flush()
    return team


def get_team(session: Session, team_id: int) -> Team:
    team = session.get(Team, team_id)
    if team is None:
        raise NotFound(f"no team {team_id}", team_id=team_id)
    return team


def add_member(session: Session, actor: User, team_id: int, user_id: int) -> TeamMember:
    team = _managed_team(session, actor, team_id)
    user = get_user(session, user_id)
    if session.get(TeamMember, (team.id, user.id)) is not None:
        raise Conflict(f"{user.username} is already in team {team.id}")
    member = TeamMember(team_id=team.id, user_id=user.id, joined_at=now())
    session.add(member)
    session.flush()
    return member


def remove_member(session: Session, actor: User, team_id: int, user_id: int) -> None:
    team = _managed_team(session, actor, team_id)
    if user_id == team.leader_id:
        raise Conflict("the leader cannot leave; name another leader first")
    member = session.get(TeamMember, (team.id, user_id))
    if member is None:
        raise NotFound(f"user {user_id} is not in team {team.id}")
    session.delete(member)
    session.flush()


def teams_of(session: Session, user_id: int) -> list[Team]:
    return list(session.scalars(
        select(Team).join(TeamMember, TeamMember.team_id == Team.id)
        .where(TeamMember.user_id == user_id).order_by(Team.name)
    ))


def members(session: Session, team_id: int) -> list[User]:
    return list(session.scalars(
        select(User).join(TeamMember, TeamMember.user_id == User.id)
        .where(TeamMember.team_id == team_id).order_by(User.id)
    ))


def _managed_team(session: Session, actor: User, team_id: int) -> Team:
    team = get_team(session, team_id)
    if actor.id != team.leader_id and not access.holds(actor, TEAM_ROLES, team.area):
        raise Forbidden("only the team's leader or an organiser of its area")
    return team
