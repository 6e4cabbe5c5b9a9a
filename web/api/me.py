from flask_smorest import Blueprint

from volunteers import accounts, notifications
from volunteers.statements import wallet_summary

from ..auth import actor_required, current_actor
from ..extensions import db, limiter
from ..pages.notifications import text as notification_text
from ..transactions import commit
from .auth import login_limit
from .schemas.common import ErrorSchema
from .schemas.organisation import DoneSchema, PasswordChangeSchema
from .schemas.volunteers import (
    MarkedReadSchema,
    MeSchema,
    NotificationArgsSchema,
    NotificationListSchema,
)

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


@blp.route("/notifications", methods=["GET"])
@actor_required()
@blp.arguments(NotificationArgsSchema, location="query")
@blp.response(200, NotificationListSchema)
def my_notifications(args):
    """My notification centre, newest first, each in my language."""
    actor = current_actor()
    items = notifications.latest(db.session, actor.id, args["limit"])
    return {
        "unread": notifications.unread_count(db.session, actor.id),
        "items": [{"id": n.id, "text": notification_text(n), "message": n.message,
                   "params": n.params, "link": n.link, "reference": n.reference,
                   "created_at": n.created_at, "read_at": n.read_at} for n in items],
    }


@blp.route("/notifications/read", methods=["POST"])
@actor_required()
@blp.response(200, MarkedReadSchema)
def read_notifications():
    """Marks all my notifications read."""
    marked = notifications.mark_read(db.session, current_actor().id)
    commit()
    return {"marked": marked}


@blp.route("/password", methods=["POST"])
@limiter.limit(login_limit)
@actor_required()
@blp.arguments(PasswordChangeSchema)
@blp.response(200, DoneSchema)
@blp.alt_response(422, schema=ErrorSchema, description="validation_error: the current "
                  "password is wrong, or the new one too short")
def change_password(payload):
    """Changes my password; every token of mine (this one too) stops working."""
    accounts.change_password(db.session, current_actor(), payload["current_password"],
                             payload["new_password"])
    commit()
    return {"ok": True}
