"""Payloads of the people, programmes and awards API: sign-in and sign-up, the signed-in
user, programmes, funding, manual awards, notifications and teams."""

from marshmallow import Schema, fields, validate

from ledger import MAX_AMOUNT
from volunteers import teams

from ...extensions import db
from .common import Amount, StrictInteger


class TokenRequestSchema(Schema):
    username = fields.String(required=True, validate=validate.Length(min=1, max=64))
    password = fields.String(required=True, validate=validate.Length(min=1, max=256),
                             load_only=True)


class TokenSchema(Schema):
    token = fields.String(required=True)
    expires_at = fields.DateTime(required=True)


class RegisterSchema(Schema):
    username = fields.String(required=True, validate=validate.Regexp(r"^[A-Za-z0-9_.-]{3,64}$"))
    password = fields.String(required=True, load_only=True,
                             validate=validate.Length(min=8, max=256))
    display_name = fields.String(required=True, validate=validate.Length(min=1, max=120))
    area = fields.String(required=True, validate=validate.Length(min=1, max=64))
    phone = fields.String(validate=validate.Regexp(r"^\+?[0-9 -]{5,20}$"))


class GrantSchema(Schema):
    role = fields.String()
    area = fields.Function(lambda grant: grant.area.code)


class WalletSchema(Schema):
    posted_points = fields.Integer()
    pending_points = fields.Integer()
    available_points = fields.Integer()


class UserSchema(Schema):
    id = fields.Integer()
    username = fields.String()
    display_name = fields.String()
    area = fields.Function(lambda user: user.area.code)
    roles = fields.List(fields.String())
    grants = fields.List(fields.Nested(GrantSchema))


class MeSchema(Schema):
    id = fields.Integer()
    username = fields.String()
    display_name = fields.String()
    area = fields.String()
    roles = fields.List(fields.String())
    grants = fields.List(fields.Nested(GrantSchema))
    wallet = fields.Nested(WalletSchema, allow_none=True)


class ProgrammeCreateSchema(Schema):
    code = fields.String(required=True, validate=validate.Regexp(r"^[a-z0-9][a-z0-9_-]{0,39}$"))
    name = fields.String(required=True, validate=validate.Length(min=1, max=120))
    area = fields.String(required=True, validate=validate.Length(min=1, max=64))
    points_per_yuan = StrictInteger(required=True, validate=validate.Range(min=1, max=10_000))
    award_approval_threshold_points = StrictInteger(validate=validate.Range(min=1, max=MAX_AMOUNT))


class ProgrammeSchema(Schema):
    code = fields.String()
    name = fields.String()
    area = fields.String(metadata={"description": "the area's code"})
    points_per_yuan = fields.Integer()
    award_approval_threshold_points = fields.Integer()
    fund_fen = fields.Integer()
    budget_points = fields.Integer()


class FundingRequestSchema(Schema):
    amount_fen = Amount()
    source = fields.String(required=True, validate=validate.Length(min=1, max=200))
    fund_source = fields.String(validate=validate.Length(min=1, max=40), metadata={
        "description": "the fund source's code (GET /programmes/{code}/fund-sources); "
        "default: the general fund"})


class FundingSchema(Schema):
    entry_id = fields.Integer()
    programme = fields.String()
    amount_fen = fields.Integer()
    amount_points = fields.Integer()
    source = fields.String()
    fund_source = fields.String()


class AwardRequestSchema(Schema):
    volunteer_id = StrictInteger(required=True, validate=validate.Range(min=1))
    amount_points = Amount()
    reason = fields.String(required=True, validate=validate.Length(min=1, max=500))


class AwardDecisionSchema(Schema):
    note = fields.String(validate=validate.Length(max=500))


class AwardSchema(Schema):
    id = fields.Integer()
    programme = fields.Function(lambda award: award.programme.code)
    volunteer_id = fields.Integer()
    amount_points = fields.Integer()
    reason = fields.String()
    status = fields.String(metadata={"description": "posted, awaiting_approval or rejected"})
    entry_id = fields.Integer(allow_none=True)
    requested_by = fields.Function(lambda award: award.requested_by.username)
    created_at = fields.DateTime()



class NotificationSchema(Schema):
    id = fields.Integer()
    text = fields.String(metadata={"description": "in the reader's language"})
    message = fields.String(metadata={"description": "the untranslated message (msgid)"})
    params = fields.Dict()
    link = fields.String(allow_none=True)
    reference = fields.String(allow_none=True)
    created_at = fields.DateTime()
    read_at = fields.DateTime(allow_none=True)


class NotificationListSchema(Schema):
    unread = fields.Integer()
    items = fields.List(fields.Nested(NotificationSchema))


class NotificationArgsSchema(Schema):
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))


class MarkedReadSchema(Schema):
    marked = fields.Integer()


class MemberSchema(Schema):
    id = fields.Integer()
    username = fields.String()
    display_name = fields.String()


class TeamSchema(Schema):
    id = fields.Integer()
    name = fields.String()
    area = fields.Function(lambda team: team.area.code)
    leader_id = fields.Integer()
    members = fields.Function(
        lambda team: MemberSchema(many=True).dump(teams.members(db.session, team.id)))


class TeamCreateSchema(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=120))
    area = fields.String(required=True, validate=validate.Length(min=1, max=64))
    leader_id = StrictInteger(required=True, validate=validate.Range(min=1))


class UserIdSchema(Schema):
    user_id = StrictInteger(required=True, validate=validate.Range(min=1))
