"""Payloads of the activities, service-hours, wishes and daily check-in API."""

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from activities.checkin import CODE_DIGITS
from activities.planning import MAX_ACTIVITY_MINUTES, MAX_CAPACITY, MAX_RADIUS_M
from activities.wishes import MAX_WISH_POINTS

from .common import StrictInteger

Text = validate.Length


class ActivityCreateSchema(Schema):
    title = fields.String(required=True, validate=Text(min=1, max=120))
    description = fields.String(load_default="", validate=Text(max=5000))
    category = fields.String(required=True, validate=Text(min=1, max=40))
    area = fields.String(required=True, validate=Text(min=1, max=64))
    programme = fields.String(required=True, validate=Text(min=1, max=40))
    venue = fields.String(required=True, validate=Text(min=1, max=200))
    lat = fields.Float(allow_none=True, validate=validate.Range(min=-90, max=90))
    lng = fields.Float(allow_none=True, validate=validate.Range(min=-180, max=180))
    checkin_radius_m = StrictInteger(allow_none=True,
                                     validate=validate.Range(min=10, max=MAX_RADIUS_M))
    starts_at = fields.AwareDateTime(required=True, default_timezone=None)
    ends_at = fields.AwareDateTime(required=True)
    capacity = StrictInteger(required=True, validate=validate.Range(min=1, max=MAX_CAPACITY))
    max_minutes = StrictInteger(validate=validate.Range(min=1, max=MAX_ACTIVITY_MINUTES),
                                metadata={"description": "hours cap in minutes; default: "
                                          "the activity's length"})
    team_id = StrictInteger(allow_none=True, validate=validate.Range(min=1))


class ActivitySchema(Schema):
    id = fields.Integer()
    title = fields.String()
    description = fields.String()
    category = fields.Function(lambda a: a.category.code)
    category_name = fields.Function(lambda a: a.category.name)
    area = fields.Function(lambda a: a.area.code)
    programme = fields.Function(lambda a: a.programme.code)
    venue = fields.String()
    lat = fields.Float(allow_none=True)
    lng = fields.Float(allow_none=True)
    checkin_radius_m = fields.Integer(allow_none=True)
    starts_at = fields.DateTime()
    ends_at = fields.DateTime()
    capacity = fields.Integer()
    signed_up_count = fields.Integer()
    seats_left = fields.Integer()
    max_minutes = fields.Integer()
    team_id = fields.Integer(allow_none=True)
    status = fields.String()


class ActivityListArgsSchema(Schema):
    upcoming = fields.Boolean(load_default=False)
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))


class SignupSchema(Schema):
    id = fields.Integer()
    activity_id = fields.Integer()
    user_id = fields.Integer()
    status = fields.String(metadata={"description": "signed_up or cancelled"})
    created_at = fields.DateTime()
    cancelled_at = fields.DateTime(allow_none=True)


class ScanSchema(Schema):
    code = fields.String(required=True, validate=validate.Regexp(
        rf"^\s*\d{{{CODE_DIGITS}}}\s*$", error=f"{CODE_DIGITS} digits"))
    lat = fields.Float(allow_none=True, validate=validate.Range(min=-90, max=90))
    lng = fields.Float(allow_none=True, validate=validate.Range(min=-180, max=180))


class CodeArgsSchema(Schema):
    direction = fields.String(load_default="in", validate=validate.OneOf(("in", "out")))


class CheckinCodeSchema(Schema):
    activity_id = fields.Integer()
    direction = fields.String()
    code = fields.String()
    url = fields.String(metadata={"description": "what the QR code encodes"})
    seconds_left = fields.Integer()


class AttendanceSchema(Schema):
    id = fields.Integer()
    activity_id = fields.Integer()
    user_id = fields.Integer()
    display_name = fields.Function(lambda a: a.user.display_name)
    status = fields.String(metadata={"description": "checked_in, checked_out or approved"})
    checked_in_at = fields.DateTime()
    checked_out_at = fields.DateTime(allow_none=True)
    checkin_distance_m = fields.Integer(allow_none=True)
    counted_minutes = fields.Method("_counted", allow_none=True)
    approved_minutes = fields.Integer(allow_none=True)
    points = fields.Integer(allow_none=True)
    entry_id = fields.Integer(allow_none=True)

    def _counted(self, attendance):
        from activities.hours import counted_minutes

        return counted_minutes(attendance)


class AdjustmentSchema(Schema):
    attendance_id = StrictInteger(required=True, validate=validate.Range(min=1))
    minutes = StrictInteger(required=True, validate=validate.Range(min=0,
                                                                   max=MAX_ACTIVITY_MINUTES))
    reason = fields.String(required=True, validate=Text(min=1, max=500))


class ApproveSchema(Schema):
    attendance_ids = fields.List(StrictInteger(validate=validate.Range(min=1)),
                                 validate=Text(min=1, max=500),
                                 metadata={"description": "default: every checked-out one"})
    adjustments = fields.List(fields.Nested(AdjustmentSchema), load_default=list,
                              validate=Text(max=500))

    @validates_schema
    def _one_adjustment_each(self, data, **kwargs):
        ids = [a["attendance_id"] for a in data.get("adjustments", [])]
        if len(ids) != len(set(ids)):
            raise ValidationError("one adjustment per attendance", "adjustments")


class ApprovalSchema(Schema):
    activity_id = fields.Integer()
    approved = fields.List(fields.Nested(AttendanceSchema))
    total_points = fields.Integer()


class AmendmentCreateSchema(Schema):
    minutes = StrictInteger(required=True, validate=validate.Range(min=0,
                                                                   max=MAX_ACTIVITY_MINUTES))
    reason = fields.String(required=True, validate=Text(min=1, max=500))


class AmendmentSchema(Schema):
    id = fields.Integer()
    attendance_id = fields.Integer()
    previous_minutes = fields.Integer()
    new_minutes = fields.Integer()
    reason = fields.String()
    amended_by = fields.Function(lambda a: a.amended_by.username)
    created_at = fields.DateTime()


class HoursArgsSchema(Schema):
    year = fields.Integer(validate=validate.Range(min=2000, max=2100))


class HoursItemSchema(Schema):
    attendance_id = fields.Integer(attribute="id")
    activity_id = fields.Integer()
    title = fields.Function(lambda a: a.activity.title)
    category = fields.Function(lambda a: a.activity.category.name)
    starts_at = fields.Function(lambda a: a.activity.starts_at.isoformat())
    approved_minutes = fields.Integer()
    amendments = fields.List(fields.Nested(AmendmentSchema))


class HoursRecordSchema(Schema):
    user_id = fields.Function(lambda r: r.user.id)
    total_minutes = fields.Integer()
    times = fields.Integer()
    items = fields.List(fields.Nested(HoursItemSchema))


class DutyArgsSchema(Schema):
    area = fields.String(required=True, validate=Text(min=1, max=64))
    year = fields.Integer(required=True, validate=validate.Range(min=2000, max=2100))
    short_only = fields.Boolean(load_default=False)


class DutyRowSchema(Schema):
    user_id = fields.Function(lambda r: r.user.id)
    username = fields.Function(lambda r: r.user.username)
    display_name = fields.Function(lambda r: r.user.display_name)
    area = fields.Function(lambda r: r.user.area.code)
    party_status = fields.String()
    times = fields.Integer()
    minutes = fields.Integer()
    required_times = fields.Integer()
    required_minutes = fields.Integer()
    short = fields.Boolean()


class PartyStatusSchema(Schema):
    party_status = fields.String(required=True, validate=validate.OneOf(
        ("none", "in_service", "resident")))


class PartyStatusAnswerSchema(Schema):
    user_id = fields.Integer()
    party_status = fields.String()


class ActivityCategorySchema(Schema):
    code = fields.String()
    name = fields.String()


class EarningRuleSchema(Schema):
    programme = fields.Function(lambda r: r.programme.code)
    points_per_hour = StrictInteger(validate=validate.Range(min=0, max=1000))
    daily_checkin_points = StrictInteger(validate=validate.Range(min=0, max=100))


class EarningRuleUpdateSchema(Schema):
    points_per_hour = StrictInteger(validate=validate.Range(min=0, max=1000))
    daily_checkin_points = StrictInteger(validate=validate.Range(min=0, max=100))


class WishCreateSchema(Schema):
    title = fields.String(required=True, validate=Text(min=1, max=120))
    resident_name = fields.String(required=True, validate=Text(min=1, max=40),
                                  metadata={"description": "stored masked only (张*芳)"})
    story = fields.String(required=True, validate=Text(min=1, max=5000))
    needs = fields.String(required=True, validate=Text(min=1, max=500))
    area = fields.String(required=True, validate=Text(min=1, max=64))
    programme = fields.String(required=True, validate=Text(min=1, max=40))
    reward_points = StrictInteger(required=True,
                                  validate=validate.Range(min=1, max=MAX_WISH_POINTS))


class WishSchema(Schema):
    id = fields.Integer()
    title = fields.String()
    resident_name = fields.String()
    story = fields.String()
    needs = fields.String()
    area = fields.Function(lambda w: w.area.code)
    area_name = fields.Function(lambda w: w.area.name)
    programme = fields.Function(lambda w: w.programme.code)
    reward_points = fields.Integer()
    status = fields.String(metadata={"description": "open, claimed, fulfilled, confirmed"})
    claimed_by_id = fields.Integer(allow_none=True)
    claimed_team_id = fields.Integer(allow_none=True)
    claimed_at = fields.DateTime(allow_none=True)
    fulfilled_at = fields.DateTime(allow_none=True)
    fulfilment_note = fields.String(allow_none=True)
    confirmed_at = fields.DateTime(allow_none=True)
    entry_id = fields.Integer(allow_none=True)
    abandon_count = fields.Integer()
    photo_ids = fields.Function(lambda w: [p.id for p in w.photos])


class WishListArgsSchema(Schema):
    status = fields.String(validate=validate.OneOf(("open", "claimed", "fulfilled",
                                                    "confirmed", "all")),
                           load_default="open")
    mine = fields.Boolean(load_default=False)


class ClaimSchema(Schema):
    team_id = StrictInteger(allow_none=True, validate=validate.Range(min=1))


class ReasonSchema(Schema):
    reason = fields.String(validate=Text(max=500))


class RequiredReasonSchema(Schema):
    reason = fields.String(required=True, validate=Text(min=1, max=500))


class FulfilFormSchema(Schema):
    note = fields.String(load_default="", validate=Text(max=1000))


class DailyCheckinSchema(Schema):
    day = fields.Date()
    points = fields.Integer()
    entry_id = fields.Integer(allow_none=True)
    created = fields.Boolean()
    streak_days = fields.Integer()
