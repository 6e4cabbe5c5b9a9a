"""Micro-wishes (微心愿) and the daily check-in (每日一豆)."""

from __future__ import annotations

from flask import request, send_file
from flask_smorest import Blueprint

from activities import daily, wishes
from activities.common import china_day
from activities.photos import MAX_PHOTOS
from activities.wishes import WishDraft
from ledger.clock import now

from ..auth import actor_required, current_actor
from ..extensions import db
from ..pages.activities import photo_file, uploaded_photos
from ..transactions import commit
from .idempotency import IDEMPOTENT, run_once
from .schemas.activities import (
    ClaimSchema,
    DailyCheckinSchema,
    FulfilFormSchema,
    ReasonSchema,
    RequiredReasonSchema,
    WishCreateSchema,
    WishListArgsSchema,
    WishSchema,
)
from .schemas.common import ErrorSchema

blp = Blueprint("wishes", __name__, url_prefix="/api/v1",
                description="Micro-wishes and the daily check-in")


@blp.route("/wishes", methods=["GET"])
@actor_required()
@blp.arguments(WishListArgsSchema, location="query")
@blp.response(200, WishSchema(many=True))
def list_wishes(args):
    """Wishes the caller may see; ``status=open`` (the default) lists unclaimed and
    abandoned ones, ``mine=true`` those the caller claimed."""
    status = None if args["status"] == "all" else args["status"]
    return wishes.list_wishes(db.session, current_actor(), status, mine=args["mine"])


@blp.route("/wishes", methods=["POST"])
@actor_required("organiser", "admin")
@blp.arguments(WishCreateSchema)
@blp.response(201, WishSchema)
def publish(payload):
    """Publish a resident's wish; the resident's name is kept masked only."""
    wish = wishes.publish_wish(db.session, current_actor(), WishDraft(**payload))
    commit()
    return wish


@blp.route("/wishes/<int:wish_id>", methods=["GET"])
@actor_required()
@blp.response(200, WishSchema)
def get_wish(wish_id):
    return wishes.visible_wish(db.session, current_actor(), wish_id)


@blp.route("/wishes/<int:wish_id>/claim", methods=["POST"])
@actor_required("volunteer")
@blp.arguments(ClaimSchema)
@blp.response(200, WishSchema)
@blp.alt_response(409, schema=ErrorSchema, description="wish_already_claimed")
def claim(payload, wish_id):
    """Claim for oneself, or with ``team_id`` for a team one leads; one claim at a time."""
    wish = wishes.claim(db.session, current_actor(), wish_id, payload.get("team_id"))
    commit()
    return wish


@blp.route("/wishes/<int:wish_id>/abandon", methods=["POST"])
@actor_required("volunteer")
@blp.arguments(ReasonSchema)
@blp.response(200, WishSchema)
def abandon(payload, wish_id):
    wish = wishes.abandon(db.session, current_actor(), wish_id, payload.get("reason"))
    commit()
    return wish


@blp.route("/wishes/<int:wish_id>/fulfil", methods=["POST"])
@actor_required("volunteer")
@blp.arguments(FulfilFormSchema, location="form")
@blp.response(200, WishSchema)
@blp.doc(requestBody={"content": {"multipart/form-data": {"schema": {
    "type": "object", "properties": {
        "note": {"type": "string"},
        "photo": {"type": "array", "maxItems": MAX_PHOTOS,
                  "items": {"type": "string", "format": "binary"}}}}}}})
def fulfil(form, wish_id):
    """Report the wish fulfilled with 1 to 4 photos (multipart ``photo``); photos are
    re-encoded without EXIF/GPS."""
    wish = wishes.fulfil(db.session, current_actor(), wish_id, form.get("note", ""),
                         uploaded_photos(request.files.getlist("photo")))
    commit()
    return wish


@blp.route("/wishes/<int:wish_id>/confirm", methods=["POST"])
@actor_required("organiser", "admin")
@blp.response(200, WishSchema)
@blp.alt_response(409, schema=ErrorSchema, description="wish_wrong_state, budget_exhausted")
@blp.doc(parameters=IDEMPOTENT)
def confirm(wish_id):
    """Confirm a fulfilled wish: the claimer (a team's leader) is paid and notified."""
    actor = current_actor()

    def work():
        return WishSchema().dump(wishes.confirm(db.session, actor, wish_id))

    return run_once(actor, f"wish-confirm:{wish_id}", {}, work)


@blp.route("/wishes/<int:wish_id>/send-back", methods=["POST"])
@actor_required("organiser", "admin")
@blp.arguments(RequiredReasonSchema)
@blp.response(200, WishSchema)
def send_back(payload, wish_id):
    """The fulfilment is incomplete: back to the claimer, with the reason."""
    wish = wishes.send_back(db.session, current_actor(), wish_id, payload["reason"])
    commit()
    return wish


@blp.route("/wishes/<int:wish_id>/withdraw", methods=["POST"])
@actor_required("organiser", "admin")
@blp.arguments(RequiredReasonSchema)
@blp.response(200, WishSchema)
def withdraw(payload, wish_id):
    """Take down an open wish the resident no longer needs."""
    wish = wishes.withdraw(db.session, current_actor(), wish_id, payload["reason"])
    commit()
    return wish


@blp.route("/wish-photos/<int:photo_id>", methods=["GET"])
@actor_required()
@blp.response(200, content_type="image/jpeg")
def wish_photo(photo_id):
    return send_file(photo_file(wishes.photo(db.session, current_actor(), photo_id)),
                     mimetype="image/jpeg")


@blp.route("/me/daily-checkin", methods=["POST"])
@actor_required("volunteer")
@blp.response(201, DailyCheckinSchema)
@blp.alt_response(200, schema=DailyCheckinSchema,
                  description="Already checked in today: the same check-in, nothing posted")
@blp.doc(parameters=IDEMPOTENT)
def daily_checkin():
    """每日一豆: today's reward once per calendar day (China time); 201 the first time,
    200 with the same check-in after."""
    actor = current_actor()

    def work():
        result = daily.check_in_today(db.session, actor)
        body = DailyCheckinSchema().dump({
            "day": result.checkin.day, "points": result.checkin.points,
            "entry_id": result.checkin.entry_id, "created": result.created,
            "streak_days": daily.streak(db.session, actor.id, china_day(now()))})
        return body, 201 if result.created else 200

    return run_once(actor, "daily", {}, work)
