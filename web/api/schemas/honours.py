"""Payloads of the year-end honours API: ranking configuration, rankings and their rows,
special honours, stars and leaderboards."""

from marshmallow import Schema, ValidationError, fields, validate

from honours import leaderboards

from .common import DateTime, Integer, StrictInteger
from .volunteers import AwardSchema

MAX_ROWS = 1_000
FIRST_YEAR, LAST_YEAR = 2000, 2100


def known_metric(value: str) -> None:
    """Checked against the metrics registered when the request comes (activities adds hours)."""
    if value not in leaderboards.METRICS:
        raise ValidationError(f"Must be one of: {', '.join(sorted(leaderboards.METRICS))}.")


class TierRuleSchema(Schema):
    key = fields.String(required=True, validate=validate.Regexp(r"^[a-z0-9_]{1,20}$"))
    name = fields.String(required=True, validate=validate.Length(min=1, max=20))
    share_bp = StrictInteger(allow_none=True, validate=validate.Range(min=1, max=10_000),
                             metadata={"description": "share of the eligible in basis points "
                                                      "(500 = 5 %), proportion mode"})
    min_points = StrictInteger(bits=64, allow_none=True, validate=validate.Range(min=1),
                               metadata={"description": "points needed, threshold mode"})
    bonus_fen = StrictInteger(load_default=0, validate=validate.Range(min=0, max=10**9))


class RankingConfigSchema(Schema):
    mode = fields.String(load_default="proportion",
                         validate=validate.OneOf(["proportion", "threshold"]))
    tiers = fields.List(fields.Nested(TierRuleSchema), required=True,
                        validate=validate.Length(min=1, max=10))
    min_points = StrictInteger(bits=64, load_default=1, validate=validate.Range(min=0))
    counting_kinds = fields.List(fields.String(validate=validate.Length(min=1, max=40)),
                                 validate=validate.Length(min=1, max=20))
    exclude_staff = fields.Boolean(load_default=True)


class RankingRequestSchema(Schema):
    year = StrictInteger(required=True, validate=validate.Range(min=FIRST_YEAR, max=LAST_YEAR))
    publish = fields.Boolean(load_default=False)
    limit = StrictInteger(load_default=100, validate=validate.Range(min=0, max=MAX_ROWS),
                          metadata={"description": "rows to include in the answer"})


class RowArgsSchema(Schema):
    offset = Integer(load_default=0, validate=validate.Range(min=0))
    limit = Integer(load_default=100, validate=validate.Range(min=1, max=MAX_ROWS))
    tier = fields.String(validate=validate.Length(min=1, max=20))


class PositionSchema(Schema):
    entry_id = Integer(bits=64)
    chain_seq = Integer(bits=64)
    chain_hash = fields.String()


class TierSummarySchema(Schema):
    key = fields.String()
    name = fields.String()
    count = Integer(bits=64)
    min_points = Integer(bits=64, allow_none=True)
    max_points = Integer(bits=64, allow_none=True)
    bonus_fen = Integer(bits=64)
    bonus_total_fen = Integer(bits=64)


class RowSchema(Schema):
    position = Integer(bits=64)
    rank = Integer(bits=64)
    volunteer_id = Integer(bits=64)
    display_name = fields.String()
    points = Integer(bits=64)
    reached_at = DateTime(allow_none=True)
    tier = fields.String(allow_none=True)
    tier_name = fields.String(allow_none=True)
    bonus_fen = Integer(bits=64)


class CreditingSchema(Schema):
    """How far the worker has credited a published ranking's bonuses."""

    status = fields.String(metadata={"description": "being_paid or paid"})
    reserved_fen = fields.Integer()
    credited_fen = fields.Integer()
    bonus_count = fields.Integer()
    credited_count = fields.Integer()
    credited_through = fields.Integer(metadata={"description": "the last position credited"})
    last_position = fields.Integer()
    started_at = fields.DateTime()
    finished_at = fields.DateTime(allow_none=True)


class RankingSchema(Schema):
    programme = fields.String()
    year = Integer(bits=64)
    status = fields.String(metadata={"description": "preview or published"})
    ledger_position = fields.Nested(PositionSchema)
    config = fields.Nested(RankingConfigSchema)
    eligible_count = Integer(bits=64)
    ranked_count = Integer(bits=64)
    bonus_total_fen = Integer(bits=64)
    bonus_entry_count = Integer(bits=64, allow_none=True, metadata={
        "description": "entries the publication posted: 1 (the bonus reservation) or 0"})
    crediting = fields.Nested(CreditingSchema, allow_none=True)
    tiers = fields.List(fields.Nested(TierSummarySchema))
    rows = fields.List(fields.Nested(RowSchema))
    rows_offset = Integer(bits=64)
    published_at = DateTime(allow_none=True)
    published_by = fields.String(allow_none=True)


class SpecialHonourRequestSchema(Schema):
    volunteer_id = StrictInteger(required=True, validate=validate.Range(min=1))
    year = StrictInteger(required=True, validate=validate.Range(min=FIRST_YEAR, max=LAST_YEAR))
    title = fields.String(required=True, validate=validate.Length(min=1, max=60))
    reason = fields.String(required=True, validate=validate.Length(min=1, max=500))
    amount_points = StrictInteger(load_default=0, validate=validate.Range(min=0, max=10**9))


class SpecialHonourSchema(Schema):
    id = Integer(bits=64)
    programme = fields.Function(lambda honour: honour.programme.code)
    year = Integer(bits=64)
    volunteer_id = Integer(bits=64)
    title = fields.String()
    reason = fields.String()
    award = fields.Nested(AwardSchema, allow_none=True)


class LeaderboardArgsSchema(Schema):
    period = fields.String(load_default="year",
                           validate=validate.OneOf(list(leaderboards.PERIODS)))
    area = fields.String(validate=validate.Length(min=1, max=64))
    by = fields.String(load_default="volunteer", validate=validate.OneOf(["volunteer", "team"]))
    limit = Integer(load_default=20, validate=validate.Range(min=1, max=100))
    metric = fields.String(load_default="points", validate=known_metric, metadata={
        "description": "points (earned) or hours (approved service minutes)"})


class BoardLineSchema(Schema):
    place = Integer(bits=64)
    subject_id = Integer(bits=64)
    name = fields.String()
    score = Integer(bits=64, metadata={"description": "in the board's unit"})


class LeaderboardSchema(Schema):
    programme = fields.String()
    period = fields.String()
    starts_at = DateTime()
    ends_at = DateTime()
    by = fields.String()
    area = fields.String()
    metric = fields.String(metadata={"description": "points (earned) or hours (served)"})
    unit = fields.String(metadata={"description": "what each line's score counts: points, "
                                   "or minutes for the hours metric"})
    lines = fields.List(fields.Nested(BoardLineSchema))
    mine = fields.Nested(BoardLineSchema, allow_none=True,
                         metadata={"description": "the caller's own line, even outside the top"})


class StarRequestSchema(Schema):
    year = StrictInteger(required=True, validate=validate.Range(min=FIRST_YEAR, max=LAST_YEAR))


class StarSchema(Schema):
    subject_type = fields.String(metadata={"description": "volunteer, team, merchant (points "
                                                          "accepted) or project (activity, "
                                                          "minutes served)"})
    subject_id = Integer(bits=64)
    subject_name = fields.String()
    criterion = fields.String()
    score = Integer(bits=64)
    place = Integer(bits=64)
    published_at = DateTime()
