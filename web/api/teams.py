"""Volunteer teams (志愿服务队): organisers form them; the leader or an organiser manages
members; a team's leader claims micro-wishes for it."""

from __future__ import annotations

from flask_smorest import Blueprint

from activities import teamwork
from volunteers import teams

from ..auth import actor_required, current_actor
from ..extensions import db
from ..transactions import commit
from .schemas.volunteers import TeamCreateSchema, TeamSchema, UserIdSchema

blp = Blueprint("teams", __name__, url_prefix="/api/v1", description="Volunteer teams")



@blp.route("/teams", methods=["GET"])
@actor_required()
@blp.response(200, TeamSchema(many=True))
def list_teams():
    """Teams in the caller's areas (organisers) and the caller's own teams."""
    return teamwork.visible_teams(db.session, current_actor())


@blp.route("/teams", methods=["POST"])
@actor_required("organiser", "admin")
@blp.arguments(TeamCreateSchema)
@blp.response(201, TeamSchema)
def create_team(payload):
    team = teams.create_team(db.session, current_actor(), payload["name"], payload["area"],
                             payload["leader_id"])
    commit()
    return team


@blp.route("/teams/<int:team_id>", methods=["GET"])
@actor_required()
@blp.response(200, TeamSchema)
def get_team(team_id):
    return teamwork.readable_team(db.session, current_actor(), team_id)


@blp.route("/teams/<int:team_id>/members", methods=["POST"])
@actor_required()
@blp.arguments(UserIdSchema)
@blp.response(201, TeamSchema)
def add_member(payload, team_id):
    """The leader or an organiser of the team's area adds a member."""
    teams.add_member(db.session, current_actor(), team_id, payload["user_id"])
    commit()
    return teams.get_team(db.session, team_id)


@blp.route("/teams/<int:team_id>/members/<int:user_id>", methods=["DELETE"])
@actor_required()
@blp.response(200, TeamSchema)
def remove_member(team_id, user_id):
    teams.remove_member(db.session, current_actor(), team_id, user_id)
    commit()
    return teams.get_team(db.session, team_id)


@blp.route("/teams/<int:team_id>/leader", methods=["PUT"])
@actor_required("organiser", "admin")
@blp.arguments(UserIdSchema)
@blp.response(200, TeamSchema)
def appoint_leader(payload, team_id):
    """Name another member the team's leader."""
    team = teamwork.appoint_leader(db.session, current_actor(), team_id, payload["user_id"])
    commit()
    return team
