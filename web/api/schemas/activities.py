"""Payloads of the activities, service-hours, wishes and daily check-in API."""

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from activities.checkin import CODE_DIGITS
from activities.planning import MAX_ACTIVITY_MINUTES, MAX_CAPACITY, MAX_RADIUS_M
from activities.wishes import MAX_WISH_POINTS

from .common import AwareDateTime, Date, DateTime, Integer, StrictInteger

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
    starts_at = AwareDateTime(required=True, default_timezone=None)
    ends_at = AwareDateTime(required=True)
    capacity = StrictInteger(required=True, validate=validate.Range(min=1, max=MAX_CAPACITY))
    max_minutes = StrictInteger(validate=validate.Range(min=1, max=MAX_ACTIVITY_MINUTES),
                                metadata={"description": "hours cap in minutes; default: "
                                          "the activity's length"})
    team_id = StrictInteger(allow_none=True, validate=validate.Range(min=1))


class ActivitySchema(Schema):
    id = Integer(bits=64)
    title = fields.String()
    description = fields.String()
    category = fields.Function(lambda a: a.category.code)
    category_name = fields.Function(lambda a: a.category.name)
    area = fields.Function(lambda a: a.area.code)
    programme = fields.Function(lambda a: a.programme.code)
    venue = fields.String()
    lat = fields.Float(allow_none=True)
    lng = fields.Float(allow_none=True)
    checkin_radius_m = Integer(bits=64, allow_none=True)
    starts_at = DateTime()
    ends_at = DateTime()
    capacity = Integer(bits=64)
    signed_up_count = Integer(bits=64)
    seats_left = Integer(bits=64)
    max_minutes = Integer(bits=64)
    team_id = Integer(bits=64, allow_none=True)
    status = fields.String()


class ActivityListArgsSchema(Schema):
    upcoming = fields.Boolean(load_default=False)
    limit = Integer(load_default=50, validate=validate.Range(min=1, max=200))


class SignupSchema(Schema):
    id = Integer(bits=64)
    activity_id = Integer(bits=64)
    user_id = Integer(bits=64)
    status = fields.String(metadata={"description": "signed_up or cancelled"})
    created_at = DateTime()
    cancelled_at = DateTime(allow_none=True)


class ScanSchema(Schema):
    code = fields.String(required=True, validate=validate.Regexp(
        rf"^\s*\d{{{CODE_DIGITS}}}\s*$", error=f"{CODE_DIGITS} digits"))
    lat = fields.Float(allow_none=True, validate=validate.Range(min=-90, max=90))
    lng = fields.Float(allow_none=True, validate=validate.Range(min=-180, max=180))


class CodeArgsSchema(Schema):
    direction = fields.String(load_default="in", validate=validate.OneOf(("in", "out")))


class CheckinCodeSchema(Schema):
    activity_id = Integer(bits=64)
    direction = fields.String()
    code = fields.String()
    url = fields.String(metadata={"description": "what the QR code encodes"})
    seconds_left = Integer(bits=64)


class AttendanceSchema(Schema):
    id = Integer(bits=64)
    activity_id = Integer(bits=64)
    user_id = Integer(bits=64)
    display_name = fields.Function(lambda a: a.user.display_name)
    status = fields.String(metadata={"description": "checked_in, checked_out or approved"})
    checked_in_at = DateTime()
    checked_out_at = DateTime(allow_none=True)
    checkin_distance_m = Integer(bits=64, allow_none=True)
    counted_minutes = fields.Method("_counted", allow_none=True)
    approved_minutes = Integer(bits=64, allow_none=True)
    points = Integer(bits=64, allow_none=True)
    entry_id = Integer(bits=64, allow_none=True)

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
    activity_id = Integer(bits=64)
    approved = fields.List(fields.Nested(AttendanceSchema))
    total_points = Integer(bits=64)


class AmendmentCreateSchema(Schema):
    minutes = StrictInteger(required=True, validate=validate.Range(min=0,
                                                                   max=MAX_ACTIVITY_MINUTES))
    reason = fields.String(required=True, validate=Text(min=1, max=500))


class AmendmentSchema(Schema):
    id = Integer(bits=64)
    attendance_id = Integer(bits=64)
    previous_minutes = Integer(bits=64)
    new_minutes = Integer(bits=64)
    reason = fields.String()
    amended_by = fields.Function(lambda a: a.amended_by.username)
    created_at = DateTime()


class HoursArgsSchema(Schema):
    year = Integer(validate=validate.Range(min=2000, max=2100))


class HoursItemSchema(Schema):
    attendance_id = Integer(bits=64, attribute="id")
    activity_id = Integer(bits=64)
    title = fields.Function(lambda a: a.activity.title)
    category = fields.Function(lambda a: a.activity.category.name)
    starts_at = fields.Function(lambda a: a.activity.starts_at.isoformat())
    approved_minutes = Integer(bits=64)
    amendments = fields.List(fields.Nested(AmendmentSchema))


class HoursRecordSchema(Schema):
    user_id = fields.Function(lambda r: r.user.id)
    total_minutes = Integer(bits=64)
    times = Integer(bits=64)
    items = fields.List(fields.Nested(HoursItemSchema))


class DutyArgsSchema(Schema):
    area = fields.String(required=True, validate=Text(min=1, max=64))
    year = Integer(required=True, validate=validate.Range(min=2000, max=2100))
    short_only = fields.Boolean(load_default=False)


class DutyRowSchema(Schema):
    user_id = fields.Function(lambda r: r.user.id)
    username = fields.Function(lambda r: r.user.username)
    display_name = fields.Function(lambda r: r.user.display_name)
    area = fields.Function(lambda r: r.user.area.code)
    party_status = fields.String()
    times = Integer(bits=64)
    minutes = Integer(bits=64)
    required_times = Integer(bits=64)
    required_minutes = Integer(bits=64)
    short = fields.Boolean()


class PartyStatusSchema(Schema):
    party_status = fields.String(required=True, validate=validate.OneOf(
        ("none", "in_service", "resident")))


class PartyStatusAnswerSchema(Schema):
    user_id = Integer(bits=64)
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
    id = Integer(bits=64)
    title = fields.String()
    resident_name = fields.String()
    story = fields.String()
    needs = fields.String()
    area = fields.Function(lambda w: w.area.code)
    area_name = fields.Function(lambda w: w.area.name)
    programme = fields.Function(lambda w: w.programme.code)
    reward_points = Integer(bits=64)
    status = fields.String(metadata={"description": "open, claimed, fulfilled, confirmed"})
    claimed_by_id = Integer(bits=64, allow_none=True)
    claimed_team_id = Integer(bits=64, allow_none=True)
    claimed_at = DateTime(allow_none=True)
    fulfilled_at = DateTime(allow_none=True)
    fulfilment_note = fields.String(allow_none=True)
    confirmed_at = DateTime(allow_none=True)
    entry_id = Integer(bits=64, allow_none=True)
    abandon_count = Integer(bits=64)
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
    day = Date()
    points = Integer(bits=64)
    entry_id = Integer(bits=64, allow_none=True)
    created = fields.Boolean()
    streak_days = Integer(bits=64)
