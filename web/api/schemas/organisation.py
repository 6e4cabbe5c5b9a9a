"""Payloads of running the programme: the audit log, areas, departments, people's roles and
accounts, imports."""

from marshmallow import Schema, fields, validate

from .common import MAX_PAGE_SIZE

CODE = validate.Regexp(r"^[a-z0-9][a-z0-9_-]{0,63}$")


class AuditArgsSchema(Schema):
    area = fields.String(validate=validate.Length(min=1, max=64))
    kind = fields.String(validate=validate.Length(min=1, max=64))
    actor = fields.String(validate=validate.Length(min=1, max=64))
    since = fields.DateTime(metadata={"description": "ISO 8601; without a zone, China time"})
    before = fields.Integer(validate=validate.Range(min=1),
                            metadata={"description": "ids below this one (the next page)"})
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=MAX_PAGE_SIZE))


class AuditEventSchema(Schema):
    id = fields.Integer()
    created_at = fields.DateTime()
    actor = fields.String(attribute="actor_name")
    actor_id = fields.Integer(allow_none=True)
    address = fields.String(allow_none=True)
    kind = fields.String()
    subject = fields.String()
    area_path = fields.String()
    before = fields.Dict(allow_none=True)
    after = fields.Dict(allow_none=True)


class AuditPageSchema(Schema):
    items = fields.List(fields.Nested(AuditEventSchema))
    next_before = fields.Integer(allow_none=True,
                                 metadata={"description": "pass as before for the next page"})
