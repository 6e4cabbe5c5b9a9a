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


class CentreSchema(Schema):
    lat = fields.Float(required=True, validate=validate.Range(min=-90, max=90))
    lng = fields.Float(required=True, validate=validate.Range(min=-180, max=180))


class AreaCreateSchema(Schema):
    code = fields.String(required=True, validate=CODE)
    name = fields.String(required=True, validate=validate.Length(min=1, max=120))
    level = fields.String(required=True, validate=validate.OneOf(
        ("district", "street", "community", "grid", "courtyard")))
    parent = fields.String(required=True, validate=validate.Length(min=1, max=64))
    boundary = fields.Dict(metadata={"description": "a GeoJSON Polygon"})
    centre = fields.Nested(CentreSchema)


class AreaPatchSchema(Schema):
    name = fields.String(validate=validate.Length(min=1, max=120))
    parent = fields.String(validate=validate.Length(min=1, max=64),
                           metadata={"description": "moves the area (and its subtree)"})
    boundary = fields.Dict(allow_none=True)
    centre = fields.Nested(CentreSchema, allow_none=True)


class AreaSchema(Schema):
    code = fields.String()
    name = fields.String()
    level = fields.String()
    parent = fields.Function(lambda area: area.parent.code if area.parent else None)
    path = fields.String()
    closed_at = fields.DateTime(allow_none=True)
    boundary = fields.Dict(allow_none=True)
    centre = fields.Function(lambda area: None if area.centre_lat is None else
                             {"lat": area.centre_lat, "lng": area.centre_lng})


class DepartmentCreateSchema(Schema):
    code = fields.String(required=True, validate=validate.Regexp(r"^[a-z0-9][a-z0-9_-]{0,39}$"))
    name = fields.String(required=True, validate=validate.Length(min=1, max=120))
    area = fields.String(required=True, validate=validate.Length(min=1, max=64))
    phone = fields.String(validate=validate.Length(max=32))
    categories = fields.List(fields.String(validate=validate.Length(min=1, max=40)),
                             validate=validate.Length(max=200))
    serves = fields.List(fields.String(validate=validate.Length(min=1, max=64)),
                         validate=validate.Length(max=200),
                         metadata={"description": "codes of other areas it serves"})


class StaffMemberSchema(Schema):
    id = fields.Integer()
    username = fields.String()
    display_name = fields.String()


class DepartmentSchema(Schema):
    code = fields.String()
    name = fields.String()
    area = fields.String()
    phone = fields.String(allow_none=True)
    categories = fields.List(fields.String())
    serves = fields.List(fields.String())
    staff = fields.List(fields.Nested(StaffMemberSchema))


class StaffRequestSchema(Schema):
    user_id = fields.Integer(required=True, strict=True, validate=validate.Range(min=1))


class RoleRequestSchema(Schema):
    role = fields.String(required=True, validate=validate.OneOf(
        ("volunteer", "organiser", "reviewer", "merchant", "admin")))
    area = fields.String(required=True, validate=validate.Length(min=1, max=64))


class RoleArgsSchema(Schema):
    area = fields.String(required=True, validate=validate.Length(min=1, max=64))


class RoleResultSchema(Schema):
    status = fields.String(metadata={"description": "granted, or awaiting_approval (admin)"})
    user_id = fields.Integer()
    role = fields.String()
    area = fields.String()
    request_id = fields.Integer(allow_none=True)


class PendingRoleSchema(Schema):
    id = fields.Integer()
    user_id = fields.Integer()
    username = fields.Function(lambda r: r.user.username)
    role = fields.String()
    area = fields.Function(lambda r: r.area.code)
    requested_by = fields.Function(lambda r: r.requested_by.username)
    status = fields.String()
    created_at = fields.DateTime()


class AccountStateSchema(Schema):
    id = fields.Integer()
    username = fields.String()
    active = fields.Boolean()


class ResetCodeSchema(Schema):
    code = fields.String()
    expires_at = fields.DateTime()


class PasswordResetSchema(Schema):
    username = fields.String(required=True, validate=validate.Length(min=1, max=64),
                             metadata={"description": "the user name or phone number"})
    code = fields.String(required=True, validate=validate.Length(min=1, max=32),
                         load_only=True)
    new_password = fields.String(required=True, load_only=True,
                                 validate=validate.Length(min=8, max=256))


class PasswordChangeSchema(Schema):
    current_password = fields.String(required=True, load_only=True,
                                      validate=validate.Length(min=1, max=256))
    new_password = fields.String(required=True, load_only=True,
                                 validate=validate.Length(min=8, max=256))


class DoneSchema(Schema):
    ok = fields.Boolean()
