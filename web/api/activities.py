"""Activities, sign-ups, check-in and check-out, service hours and party duty."""

from __future__ import annotations

from flask import send_file
from flask_smorest import Blueprint

from activities import catalogue, checkin, duty, hours, planning, signups
from activities.planning import ActivityDraft

from ..auth import actor_required, current_actor
from ..extensions import db, limiter
from ..pages.activities import checkin_key, checkin_limit, checkin_limit_key, checkin_url, qr_png
from ..transactions import commit
from .idempotency import IDEMPOTENT, run_once
from .schemas.activities import (
    ActivityCategorySchema,
    ActivityCreateSchema,
    ActivityListArgsSchema,
    ActivitySchema,
    AmendmentCreateSchema,
    AmendmentSchema,
    ApprovalSchema,
    ApproveSchema,
    AttendanceSchema,
    CheckinCodeSchema,
    CodeArgsSchema,
    DutyArgsSchema,
    DutyRowSchema,
    EarningRuleSchema,
    EarningRuleUpdateSchema,
    HoursArgsSchema,
    HoursRecordSchema,
    PartyStatusAnswerSchema,
    PartyStatusSchema,
    RequiredReasonSchema,
    ScanSchema,
    SignupSchema,
)
from .schemas.common import ErrorSchema

blp = Blueprint("activities", __name__, url_prefix="/api/v1",
                description="Activities, check-in by rotating QR, service hours")


@blp.route("/activity-categories", methods=["GET"])
@actor_required()
@blp.response(200, ActivityCategorySchema(many=True))
def categories():
    return catalogue.all_categories(db.session)


@blp.route("/activities", methods=["GET"])
@actor_required()
@blp.arguments(ActivityListArgsSchema, location="query")
@blp.response(200, ActivitySchema(many=True))
def list_activities(args):
    """Activities the caller may see: staff their areas', a volunteer those of the
    programmes covering them."""
    return planning.visible_activities(db.session, current_actor(),
                                       upcoming_only=args["upcoming"], limit=args["limit"])


@blp.route("/activities", methods=["POST"])
@actor_required("organiser", "admin")
@blp.arguments(ActivityCreateSchema)
@blp.response(201, ActivitySchema)
@blp.alt_response(403, schema=ErrorSchema, description="forbidden: outside your areas")
def create_activity(payload):
    activity = planning.create_activity(db.session, current_actor(), ActivityDraft(**payload))
    commit()
    return activity


@blp.route("/activities/<int:activity_id>", methods=["GET"])
@actor_required()
@blp.response(200, ActivitySchema)
def get_activity(activity_id):
    activity = planning.get_activity(db.session, activity_id)
    planning.require_visible(current_actor(), activity)
    return activity


@blp.route("/activities/<int:activity_id>/cancel", methods=["POST"])
@actor_required("organiser", "admin")
@blp.arguments(RequiredReasonSchema)
@blp.response(200, ActivitySchema)
def cancel_activity(payload, activity_id):
    """Call the activity off; everyone signed up is notified with the reason."""
    activity = planning.cancel_activity(db.session, current_actor(), activity_id,
                                        payload["reason"])
    commit()
    return activity


@blp.route("/activities/<int:activity_id>/signups", methods=["POST"])
@actor_required("volunteer")
@blp.response(201, SignupSchema)
@blp.alt_response(409, schema=ErrorSchema, description="activity_full, already_signed_up")
def sign_up(activity_id):
    """Take a seat; the last seat goes to exactly one of several concurrent callers."""
    signup = signups.sign_up(db.session, current_actor(), activity_id)
    commit()
    return signup


@blp.route("/activities/<int:activity_id>/signups/cancel", methods=["POST"])
@actor_required("volunteer")
@blp.response(200, SignupSchema)
def cancel_signup(activity_id):
    signup = signups.cancel_signup(db.session, current_actor(), activity_id)
    commit()
    return signup


@blp.route("/activities/<int:activity_id>/checkin-code", methods=["GET"])
@actor_required("organiser", "admin")
@blp.arguments(CodeArgsSchema, location="query")
@blp.response(200, CheckinCodeSchema)
def checkin_code(args, activity_id):
    """The code the organiser's screen shows now (it changes every minute)."""
    activity = planning.get_activity(db.session, activity_id)
    planning.require_organiser(current_actor(), activity)
    code = checkin.current_code(checkin_key(), activity.id, args["direction"])
    return {"activity_id": activity.id, "direction": args["direction"], "code": code,
            "url": checkin_url(activity.id, args["direction"], code),
            "seconds_left": checkin.seconds_left()}


@blp.route("/activities/<int:activity_id>/qr.png", methods=["GET"])
@actor_required("organiser", "admin")
@blp.arguments(CodeArgsSchema, location="query")
@blp.response(200, content_type="image/png")
def checkin_qr(args, activity_id):
    """The current check-in (or check-out) QR code: it encodes the scan page's URL."""
    activity = planning.get_activity(db.session, activity_id)
    planning.require_organiser(current_actor(), activity)
    return send_file(qr_png(activity.id, args["direction"]), mimetype="image/png",
                     max_age=0)


def _scan(payload, activity_id, service):
    attendance = service(db.session, current_actor(), activity_id, payload["code"],
                         key=checkin_key(), lat=payload.get("lat"), lng=payload.get("lng"))
    commit()
    return attendance


@blp.route("/activities/<int:activity_id>/checkins", methods=["POST"])
@limiter.limit(checkin_limit, key_func=checkin_limit_key)
@actor_required("volunteer")
@blp.arguments(ScanSchema)
@blp.response(201, AttendanceSchema)
@blp.alt_response(400, schema=ErrorSchema,
                  description="checkin_code_invalid, checkin_code_expired")
@blp.alt_response(429, schema=ErrorSchema, description="rate_limited")
def check_in(payload, activity_id):
    """Check in with the code from the organiser's QR; a repeat answers with the first."""
    return _scan(payload, activity_id, checkin.check_in)


@blp.route("/activities/<int:activity_id>/checkouts", methods=["POST"])
@limiter.limit(checkin_limit, key_func=checkin_limit_key)
@actor_required("volunteer")
@blp.arguments(ScanSchema)
@blp.response(201, AttendanceSchema)
def check_out(payload, activity_id):
    return _scan(payload, activity_id, checkin.check_out)


@blp.route("/activities/<int:activity_id>/attendances", methods=["GET"])
@actor_required("organiser", "admin")
@blp.response(200, AttendanceSchema(many=True))
def attendances(activity_id):
    return hours.attendance_list(db.session, current_actor(), activity_id)


@blp.route("/activities/<int:activity_id>/hours/approve", methods=["POST"])
@actor_required("organiser", "admin")
@blp.arguments(ApproveSchema)
@blp.response(200, ApprovalSchema)
@blp.alt_response(409, schema=ErrorSchema,
                  description="hours_already_approved, hours_not_ready, budget_exhausted")
@blp.doc(parameters=IDEMPOTENT)
def approve_hours(payload, activity_id):
    """Approve in bulk and pay at the programme's hourly rate; ``adjustments`` set other
    minutes with a reason (recorded as amendments)."""
    actor = current_actor()
    adjustments = {a["attendance_id"]: hours.Adjustment(a["minutes"], a["reason"])
                   for a in payload["adjustments"]}

    def work():
        result = hours.approve(db.session, actor, activity_id,
                               payload.get("attendance_ids"), adjustments)
        return ApprovalSchema().dump({
            "activity_id": activity_id, "approved": result.approved,
            "total_points": sum(a.points or 0 for a in result.approved)})

    return run_once(actor, f"hours:{activity_id}", payload, work)


@blp.route("/attendances/<int:attendance_id>/amendments", methods=["POST"])
@actor_required("organiser", "admin")
@blp.arguments(AmendmentCreateSchema)
@blp.response(201, AmendmentSchema)
def amend_hours(payload, attendance_id):
    """Correct an approved hours record; the change, reason, who and when are kept."""
    amendment = hours.amend(db.session, current_actor(), attendance_id, payload["minutes"],
                            payload["reason"])
    commit()
    return amendment


@blp.route("/me/hours", methods=["GET"])
@actor_required("volunteer")
@blp.arguments(HoursArgsSchema, location="query")
@blp.response(200, HoursRecordSchema)
def my_hours(args):
    """My official service-hours record (approved hours, with any amendments)."""
    return hours.hours_record(db.session, current_actor(), args.get("year"))


@blp.route("/volunteers/<int:user_id>/hours", methods=["GET"])
@actor_required("organiser", "admin")
@blp.arguments(HoursArgsSchema, location="query")
@blp.response(200, HoursRecordSchema)
def volunteer_hours(args, user_id):
    user = hours.readable_record(db.session, current_actor(), user_id)
    return hours.hours_record(db.session, user, args.get("year"))


@blp.route("/volunteers/<int:user_id>/party-status", methods=["PUT"])
@actor_required("organiser", "admin")
@blp.arguments(PartyStatusSchema)
@blp.response(200, PartyStatusAnswerSchema)
def set_party_status(payload, user_id):
    """在职党员 (in_service), 居住地党员 (resident) or none."""
    profile = duty.set_party_status(db.session, current_actor(), user_id,
                                    payload["party_status"])
    commit()
    return profile


@blp.route("/party-duty", methods=["GET"])
@actor_required("organiser", "admin")
@blp.arguments(DutyArgsSchema, location="query")
@blp.response(200, DutyRowSchema(many=True))
def party_duty(args):
    """Party members of an area and their year's service against the duty."""
    return duty.duty_report(db.session, current_actor(), args["area"], args["year"],
                            only_short=args["short_only"])


@blp.route("/programmes/<code>/earning-rules", methods=["PUT"])
@actor_required("admin")
@blp.arguments(EarningRuleUpdateSchema)
@blp.response(200, EarningRuleSchema)
def set_earning_rule(payload, code):
    """Points per approved hour and the daily check-in reward of a programme."""
    rule = catalogue.set_earning_rule(db.session, current_actor(), code, **payload)
    commit()
    return rule


