"""Year-end honours over the API: the ranking configuration, preview and publish, the
published snapshot page by page, special honours, and the leaderboards."""

from flask_smorest import Blueprint

from honours import honours, leaderboards, ranking, stars
from volunteers import access
from volunteers.programmes import get_programme

from ..auth import actor_required, current_actor
from ..extensions import db
from ..transactions import commit
from .idempotency import IDEMPOTENT, idempotency_key, run_once
from .schemas.common import ErrorSchema
from .schemas.honours import (
    LeaderboardArgsSchema,
    LeaderboardSchema,
    RankingConfigSchema,
    RankingRequestSchema,
    RankingSchema,
    RowArgsSchema,
    SpecialHonourRequestSchema,
    SpecialHonourSchema,
    StarRequestSchema,
    StarSchema,
)

blp = Blueprint("rankings", __name__, url_prefix="/api/v1",
                description="Year-end honours: rankings, tiers, bonuses, leaderboards")

def ranking_view(document) -> dict:
    return document


@blp.route("/programmes/<code>/ranking-config", methods=["GET"])
@actor_required("admin")
@blp.response(200, RankingConfigSchema)
def get_config(code):
    """The programme's ranking configuration (the defaults until one is saved)."""
    programme = get_programme(db.session, code)
    access.require(current_actor(), ranking.RANKING_ROLES, programme.area)
    return ranking.current_config(db.session, programme)


@blp.route("/programmes/<code>/ranking-config", methods=["PUT"])
@actor_required("admin")
@blp.arguments(RankingConfigSchema)
@blp.response(200, RankingConfigSchema)
def put_config(payload, code):
    """Replace the ranking configuration: tiers (share or threshold, bonus), the minimum
    points, the entry kinds that count as earning, whether staff are excluded."""
    config = ranking.configure(db.session, current_actor(), code, payload)
    commit()
    return config


@blp.route("/programmes/<code>/rankings", methods=["POST"])
@actor_required("admin")
@blp.arguments(RankingRequestSchema)
@blp.response(200, RankingSchema, description="a preview; publishing answers 201")
@blp.alt_response(201, schema=RankingSchema, description="published")
@blp.alt_response(409, schema=ErrorSchema,
                  description="conflict (already published), insufficient_funds (with "
                              "missing_fen: nothing was posted)")
def run_ranking(payload, code):
    """Preview the year's ranking, or publish it: an immutable snapshot, then every tier's
    bonus from the programme's fund, all or nothing."""
    actor = current_actor()
    if not payload["publish"]:
        computed = ranking.compute(db.session, actor, code, payload["year"],
                                   limit=payload["limit"])
        return honours.preview_document(db.session, computed, limit=payload["limit"])
    snapshot = ranking.publish(db.session, actor, code, payload["year"])
    commit()
    return honours.snapshot_document(db.session, snapshot, limit=payload["limit"]), 201


@blp.route("/programmes/<code>/rankings/<int:year>", methods=["GET"])
@actor_required("admin")
@blp.arguments(RowArgsSchema, location="query")
@blp.response(200, RankingSchema)
def get_ranking(args, code, year):
    """A published ranking: its configuration, ledger position, tiers and rows by page."""
    snapshot = ranking.get_snapshot(db.session, current_actor(), code, year)
    return honours.snapshot_document(db.session, snapshot, offset=args["offset"],
                                     limit=args["limit"], tier=args.get("tier"))


@blp.route("/programmes/<code>/special-honours", methods=["POST"])
@actor_required("admin")
@blp.arguments(SpecialHonourRequestSchema)
@blp.response(201, SpecialHonourSchema)
@blp.doc(parameters=IDEMPOTENT)
def special_honour(payload, code):
    """A named honour for a deed (见义勇为 ...) with a reason; points above the programme's
    threshold wait for a second administrator, as any manual award."""
    actor = current_actor()

    def work():
        return SpecialHonourSchema().dump(honours.give_special_honour(
            db.session, actor, code, payload["volunteer_id"], payload["year"], payload["title"],
            payload["reason"], payload["amount_points"],
            idempotency_key(actor, "special-honour")))

    return run_once(actor, "special-honour", payload, work, status=201)


@blp.route("/programmes/<code>/leaderboards", methods=["GET"])
@actor_required()
@blp.arguments(LeaderboardArgsSchema, location="query")
@blp.response(200, LeaderboardSchema)
def leaderboard(args, code):
    """Points earned this week, month or year, by volunteer or team, in an area of the
    programme; with the caller's own line even outside the top."""
    board = leaderboards.board(db.session, current_actor(), code, args["period"],
                               area_code=args.get("area"), by=args["by"], limit=args["limit"],
                               metric=args["metric"])
    return board.as_dict()



@blp.route("/programmes/<code>/stars", methods=["POST"])
@actor_required("admin")
@blp.arguments(StarRequestSchema)
@blp.response(201, StarSchema(many=True))
@blp.alt_response(409, schema=ErrorSchema, description="the year's stars are already published")
def publish_stars(payload, code):
    """Choose and publish the year's stars: volunteers and teams by points earned, merchants
    by points accepted in redeemed vouchers, projects (activities) by service minutes."""
    chosen = stars.publish_stars(db.session, current_actor(), code, payload["year"])
    commit()
    return chosen


@blp.route("/programmes/<code>/stars/<int:year>", methods=["GET"])
@actor_required()
@blp.response(200, StarSchema(many=True))
def get_stars(code, year):
    """The year's published stars, for anyone the programme concerns."""
    programme = get_programme(db.session, code)
    actor = current_actor()
    if not (access.overlaps(actor, ("admin", "organiser", "reviewer"), programme.area)
            or programme.area.contains(actor.area)):
        from volunteers.errors import NotInYourArea

        raise NotInYourArea(f"programme {code} is outside your areas", programme=code)
    return stars.published_stars(db.session, programme, year)
