"""Payloads of the verifiable ledger's API (issue 14): signed heads and proofs."""

from marshmallow import Schema, fields, validate

MAX_TREE_SIZE = 2**62


class HeadSchema(Schema):
    tree_size = fields.Integer()
    root_hash = fields.String(metadata={"description": "hex SHA-256, RFC 6962 MTH"})
    entry_id = fields.Integer(allow_none=True)
    at = fields.String()
    accounts_through = fields.Integer(metadata={
        "description": "the highest account id whose fixed fields the head commits to"})
    accounts_digest = fields.String(metadata={
        "description": "hex SHA-256 of the accounts manifest: the sorted lines "
                       "code|unit|kind|no_overdraft as compact JSON"})
    key_id = fields.String()
    public_key = fields.String(metadata={"description": "Ed25519, base64"})
    signature = fields.String(metadata={"description": "Ed25519, base64"})


class ConsistencyArgsSchema(Schema):
    from_ = fields.Integer(data_key="from", required=True,
                           validate=validate.Range(min=0, max=MAX_TREE_SIZE))
    to = fields.Integer(validate=validate.Range(min=0, max=MAX_TREE_SIZE))


class ConsistencySchema(Schema):
    from_ = fields.Integer(data_key="from")
    to = fields.Integer()
    proof = fields.List(fields.String())
    head = fields.Nested(HeadSchema)


class InclusionArgsSchema(Schema):
    tree_size = fields.Integer(validate=validate.Range(min=1, max=MAX_TREE_SIZE))


class InclusionSchema(Schema):
    entry_id = fields.Integer()
    entry_hash = fields.String()
    leaf_index = fields.Integer()
    leaf_hash = fields.String()
    tree_size = fields.Integer()
    proof = fields.List(fields.String())
    head = fields.Nested(HeadSchema)


