from flask_smorest import Blueprint

from volunteers.statements import wallet_summary

from ..auth import actor_required, current_actor
from ..extensions import db
from ..schemas import MeSchema

blp = Blueprint("me", __name__, url_prefix="/api/v1/me", description="The signed-in user")


@blp.route("", methods=["GET"])
@actor_required()
@blp.response(200, MeSchema)
def me():
    """Who I am, my roles on which areas, and my wallet (null for staff without one)."""
    actor = current_actor()
    return {
        "id": actor.id,
        "username": actor.username,
        "display_name": actor.display_name,
        "area": actor.area.code,
        "roles": actor.roles,
        "grants": actor.grants,
        "wallet": wallet_summary(db.session, actor),
    }
