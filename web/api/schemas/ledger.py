"""Payloads of the ledger API: accounts, statements and the journal's entries."""

from marshmallow import Schema, fields, validate

from .common import PageArgsSchema


class AccountSchema(Schema):
    code = fields.String()
    unit = fields.String()
    kind = fields.String()
    posted = fields.Integer()
    pending = fields.Integer()
    available = fields.Integer()
    closed = fields.Boolean()
    no_overdraft = fields.Boolean()


class StatementLineSchema(Schema):
    posting_id = fields.Integer()
    entry_id = fields.Integer()
    kind = fields.String()
    status = fields.String()
    reference = fields.String(allow_none=True)
    memo = fields.String(allow_none=True)
    created_at = fields.DateTime()
    amount = fields.Integer()
    posted_after = fields.Integer(allow_none=True)


class StatementSchema(Schema):
    account = fields.Nested(AccountSchema)
    items = fields.List(fields.Nested(StatementLineSchema))
    next_before = fields.Integer(allow_none=True)


class StatementArgsSchema(PageArgsSchema):
    proof = fields.Boolean(load_default=False, metadata={
        "description": "true: each entry's RFC 6962 inclusion proof to a signed head, and the "
                       "statement signed (check it offline: scripts/verify-statement)"})
    tree_size = fields.Integer(validate=validate.Range(min=0, max=2**62), metadata={
        "description": "with proof=true: prove under the tree of this many entries (a head "
                       "you keep) instead of the tree now"})


class EntryArgsSchema(PageArgsSchema):
    account = fields.String(validate=validate.Length(min=1, max=120))
    kind = fields.String(validate=validate.Length(min=1, max=40))
    since = fields.DateTime()


class PostingSchema(Schema):
    account = fields.Function(lambda posting: posting.account.code)
    unit = fields.String()
    amount = fields.Integer()
    posted_after = fields.Integer(allow_none=True)


class EntrySchema(Schema):
    id = fields.Integer()
    kind = fields.String()
    status = fields.String()
    reference = fields.String(allow_none=True)
    memo = fields.String(allow_none=True)
    created_by = fields.String(allow_none=True)
    created_at = fields.DateTime()
    pending_id = fields.Integer(allow_none=True)
    reverses_id = fields.Integer(allow_none=True)
    expires_at = fields.DateTime(allow_none=True)
    hash = fields.String()
    postings = fields.List(fields.Nested(PostingSchema))


class EntryPageSchema(Schema):
    items = fields.List(fields.Nested(EntrySchema))
    next_before = fields.Integer(allow_none=True)
