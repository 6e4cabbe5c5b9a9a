"""Payloads of a programme's fund sources."""

from marshmallow import Schema, fields, validate

from volunteers.fund_sources import PURPOSES


class EarmarksSchema(Schema):
    kinds = fields.List(fields.String(validate=validate.OneOf(PURPOSES)),
                        validate=validate.Length(max=len(PURPOSES)),
                        metadata={"description": "the only purposes the source may pay for"})


class FundSourceRequestSchema(Schema):
    code = fields.String(required=True, validate=validate.Regexp(r"^[a-z0-9][a-z0-9_-]{0,39}$"))
    name = fields.String(required=True, validate=validate.Length(min=1, max=120))
    sponsor = fields.String(required=True, validate=validate.Length(min=1, max=120))
    earmarks = fields.Nested(EarmarksSchema)
    ends_on = fields.Date(metadata={"description": "the last day it may pay (China time)"})
    priority = fields.Integer(validate=validate.Range(min=0, max=1000), metadata={
        "description": "its place in the order sources are drawn on (lower first)"})


class MonthSchema(Schema):
    month = fields.String()
    in_fen = fields.Integer()
    out_fen = fields.Integer()
    paid_for = fields.Dict(keys=fields.String(), values=fields.Integer(), metadata={
        "description": "fen out by entry kind (cash_out, settlement, ranking_bonus_reserve)"})


class FundSourceSchema(Schema):
    code = fields.String()
    name = fields.String()
    sponsor = fields.String()
    account = fields.String()
    earmarks = fields.Dict(allow_none=True)
    ends_on = fields.Date(allow_none=True)
    priority = fields.Integer()
    balance_fen = fields.Integer()
    monthly = fields.List(fields.Nested(MonthSchema))
