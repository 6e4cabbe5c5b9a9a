"""Year-end honours over the API: the ranking configuration, preview and publish, the
published snapshot page by page, special honours, and the leaderboards."""

from flask_smorest import Blueprint
from marshmallow import Schema, ValidationError, fields, validate

from honours import honours, leaderboards, ranking, stars
from volunteers import access
from volunteers.programmes import get_programme

from ..auth import actor_required, current_actor
from ..extensions import db
from ..schemas import AwardSchema, ErrorSchema, StrictInteger
from ..transactions import commit
from . import idempotency_key

blp = Blueprint("rankings", __name__, url_prefix="/api/v1",
                description="Year-end honours: rankings, tiers, bonuses, leaderboards")

MAX_ROWS = 1_000
FIRST_YEAR, LAST_YEAR = 2000, 2100


class TierRuleSchema(Schema):
    key = fields.String(required=True, validate=validate.Regexp(r"^[a-z0-9_]{1,20}$"))
    name = fields.String(required=True, validate=validate.Length(min=1, max=20))
    share_bp = StrictInteger(allow_none=True, validate=validate.Range(min=1, max=10_000),
                             metadata={"description": "share of the eligible in basis points "
                                                      "(500 = 5 %), proportion mode"})
    min_points = StrictInteger(allow_none=True, validate=validate.Range(min=1),
                               metadata={"description": "points needed, threshold mode"})
    bonus_fen = StrictInteger(load_default=0, validate=validate.Range(min=0, max=10**9))


class RankingConfigSchema(Schema):
    mode = fields.String(load_default="proportion",
                         validate=validate.OneOf(["proportion", "threshold"]))
    tiers = fields.List(fields.Nested(TierRuleSchema), required=True,
                        validate=validate.Length(min=1, max=10))
    min_points = StrictInteger(load_default=1, validate=validate.Range(min=0))
    counting_kinds = fields.List(fields.String(validate=validate.Length(min=1, max=40)),
                                 validate=validate.Length(min=1, max=20))
    exclude_staff = fields.Boolean(load_default=True)


class RankingRequestSchema(Schema):
    year = StrictInteger(required=True, validate=validate.Range(min=FIRST_YEAR, max=LAST_YEAR))
    publish = fields.Boolean(load_default=False)
    limit = StrictInteger(load_default=100, validate=validate.Range(min=0, max=MAX_ROWS),
                          metadata={"description": "rows to include in the answer"})


class RowArgsSchema(Schema):
    offset = fields.Integer(load_default=0, validate=validate.Range(min=0))
    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=MAX_ROWS))
    tier = fields.String(validate=validate.Length(min=1, max=20))


class PositionSchema(Schema):
    entry_id = fields.Integer()
    chain_seq = fields.Integer()
    chain_hash = fields.String()


class TierSummarySchema(Schema):
    key = fields.String()
    name = fields.String()
    count = fields.Integer()
    min_points = fields.Integer(allow_none=True)
    max_points = fields.Integer(allow_none=True)
    bonus_fen = fields.Integer()
    bonus_total_fen = fields.Integer()


class RowSchema(Schema):
    position = fields.Integer()
    rank = fields.Integer()
    volunteer_id = fields.Integer()
    display_name = fields.String()
    points = fields.Integer()
    reached_at = fields.DateTime(allow_none=True)
    tier = fields.String(allow_none=True)
    tier_name = fields.String(allow_none=True)
    bonus_fen = fields.Integer()


class RankingSchema(Schema):
    programme = fields.String()
    year = fields.Integer()
    status = fields.String(metadata={"description": "preview or published"})
    ledger_position = fields.Nested(PositionSchema)
    config = fields.Nested(RankingConfigSchema)
    eligible_count = fields.Integer()
    ranked_count = fields.Integer()
    bonus_total_fen = fields.Integer()
    bonus_entry_count = fields.Integer(allow_none=True)
    tiers = fields.List(fields.Nested(TierSummarySchema))
    rows = fields.List(fields.Nested(RowSchema))
    rows_offset = fields.Integer()
    published_at = fields.DateTime(allow_none=True)
    published_by = fields.String(allow_none=True)


class SpecialHonourRequestSchema(Schema):
    volunteer_id = StrictInteger(required=True, validate=validate.Range(min=1))
    year = StrictInteger(required=True, validate=validate.Range(min=FIRST_YEAR, max=LAST_YEAR))
    title = fields.String(required=True, validate=validate.Length(min=1, max=60))
    reason = fields.String(required=True, validate=validate.Length(min=1, max=500))
    amount_points = StrictInteger(load_default=0, validate=validate.Range(min=0, max=10**9))


class SpecialHonourSchema(Schema):
    id = fields.Integer()
    programme = fields.Function(lambda honour: honour.programme.code)
    year = fields.Integer()
    volunteer_id = fields.Integer()
    title = fields.String()
    reason = fields.String()
    award = fields.Nested(AwardSchema, allow_none=True)


def known_metric(value: str) -> None:
    """Checked against the metrics registered when the request comes (activities adds hours)."""
    if value not in leaderboards.METRICS:
        raise ValidationError(f"Must be one of: {', '.join(sorted(leaderboards.METRICS))}.")


class LeaderboardArgsSchema(Schema):
    period = fields.String(load_default="year",
                           validate=validate.OneOf(list(leaderboards.PERIODS)))
    area = fields.String(validate=validate.Length(min=1, max=64))
    by = fields.String(load_default="volunteer", validate=validate.OneOf(["volunteer", "team"]))
    limit = fields.Integer(load_default=20, validate=validate.Range(min=1, max=100))
    metric = fields.String(load_default="points", validate=known_metric, metadata={
        "description": "points (earned) or hours (approved service minutes)"})


class BoardLineSchema(Schema):
    place = fields.Integer()
    subject_id = fields.Integer()
    name = fields.String()
    score = fields.Integer(metadata={"description": "in the board's unit"})


class LeaderboardSchema(Schema):
    programme = fields.String()
    period = fields.String()
    starts_at = fields.DateTime()
    ends_at = fields.DateTime()
    by = fields.String()
    area = fields.String()
    metric = fields.String(metadata={"description": "points (earned) or hours (served)"})
    unit = fields.String(metadata={"description": "what each line's score counts: points, "
                                   "or minutes for the hours metric"})
    lines = fields.List(fields.Nested(BoardLineSchema))
    mine = fields.Nested(BoardLineSchema, allow_none=True,
                         metadata={"description": "the caller's own line, even outside the top"})


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
def special_honour(payload, code):
    """A named honour for a deed (见义勇为 ...) with a reason; points above the programme's
    threshold wait for a second administrator, as any manual award."""
    actor = current_actor()
    honour = honours.give_special_honour(
        db.session, actor, code, payload["volunteer_id"], payload["year"], payload["title"],
        payload["reason"], payload["amount_points"], idempotency_key(actor, "special-honour"))
    commit()
    return honour


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


class StarRequestSchema(Schema):
    year = StrictInteger(required=True, validate=validate.Range(min=FIRST_YEAR, max=LAST_YEAR))


class StarSchema(Schema):
    subject_type = fields.String(metadata={"description": "volunteer, team, merchant (points "
                                                          "accepted) or project (activity, "
                                                          "minutes served)"})
    subject_id = fields.Integer()
    subject_name = fields.String()
    criterion = fields.String()
    score = fields.Integer()
    place = fields.Integer()
    published_at = fields.DateTime()


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
