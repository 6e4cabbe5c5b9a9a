"""The HTML pages, one module per area with its forms and messages: ``volunteers`` (sign-in,
wallet, administration of programmes and awards), ``reports``, ``activities``, ``merchants``,
``payments``, ``honours``, ``dashboard``,
``notifications`` and ``me`` (我的: every page a role reaches). Each module's blueprint bears
the module's name and is nested in ``pages``, so an endpoint reads ``pages.<module>.<view>``
(``url_for("pages.reports.show", ...)``). The JSON API beside it is ``web/api/``."""

from flask import Blueprint

bp = Blueprint("pages", __name__)


def register(app) -> None:
    """Registers every page blueprint, nested in ``pages``, on ``app`` (the blueprints are
    module-level objects, shared by every app built in this process)."""
    from . import (
        activities,
        counter,
        dashboard,
        funds,
        honours,
        me,
        merchant_team,
        merchants,
        notifications,
        organisation,
        payments,
        payouts,
        reports,
        volunteers,
    )

    if not bp._blueprints:
        for module in (volunteers, reports, activities, merchants, counter, payments, payouts,
                       funds, honours, dashboard, notifications, organisation, merchant_team, me):
            bp.register_blueprint(module.bp)
    app.register_blueprint(bp)
