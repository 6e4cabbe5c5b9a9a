"""Credentials that end: a user's API tokens (listed, revoked by their owner or by an
administrator of the owner's area) and client keys (the Open311 api_key: scoped, revocable,
sent in a request body, never a bearer token)."""

from flask_smorest import Blueprint

from volunteers import sessions

from ..auth import actor_required, current_actor
from ..extensions import db
from ..transactions import commit
from .schemas.volunteers import (
    ApiTokenListSchema,
    ClientKeyIssuedSchema,
    ClientKeyListSchema,
    ClientKeyRequestSchema,
)

blp = Blueprint("tokens", __name__, url_prefix="/api/v1",
                description="API tokens and client keys: listed and revoked")


@blp.route("/me/tokens", methods=["GET"])
@actor_required()
@blp.response(200, ApiTokenListSchema)
def my_tokens():
    """My live API tokens, newest first (never the tokens themselves)."""
    return {"items": sessions.tokens_of(db.session, current_actor().id)}


@blp.route("/me/tokens/<int:token_id>", methods=["DELETE"])
@actor_required()
@blp.response(204)
def revoke_my_token(token_id):
    """Revokes one of my tokens: refused from the next request on (this one included)."""
    sessions.revoke_token(db.session, current_actor().id, token_id)
    commit()


@blp.route("/users/<int:user_id>/tokens", methods=["GET"])
@actor_required("admin")
@blp.response(200, ApiTokenListSchema)
def user_tokens(user_id):
    """A user's live API tokens (administrators of the user's area)."""
    user = sessions.user_an_admin_reaches(db.session, current_actor(), user_id)
    return {"items": sessions.tokens_of(db.session, user.id)}


@blp.route("/users/<int:user_id>/tokens/<int:token_id>", methods=["DELETE"])
@actor_required("admin")
@blp.response(204)
def revoke_user_token(user_id, token_id):
    """Revokes a user's token (administrators of the user's area)."""
    user = sessions.user_an_admin_reaches(db.session, current_actor(), user_id)
    sessions.revoke_token(db.session, user.id, token_id)
    commit()


@blp.route("/me/client-keys", methods=["GET"])
@actor_required()
@blp.response(200, ClientKeyListSchema)
def my_client_keys():
    """My live client keys (never the keys themselves)."""
    return {"items": sessions.client_keys_of(db.session, current_actor().id)}


@blp.route("/me/client-keys", methods=["POST"])
@actor_required()
@blp.arguments(ClientKeyRequestSchema)
@blp.response(201, ClientKeyIssuedSchema)
def issue_client_key(payload):
    """A client key for ``scope`` (open311): shown once, kept only as a hash."""
    secret, key = sessions.issue_client_key(db.session, current_actor(), payload["scope"],
                                            payload["label"])
    commit()
    return {"id": key.id, "scope": key.scope, "label": key.label,
            "created_at": key.created_at, "key": secret}


@blp.route("/me/client-keys/<int:key_id>", methods=["DELETE"])
@actor_required()
@blp.response(204)
def revoke_client_key(key_id):
    """Revokes one of my client keys."""
    sessions.revoke_client_key(db.session, current_actor().id, key_id)
    commit()
