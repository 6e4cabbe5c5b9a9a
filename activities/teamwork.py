"""What the team pages need beyond ``volunteers.teams``: who sees which teams, naming a new
leader, and finding members by user name."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from volunteers import access, teams
from volunteers.errors import Invalid
from volunteers.models import Area, Team, TeamMember, User

from .common import ORGANISER_ROLES

MAX_TEAMS_LISTED = 200


def visible_teams(session: Session, actor: User) -> list[Team]:
    """An organiser's areas' teams, and the teams the actor belongs to."""
    own = {team.id: team for team in teams.teams_of(session, actor.id)}
    scopes = access.staff_areas(actor, ORGANISER_ROLES)
    if scopes:
        rows = session.scalars(select(Team).join(Area, Area.id == Team.area_id)
                               .order_by(Area.path, Team.name).limit(MAX_TEAMS_LISTED))
        for team in rows:
            if any(scope.contains(team.area) for scope in scopes):
                own.setdefault(team.id, team)
    return sorted(own.values(), key=lambda team: (team.area.path, team.name))


def readable_team(session: Session, actor: User, team_id: int) -> Team:
    team = teams.get_team(session, team_id)
    is_member = session.get(TeamMember, (team.id, actor.id)) is not None
    if not is_member and not access.holds(actor, ORGANISER_ROLES, team.area):
        access.require(actor, ORGANISER_ROLES, team.area)
    return team


def appoint_leader(session: Session, actor: User, team_id: int, user_id: int) -> Team:
    """An organiser of the team's area names another member its leader."""
    team = teams.get_team(session, team_id)
    access.require(actor, ORGANISER_ROLES, team.area)
    if session.get(TeamMember, (team.id, user_id)) is None:
        raise Invalid("the new leader must be a member",
                      errors={"user_id": ["not a member of this team"]})
    team.leader_id = user_id
    session.flush()
    session.refresh(team)
    return team
