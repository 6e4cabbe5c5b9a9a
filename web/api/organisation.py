"""The organisation under /api/v1: areas (create, rename, redraw, move, close), departments
and their staff, people's roles per area, suspension and reset codes. Administrators act
inside their own areas only; every change lands in the audit log."""

from __future__ import annotations

from flask_smorest import Blueprint

from reports import departments
from volunteers import accounts, areas, roles, users
from volunteers.models import RoleRequest

from ..auth import actor_required, current_actor
from ..extensions import db
from ..transactions import commit
from .schemas.common import ErrorSchema
from .schemas.organisation import (
    AccountStateSchema,
    AreaCreateSchema,
    AreaPatchSchema,
    AreaSchema,
    DepartmentCreateSchema,
    DepartmentSchema,
    PendingRoleSchema,
    ResetCodeSchema,
    RoleArgsSchema,
    RoleRequestSchema,
    RoleResultSchema,
    StaffRequestSchema,
)

blp = Blueprint("organisation", __name__, url_prefix="/api/v1",
                description="Areas, departments, roles and accounts, run by administrators")


def _centre(payload: dict):
    centre = payload.get("centre")
    return None if centre is None else (centre["lat"], centre["lng"])


@blp.route("/areas", methods=["GET"])
@actor_required("admin")
@blp.response(200, AreaSchema(many=True))
def list_areas():
    """Every area inside the caller's admin areas, in tree order."""
    return areas.administered(db.session, current_actor())


@blp.route("/areas", methods=["POST"])
@actor_required("admin")
@blp.arguments(AreaCreateSchema)
@blp.response(201, AreaSchema)
@blp.alt_response(403, schema=ErrorSchema)
@blp.alt_response(409, schema=ErrorSchema, description="conflict (code taken), area_closed")
def create_area(payload):
    """A new area one level below its parent, inside the caller's areas."""
    area = areas.add_area(db.session, current_actor(), payload["code"], payload["name"],
                          payload["level"], payload["parent"], payload.get("boundary"),
                          _centre(payload))
    commit()
    return area


@blp.route("/areas/<code>", methods=["GET"])
@actor_required()
@blp.response(200, AreaSchema)
def get_area(code):
    return areas.get_area(db.session, code)


@blp.route("/areas/<code>", methods=["PATCH"])
@actor_required("admin")
@blp.arguments(AreaPatchSchema)
@blp.response(200, AreaSchema)
@blp.alt_response(409, schema=ErrorSchema, description="area_cycle (a move under its own "
                  "child), area_closed, area_is_root")
def patch_area(payload, code):
    """Rename, redraw or move (``parent``) an area."""
    changes = dict(payload)
    if "centre" in payload:
        changes["centre"] = _centre(payload)
    area = areas.update_area(db.session, current_actor(), code, changes)
    commit()
    return area


@blp.route("/areas/<code>/close", methods=["POST"])
@actor_required("admin")
@blp.response(200, AreaSchema)
@blp.alt_response(409, schema=ErrorSchema, description="area_has_open_reports, "
                  "area_has_live_offers, area_closed, area_is_root")
def close_area(code):
    """Closes the area and its subtree (never deleted: its history stays)."""
    area = areas.close_area(db.session, current_actor(), code)
    commit()
    return area


def department_body(department) -> dict:
    return {
        "code": department.code, "name": department.name, "area": department.area.code,
        "phone": department.phone,
        "categories": [c.code for c in departments.handled_categories(db.session, department)],
        "serves": [a.code for a in departments.served_areas(db.session, department)],
        "staff": [member.user for member in department.members],
    }


@blp.route("/departments", methods=["GET"])
@actor_required("admin")
@blp.response(200, DepartmentSchema(many=True))
def list_departments():
    return [department_body(d)
            for d in departments.administered_departments(db.session, current_actor())]


@blp.route("/departments", methods=["POST"])
@actor_required("admin")
@blp.arguments(DepartmentCreateSchema)
@blp.response(201, DepartmentSchema)
@blp.alt_response(409, schema=ErrorSchema, description="conflict: the code is taken")
def create_department(payload):
    """A department on an area, with the report categories it handles."""
    department = departments.create_with(
        db.session, current_actor(), payload["code"], payload["name"], payload["area"],
        payload.get("categories"), payload.get("phone"), payload.get("serves"))
    commit()
    return department_body(department)


@blp.route("/departments/<code>", methods=["GET"])
@actor_required("admin")
@blp.response(200, DepartmentSchema)
def get_department(code):
    return department_body(departments.get_department(db.session, code))


@blp.route("/departments/<code>/staff", methods=["POST"])
@actor_required("admin")
@blp.arguments(StaffRequestSchema)
@blp.response(200, DepartmentSchema)
def add_staff(payload, code):
    department = departments.get_department(db.session, code)
    user = users.get_user(db.session, payload["user_id"])
    departments.add_member(db.session, current_actor(), department, user)
    commit()
    return department_body(department)


@blp.route("/departments/<code>/staff", methods=["DELETE"])
@actor_required("admin")
@blp.arguments(StaffRequestSchema)
@blp.response(200, DepartmentSchema)
def remove_staff(payload, code):
    department = departments.get_department(db.session, code)
    user = users.get_user(db.session, payload["user_id"])
    departments.remove_member(db.session, current_actor(), department, user)
    commit()
    return department_body(department)


@blp.route("/users/<int:user_id>/roles", methods=["POST"])
@actor_required("admin")
@blp.arguments(RoleRequestSchema)
@blp.response(201, RoleResultSchema)
@blp.alt_response(202, schema=RoleResultSchema, description="admin: awaiting a second "
                  "administrator of the area")
@blp.alt_response(403, schema=ErrorSchema)
def grant_role(payload, user_id):
    """Grants a role on an area inside the caller's; ``admin`` waits for a second
    administrator (202, ``awaiting_approval``)."""
    result = roles.grant(db.session, current_actor(), user_id, payload["role"],
                         payload["area"])
    commit()
    body = {"user_id": user_id, "role": payload["role"], "area": payload["area"]}
    if isinstance(result, RoleRequest):
        return {**body, "status": result.status, "request_id": result.id}, 202
    return {**body, "status": "granted", "request_id": None}


@blp.route("/users/<int:user_id>/roles/<role>", methods=["DELETE"])
@actor_required("admin")
@blp.arguments(RoleArgsSchema, location="query")
@blp.response(204)
@blp.alt_response(409, schema=ErrorSchema, description="last_admin")
def revoke_role(args, user_id, role):
    roles.revoke(db.session, current_actor(), user_id, role, args["area"])
    commit()
    return None


@blp.route("/role-requests", methods=["GET"])
@actor_required("admin")
@blp.response(200, PendingRoleSchema(many=True))
def pending_roles():
    """Grants of admin in the caller's areas waiting for a second administrator."""
    return roles.pending_requests(db.session, current_actor())


@blp.route("/role-requests/<int:request_id>/<any(approve, reject):decision>", methods=["POST"])
@actor_required("admin")
@blp.response(200, PendingRoleSchema)
@blp.alt_response(403, schema=ErrorSchema, description="the requester cannot approve")
def decide_role(request_id, decision):
    request = roles.decide(db.session, current_actor(), request_id, decision == "approve")
    commit()
    return request


@blp.route("/users/<int:user_id>/suspend", methods=["POST"])
@actor_required("admin")
@blp.response(200, AccountStateSchema)
def suspend(user_id):
    """The user cannot sign in, their tokens stop working; their points stay theirs."""
    user = accounts.suspend(db.session, current_actor(), user_id)
    commit()
    return user


@blp.route("/users/<int:user_id>/reactivate", methods=["POST"])
@actor_required("admin")
@blp.response(200, AccountStateSchema)
def reactivate(user_id):
    user = accounts.reactivate(db.session, current_actor(), user_id)
    commit()
    return user


@blp.route("/users/<int:user_id>/reset-code", methods=["POST"])
@actor_required("admin")
@blp.response(201, ResetCodeSchema)
def reset_code(user_id):
    """A one-time code (24 hours) the person uses at ``POST /auth/reset`` or /reset; shown
    this once, stored only as its hash, logged."""
    user = users.get_user(db.session, user_id)
    code, expires_at = accounts.issue_code(db.session, current_actor(), user, "reset")
    commit()
    return {"code": code, "expires_at": expires_at}
