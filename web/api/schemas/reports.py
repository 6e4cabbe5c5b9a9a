"""Payloads of the incident reports API: categories, filing (JSON or multipart with photos),
the report as the API shows it, and the reviewer's decisions."""

from flask_smorest.fields import Upload
from marshmallow import Schema, fields, validate

from .common import DateTime, Integer

STATUS_CHOICES = ("submitted", "verified", "rejected", "dispatched", "in_progress", "resolved",
                  "closed")


class CategorySchema(Schema):
    code = fields.String()
    name = fields.String()
    group = fields.Function(lambda c: c.group.code)
    group_name = fields.Function(lambda c: c.group.name)
    points = Integer(bits=64)
    urgency = fields.String(metadata={"description": "urgent, time_limited or long_term"})
    deadline_hours = Integer(bits=64)
    department = fields.Function(lambda c: c.department.name if c.department else None)
    legal_basis = fields.String(allow_none=True)


class ReportFormSchema(Schema):
    category = fields.String(required=True, validate=validate.Length(min=1, max=40))
    lat = fields.Float(required=True, allow_nan=False, validate=validate.Range(-90, 90))
    lng = fields.Float(required=True, allow_nan=False, validate=validate.Range(-180, 180))
    address = fields.String(load_default="", validate=validate.Length(max=300))
    description = fields.String(required=True, validate=validate.Length(min=1, max=2000))
    area = fields.String(validate=validate.Length(min=1, max=64),
                         metadata={"description": "where it is, if not the reporter's area"})


class ReportUploadSchema(ReportFormSchema):
    """The whole multipart body as documented: the form's fields and its files."""

    photos = fields.List(Upload(), metadata={"description": "up to 9 photos (JPEG, PNG, WebP)"})
    video = Upload(metadata={"description": "or one short video (MP4, MOV, WebM)"})


class MediaSchema(Schema):
    id = Integer(bits=64)
    kind = fields.String()
    content_type = fields.String()
    width = Integer(bits=64, allow_none=True)
    height = Integer(bits=64, allow_none=True)
    url = fields.String()
    thumbnail_url = fields.String(allow_none=True)


class EventSchema(Schema):
    action = fields.String()
    status = fields.String()
    note = fields.String(allow_none=True)
    created_at = DateTime()


class ReportSchema(Schema):
    id = Integer(bits=64)
    category = fields.String()
    category_name = fields.String()
    status = fields.String()
    lat = fields.Float()
    lng = fields.Float()
    address = fields.String()
    description = fields.String()
    area = fields.String()
    area_name = fields.String()
    responsible_area = fields.String()
    escalation_level = Integer(bits=64)
    programme = fields.String(allow_none=True)
    points_awarded = Integer(bits=64)
    duplicate_of = Integer(bits=64, allow_none=True)
    department = fields.String(allow_none=True)
    reject_reason = fields.String(allow_none=True)
    resolution = fields.String(allow_none=True)
    reporter_name = fields.String(allow_none=True)
    reporter_phone = fields.String(allow_none=True)
    overdue = fields.Boolean()
    created_at = DateTime()
    updated_at = DateTime()
    feedback_due_at = DateTime()
    deadline_at = DateTime(allow_none=True)
    media = fields.List(fields.Nested(MediaSchema))
    events = fields.List(fields.Nested(EventSchema))


class ReportListArgsSchema(Schema):
    status = fields.String(validate=validate.OneOf(STATUS_CHOICES))
    category = fields.String(validate=validate.Length(min=1, max=40))
    area = fields.String(validate=validate.Length(min=1, max=64))
    overdue = fields.Boolean(load_default=False)
    after = Integer(validate=validate.Range(min=1),
                           metadata={"description": "the last id of the previous page"})
    limit = Integer(load_default=50, validate=validate.Range(min=1, max=200))


class ReportReasonSchema(Schema):
    reason = fields.String(required=True, validate=validate.Length(min=1, max=500))


class NoteSchema(Schema):
    note = fields.String(validate=validate.Length(max=1000))


class DispatchSchema(Schema):
    department = fields.String(validate=validate.Length(min=1, max=40),
                               metadata={"description": "default: the category's"})
    deadline_hours = Integer(validate=validate.Range(min=1, max=24 * 365),
                                    metadata={"description": "default: the category's"})


class ResolveSchema(Schema):
    resolution = fields.String(required=True, validate=validate.Length(min=1, max=1000))
