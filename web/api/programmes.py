from flask_smorest import Blueprint

import ledger
from volunteers import programmes
from volunteers.errors import NotInYourArea

from ..auth import actor_required, current_actor
from ..extensions import db
from ..transactions import commit
from .idempotency import IDEMPOTENT, idempotency_key, run_once
from .schemas.common import ErrorSchema
from .schemas.volunteers import (
    AwardDecisionSchema,
    AwardRequestSchema,
    AwardSchema,
    FundingRequestSchema,
    FundingSchema,
    ProgrammeCreateSchema,
    ProgrammeSchema,
)

blp = Blueprint("programmes", __name__, url_prefix="/api/v1",
                description="Programmes, their funding and manual awards")


def programme_view(programme):
    balances = ledger.balances(db.session, [programme.account("fund"),
                                            programme.account("budget")])
    return {
        "code": programme.code,
        "name": programme.name,
        "area": programme.area.code,
        "points_per_yuan": programme.points_per_yuan,
        "award_approval_threshold_points": programme.award_approval_threshold_points,
        "fund_fen": balances[programme.account("fund")].available,
        "budget_points": balances[programme.account("budget")].available,
    }


@blp.route("/programmes", methods=["GET"])
@actor_required()
@blp.response(200, ProgrammeSchema(many=True))
def list_programmes():
    """Programmes on the caller's areas."""
    return [programme_view(p) for p in programmes.visible_programmes(db.session, current_actor())]


@blp.route("/programmes", methods=["POST"])
@actor_required("admin")
@blp.arguments(ProgrammeCreateSchema)
@blp.response(201, ProgrammeSchema)
@blp.alt_response(409, schema=ErrorSchema)
def create_programme(payload):
    """A programme on an area in the caller's charge, with its chart of accounts."""
    programme = programmes.create_programme(
        db.session, current_actor(), payload["code"], payload["name"], payload["area"],
        payload["points_per_yuan"],
        payload.get("award_approval_threshold_points",
                    programmes.DEFAULT_APPROVAL_THRESHOLD_POINTS),
    )
    commit()
    return programme_view(programme)


@blp.route("/programmes/<code>", methods=["GET"])
@actor_required()
@blp.response(200, ProgrammeSchema)
def get_programme(code):
    """A programme and its fund and budget, for anyone it concerns."""
    programme = programmes.get_programme(db.session, code)
    if programme not in programmes.visible_programmes(db.session, current_actor()):
        raise NotInYourArea(f"programme {code} is outside your areas", programme=code)
    return programme_view(programme)


@blp.route("/programmes/<code>/funding", methods=["POST"])
@actor_required("admin")
@blp.arguments(FundingRequestSchema)
@blp.response(201, FundingSchema)
@blp.doc(parameters=IDEMPOTENT)
def fund(payload, code):
    """Record money received: the fund grows by amount_fen, the budget by the rate."""
    actor = current_actor()

    def work():
        return FundingSchema().dump(programmes.fund_programme(
            db.session, actor, code, payload["amount_fen"], payload["source"],
            idempotency_key(actor, f"funding:{code}"), payload.get("fund_source")))

    return run_once(actor, f"funding:{code}", payload, work, status=201)


@blp.route("/programmes/<code>/awards", methods=["POST"])
@actor_required("admin", "reviewer")
@blp.arguments(AwardRequestSchema)
@blp.response(201, AwardSchema)
@blp.alt_response(409, schema=ErrorSchema, description="budget_exhausted, idempotency_conflict")
@blp.doc(parameters=IDEMPOTENT)
def award(payload, code):
    """A manual award from the budget. Above the programme's threshold its status is
    awaiting_approval until a second administrator approves it."""
    actor = current_actor()

    def work():
        return AwardSchema().dump(programmes.request_award(
            db.session, actor, code, payload["volunteer_id"], payload["amount_points"],
            payload["reason"], idempotency_key(actor, "award")))

    return run_once(actor, "award", payload, work, status=201)


@blp.route("/awards", methods=["GET"])
@actor_required("admin")
@blp.response(200, AwardSchema(many=True))
def awaiting_awards():
    """Awards awaiting a second administrator, on the caller's areas."""
    return programmes.pending_awards(db.session, current_actor())


@blp.route("/awards/<int:award_id>/approve", methods=["POST"])
@actor_required("admin")
@blp.arguments(AwardDecisionSchema)
@blp.response(200, AwardSchema)
def approve(payload, award_id):
    """Approve and post an award another administrator requested."""
    result = programmes.approve_award(db.session, current_actor(), award_id, payload.get("note"))
    commit()
    return result


@blp.route("/awards/<int:award_id>/reject", methods=["POST"])
@actor_required("admin")
@blp.arguments(AwardDecisionSchema)
@blp.response(200, AwardSchema)
def reject(payload, award_id):
    result = programmes.reject_award(db.session, current_actor(), award_id,
                                     payload.get("note", ""))
    commit()
    return result
