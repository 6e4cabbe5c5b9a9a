"""Payloads of the ledger API: accounts, statements and the journal's entries."""

from marshmallow import Schema, fields, validate

from .common import DateTime, Integer, PageArgsSchema


class AccountSchema(Schema):
    code = fields.String()
    unit = fields.String()
    kind = fields.String()
    posted = Integer(bits=64)
    pending = Integer(bits=64)
    available = Integer(bits=64)
    closed = fields.Boolean()
    no_overdraft = fields.Boolean()


class StatementLineSchema(Schema):
    posting_id = Integer(bits=64)
    entry_id = Integer(bits=64)
    kind = fields.String()
    status = fields.String()
    reference = fields.String(allow_none=True)
    memo = fields.String(allow_none=True)
    created_at = DateTime()
    amount = Integer(bits=64)
    posted_after = Integer(bits=64, allow_none=True)


class StatementSchema(Schema):
    account = fields.Nested(AccountSchema)
    items = fields.List(fields.Nested(StatementLineSchema))
    next_before = Integer(bits=64, allow_none=True)


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
    since = DateTime()


class PostingSchema(Schema):
    account = fields.Function(lambda posting: posting.account.code)
    unit = fields.String()
    amount = Integer(bits=64)
    posted_after = Integer(bits=64, allow_none=True, metadata={
        "description": "the account's posted balance after this posting; in the journal, "
                       "null on every account but the one asked for (root administrators "
                       "see all)"})


class EntrySchema(Schema):
    id = Integer(bits=64)
    kind = fields.String()
    status = fields.String()
    reference = fields.String(allow_none=True)
    memo = fields.String(allow_none=True)
    created_by = fields.String(allow_none=True)
    created_at = DateTime()
    pending_id = Integer(bits=64, allow_none=True)
    reverses_id = Integer(bits=64, allow_none=True)
    expires_at = DateTime(allow_none=True)
    hash = fields.String()
    postings = fields.List(fields.Nested(PostingSchema))


class EntryPageSchema(Schema):
    items = fields.List(fields.Nested(EntrySchema))
    next_before = Integer(bits=64, allow_none=True)
