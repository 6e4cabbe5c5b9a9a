"""我的: every page the person's roles reach (web/navigation.py), the switch between roles for
people who hold several, the large-text mode (适老化) and the language."""

from __future__ import annotations

from flask import Blueprint, abort, redirect, render_template
from flask import session as browser_session
from flask_login import current_user, login_required

from .. import navigation
from ..transactions import commit
from .forms import EmptyForm

bp = Blueprint("me", __name__)


@bp.route("/me")
@login_required
def index():
    active = navigation.active_role(current_user)
    held = navigation.roles_of(current_user)
    # The active role's pages first, then those of the others the person holds.
    sections = [(role, navigation.menu(current_user, role))
                for role in [active] + [r for r in held if r != active] if role]
    return render_template("me.html", sections=sections, roles=held, active=active,
                           form=EmptyForm())


@bp.route("/me/role/<role>", methods=["POST"])
@login_required
def switch_role(role):
    if role not in navigation.roles_of(current_user) or not EmptyForm().validate_on_submit():
        abort(400)
    browser_session[navigation.ROLE_KEY] = role
    return redirect(navigation.landing(current_user))


@bp.route("/me/large-text", methods=["POST"])
@login_required
def large_text():
    if not EmptyForm().validate_on_submit():
        abort(400)
    current_user.large_text = not current_user.large_text
    commit()
    return redirect("/me")
