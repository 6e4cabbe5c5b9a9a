from flask_smorest import Blueprint

from volunteers import accounts, users

from .. import signin
from ..extensions import db, limiter
from ..transactions import commit
from .schemas.common import ErrorSchema
from .schemas.organisation import DoneSchema, PasswordResetSchema
from .schemas.volunteers import RegisterSchema, TokenRequestSchema, TokenSchema, UserSchema

blp = Blueprint("auth", __name__, url_prefix="/api/v1/auth", description="Sign-in and sign-up")


def login_limit():
    from flask import current_app

    return current_app.config["LOGIN_RATE_LIMIT"]


@blp.route("/tokens", methods=["POST"])
@signin.shared_sign_in_limit
@blp.arguments(TokenRequestSchema)
@blp.response(201, TokenSchema)
@blp.alt_response(401, schema=ErrorSchema)
@blp.alt_response(429, schema=ErrorSchema)
def create_token(payload):
    """A bearer token for the API (30 days)."""
    user = signin.authenticate(payload["username"], payload["password"])
    token, expires_at = users.issue_token(db.session, user)
    commit()
    return {"token": token, "expires_at": expires_at}


@blp.route("/register", methods=["POST"])
@limiter.limit(login_limit)
@blp.arguments(RegisterSchema)
@blp.response(201, UserSchema)
@blp.alt_response(409, schema=ErrorSchema)
def register(payload):
    """A volunteer account on an area (self-registration)."""
    user = users.register_volunteer(
        db.session, payload["username"], payload["password"], payload["display_name"],
        payload["area"], payload.get("phone"),
    )
    commit()
    return user


@blp.route("/reset", methods=["POST"])
@limiter.limit(login_limit)
@blp.arguments(PasswordResetSchema)
@blp.response(200, DoneSchema)
@blp.alt_response(400, schema=ErrorSchema, description="invalid_code: wrong, used or expired")
@blp.alt_response(429, schema=ErrorSchema)
def reset(payload):
    """Sets a new password with a one-time reset or activation code (user name or phone)."""
    accounts.reset_with_code(db.session, payload["username"], payload["code"],
                             payload["new_password"])
    commit()
    return {"ok": True}
