"""Payloads of the people, programmes and awards API: sign-in and sign-up, the signed-in
user, programmes, funding, manual awards, notifications and teams."""

from marshmallow import Schema, fields, validate

from ledger import MAX_AMOUNT
from volunteers import teams

from ...extensions import db
from .common import Amount, DateTime, Integer, StrictInteger


class TokenRequestSchema(Schema):
    username = fields.String(required=True, validate=validate.Length(min=1, max=64))
    password = fields.String(required=True, validate=validate.Length(min=1, max=256),
                             load_only=True)


class TokenSchema(Schema):
    token = fields.String(required=True)
    expires_at = DateTime(required=True)


class RegisterSchema(Schema):
    username = fields.String(required=True, validate=validate.Regexp(r"^(?!\d+$)[\w.-]{2,64}$"))
    password = fields.String(required=True, load_only=True,
                             validate=validate.Length(min=8, max=256))
    display_name = fields.String(required=True, validate=validate.Length(min=1, max=120))
    area = fields.String(required=True, validate=validate.Length(min=1, max=64))
    phone = fields.String(validate=validate.Regexp(r"^\+?[0-9 -]{5,20}$"))


class GrantSchema(Schema):
    role = fields.String()
    area = fields.Function(lambda grant: grant.area.code)


class WalletSchema(Schema):
    posted_points = Integer(bits=64)
    pending_points = Integer(bits=64)
    available_points = Integer(bits=64)


class UserSchema(Schema):
    id = Integer(bits=64)
    username = fields.String()
    display_name = fields.String()
    area = fields.Function(lambda user: user.area.code)
    roles = fields.List(fields.String())
    grants = fields.List(fields.Nested(GrantSchema))


class MeSchema(Schema):
    id = Integer(bits=64)
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
    points_per_yuan = Integer(bits=64)
    award_approval_threshold_points = Integer(bits=64)
    fund_fen = Integer(bits=64)
    budget_points = Integer(bits=64)


class FundingRequestSchema(Schema):
    amount_fen = Amount(bits=64)
    source = fields.String(required=True, validate=validate.Length(min=1, max=200))
    fund_source = fields.String(validate=validate.Length(min=1, max=40), metadata={
        "description": "the fund source's code (GET /programmes/{code}/fund-sources); "
        "default: the general fund"})


class FundingSchema(Schema):
    entry_id = Integer(bits=64)
    programme = fields.String()
    amount_fen = Integer(bits=64)
    amount_points = Integer(bits=64)
    source = fields.String()
    fund_source = fields.String()


class AwardRequestSchema(Schema):
    volunteer_id = StrictInteger(required=True, validate=validate.Range(min=1))
    amount_points = Amount()
    reason = fields.String(required=True, validate=validate.Length(min=1, max=500))


class AwardDecisionSchema(Schema):
    note = fields.String(validate=validate.Length(max=500))


class AwardSchema(Schema):
    id = Integer(bits=64)
    programme = fields.Function(lambda award: award.programme.code)
    volunteer_id = Integer(bits=64)
    amount_points = Integer(bits=64)
    reason = fields.String()
    status = fields.String(metadata={"description": "posted, awaiting_approval or rejected"})
    entry_id = Integer(bits=64, allow_none=True)
    requested_by = fields.Function(lambda award: award.requested_by.username)
    created_at = DateTime()



class NotificationSchema(Schema):
    id = Integer(bits=64)
    text = fields.String(metadata={"description": "in the reader's language"})
    message = fields.String(metadata={"description": "the untranslated message (msgid)"})
    params = fields.Dict()
    link = fields.String(allow_none=True)
    reference = fields.String(allow_none=True)
    created_at = DateTime()
    read_at = DateTime(allow_none=True)


class NotificationListSchema(Schema):
    unread = Integer(bits=64)
    items = fields.List(fields.Nested(NotificationSchema))


class NotificationArgsSchema(Schema):
    limit = Integer(load_default=50, validate=validate.Range(min=1, max=200))


class MarkedReadSchema(Schema):
    marked = Integer(bits=64)


class MemberSchema(Schema):
    id = Integer(bits=64)
    username = fields.String()
    display_name = fields.String()


class TeamSchema(Schema):
    id = Integer(bits=64)
    name = fields.String()
    area = fields.Function(lambda team: team.area.code)
    leader_id = Integer(bits=64)
    members = fields.Function(
        lambda team: MemberSchema(many=True).dump(teams.members(db.session, team.id)))


class TeamCreateSchema(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=120))
    area = fields.String(required=True, validate=validate.Length(min=1, max=64))
    leader_id = StrictInteger(required=True, validate=validate.Range(min=1))


class UserIdSchema(Schema):
    user_id = StrictInteger(required=True, validate=validate.Range(min=1))


class ApiTokenInfoSchema(Schema):
    """A live API token as its owner or an administrator sees it: never the token itself."""

    id = Integer(bits=64)
    created_at = DateTime()
    expires_at = DateTime()


class ApiTokenListSchema(Schema):
    items = fields.List(fields.Nested(ApiTokenInfoSchema))


class ClientKeyRequestSchema(Schema):
    scope = fields.String(required=True, validate=validate.OneOf(("open311",)),
                          metadata={"description": "what the key may do: open311 (post "
                                    "service requests for its owner)"})
    label = fields.String(required=True, validate=validate.Length(min=1, max=120),
                          metadata={"description": "which client holds it"})


class ClientKeySchema(Schema):
    id = Integer(bits=64)
    scope = fields.String()
    label = fields.String()
    created_at = DateTime()


class ClientKeyIssuedSchema(ClientKeySchema):
    key = fields.String(metadata={"description": "shown once; send it as api_key in the "
                                  "body of an Open311 POST"})


class ClientKeyListSchema(Schema):
    items = fields.List(fields.Nested(ClientKeySchema))
