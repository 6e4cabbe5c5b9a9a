"""The notification centre page: what the services told this person, newest first."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, url_for
from flask_babel import gettext
from flask_login import current_user, login_required

from volunteers import notifications

from ..extensions import db
from ..transactions import commit
from .forms import EmptyForm

bp = Blueprint("notifications", __name__)
PAGE_LENGTH = 100


def text(notification) -> str:
    """The notification in the reader's language, its parameters filled in."""
    return gettext(notification.message, **(notification.params or {}))


@bp.route("/notifications")
@login_required
def centre():
    items = notifications.latest(db.session, current_user.id, PAGE_LENGTH)
    return render_template("notifications.html", items=items, form=EmptyForm())


@bp.route("/notifications/read", methods=["POST"])
@login_required
def mark_read():
    if EmptyForm().validate_on_submit():
        notifications.mark_read(db.session, current_user.id)
        commit()
    return redirect(url_for("pages.notifications.centre"))


def unread_count() -> int:
    if not current_user.is_authenticated:
        return 0
    return notifications.unread_count(db.session, current_user.id)


def register(app) -> None:
    """The template helpers; the blueprint is registered with the other pages."""
    app.jinja_env.filters["notification_text"] = text
    app.jinja_env.globals["unread_notifications"] = unread_count
