"""A merchant looks after itself under /api/v1/merchants/{id}: its till staff (the owner adds
and removes them). What it accepted per month is ``GET /merchants/{id}/statement?by=month``;
its settlements, with their payout run and payment reference, ``GET /merchants/{id}/settlements``
(web/api/payouts.py)."""

from __future__ import annotations

from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from merchants import staff

from ..auth import actor_required, current_actor
from ..extensions import db
from ..transactions import commit
from .schemas.common import ErrorSchema

blp = Blueprint("merchant_team", __name__, url_prefix="/api/v1",
                description="A merchant's own settlements and till staff")


class TillStaffSchema(Schema):
    user_id = fields.Integer()
    username = fields.Function(lambda member: member.user.username)
    display_name = fields.Function(lambda member: member.user.display_name)
    owner = fields.Boolean()


class TillStaffRequestSchema(Schema):
    username = fields.String(required=True, validate=validate.Length(min=1, max=64),
                             metadata={"description": "a user name or phone number"})
    owner = fields.Boolean(load_default=False,
                           metadata={"description": "administrators only"})


@blp.route("/merchants/<int:merchant_id>/staff", methods=["GET"])
@actor_required("admin", "merchant")
@blp.response(200, TillStaffSchema(many=True))
def list_staff(merchant_id):
    return staff.team(db.session, current_actor(), merchant_id)


@blp.route("/merchants/<int:merchant_id>/staff", methods=["POST"])
@actor_required("admin", "merchant")
@blp.arguments(TillStaffRequestSchema)
@blp.response(201, TillStaffSchema)
@blp.alt_response(403, schema=ErrorSchema, description="not the owner or an administrator")
def add_staff(payload, merchant_id):
    """The owner (or an administrator) adds a person to the till."""
    member = staff.add_till_staff(db.session, current_actor(), merchant_id,
                                  payload["username"], payload["owner"])
    commit()
    return member


@blp.route("/merchants/<int:merchant_id>/staff/<int:user_id>", methods=["DELETE"])
@actor_required("admin", "merchant")
@blp.response(204)
@blp.alt_response(409, schema=ErrorSchema, description="last_owner")
def remove_staff(merchant_id, user_id):
    staff.remove_till_staff(db.session, current_actor(), merchant_id, user_id)
    commit()
    return None
