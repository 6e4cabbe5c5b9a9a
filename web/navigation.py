"""Where each role goes: its landing page, its bottom tab bar (at most five entries, the last
one 我的) and the full list of pages on the 我的 page.

To add a page: append a ``Link`` to its role's list in ``MENU`` (the 我的 page shows it); to
put it in the tab bar too, name its endpoint in ``TABS`` (four at most, 我的 is added). A link
may carry ``show``: a test on the signed-in user, for pages only some of a role may use."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from flask import session, url_for
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext

# The roles in the order a person who holds several lands in: their work first.
ROLES = ("admin", "reviewer", "organiser", "merchant", "volunteer")
MAX_TABS = 5
ROLE_KEY = "role"

ROLE_NAMES = {
    "volunteer": _l("Volunteer"),
    "reviewer": _l("Reviewer"),
    "organiser": _l("Organiser"),
    "merchant": _l("Merchant"),
    "admin": _l("Administrator"),
    "auditor": _l("Auditor (read-only)"),
}
LANDING = {
    "volunteer": "pages.volunteers.wallet",
    "reviewer": "pages.reports.review",
    "organiser": "pages.activities.organise",
    "merchant": "pages.merchants.till",
    "admin": "pages.dashboard.index",
}


@dataclass(frozen=True)
class Link:
    endpoint: str
    label: object  # a lazy string
    test: str = ""
    show: Callable | None = None

    def text(self) -> str:
        return str(self.label)

    def url(self) -> str:
        return url_for(self.endpoint)


def _handles_reports(user) -> bool:
    from .pages.reports import handles_reports

    return handles_reports()


MENU: dict[str, list[Link]] = {
    "volunteer": [
        Link("pages.volunteers.wallet", lazy_pgettext("tab", "Points"), "nav-wallet"),
        Link("pages.activities.index", _l("Activities"), "nav-activities"),
        Link("pages.reports.new_report", lazy_pgettext("tab", "Report"), "nav-report"),
        Link("pages.merchants.offer_list", _l("Offers"), "nav-offers"),
        Link("pages.merchants.voucher_list", _l("My vouchers"), "nav-vouchers"),
        Link("pages.reports.mine", _l("My reports"), "nav-my-reports"),
        Link("pages.activities.wish_list", _l("Micro-wishes"), "nav-wishes"),
        Link("pages.activities.my_hours", _l("My hours"), "nav-hours"),
        Link("pages.activities.scan", _l("Scan to check in"), "nav-scan"),
        Link("pages.payments.causes", _l("Donate"), "nav-causes"),
        Link("pages.payments.my_donations", _l("My donations"), "nav-donations"),
        Link("pages.payments.cash_out_page", _l("Cash out"), "nav-cash-out"),
        Link("pages.payouts.mine", _l("My payouts"), "nav-payouts"),
        Link("pages.honours.mine", _l("My honours"), "nav-honours"),
        Link("pages.honours.leaderboard", _l("Leaderboards"), "nav-leaderboards"),
    ],
    "reviewer": [
        Link("pages.reports.review", _l("Review reports"), "nav-review"),
        Link("pages.reports.assessment_page", _l("Assessment"), "nav-assessment"),
        Link("pages.volunteers.admin", _l("Administration"), "nav-admin"),
        Link("pages.honours.leaderboard", _l("Leaderboards"), "nav-leaderboards"),
    ],
    "organiser": [
        Link("pages.activities.organise", _l("Organise"), "nav-organise"),
        Link("pages.activities.index", _l("Activities"), "nav-activities"),
        Link("pages.activities.wish_list", _l("Micro-wishes"), "nav-wishes"),
        Link("pages.reports.review", _l("Review reports"), "nav-review", _handles_reports),
        Link("pages.activities.new_activity", _l("New activity"), "nav-new-activity"),
        Link("pages.activities.new_wish", _l("New micro-wish"), "nav-new-wish"),
        Link("pages.activities.party_duty", _l("Party members' duty"), "nav-party-duty"),
        Link("pages.activities.team_list", _l("Teams"), "nav-teams"),
        Link("pages.payments.causes", _l("Causes"), "nav-causes"),
        Link("pages.honours.leaderboard", _l("Leaderboards"), "nav-leaderboards"),
    ],
    "merchant": [
        Link("pages.merchants.till", _l("Till"), "nav-till"),
        Link("pages.merchants.merchant_home", _l("My shop"), "nav-shop"),
        Link("pages.merchants.statement", _l("Statement"), "nav-statement"),
        Link("pages.merchant_team.account", _l("Months, settlements and till staff"),
             "nav-merchant-account"),
    ],
    "admin": [
        Link("pages.dashboard.index", _l("Dashboard"), "nav-dashboard"),
        Link("pages.volunteers.admin", _l("Administration"), "nav-admin"),
        Link("pages.reports.review", _l("Review reports"), "nav-review"),
        Link("pages.payments.cash_out_queue", _l("Cash-outs"), "nav-cash-outs"),
        Link("pages.payouts.index", _l("Payout runs"), "nav-payout-runs"),
        Link("pages.merchants.admin_merchants", _l("Merchants"), "nav-merchants"),
        Link("pages.volunteers.volunteer_list", _l("Volunteers"), "nav-volunteers"),
        Link("pages.organisation.area_list", _l("Areas"), "nav-areas"),
        Link("pages.organisation.department_list", _l("Departments"), "nav-departments"),
        Link("pages.organisation.people", _l("People and roles"), "nav-people"),
        Link("pages.organisation.imports", _l("Imports"), "nav-imports"),
        Link("pages.organisation.audit_log", _l("Audit log"), "nav-audit"),
        Link("pages.reports.assessment_page", _l("Assessment"), "nav-assessment"),
        Link("pages.reports.manage_categories", _l("Report categories"), "nav-categories"),
        Link("pages.reports.courtyards", _l("Courtyards"), "nav-courtyards"),
        Link("pages.activities.organise", _l("Organise"), "nav-organise"),
        Link("pages.payments.causes", _l("Causes"), "nav-causes"),
        Link("pages.honours.index", _l("Year-end honours"), "nav-year-end"),
        Link("pages.honours.leaderboard", _l("Leaderboards"), "nav-leaderboards"),
    ],
}
# The first entries of the bottom tab bar for each role; 我的 is always the last.
TABS = {
    "volunteer": ("pages.volunteers.wallet", "pages.activities.index",
                  "pages.reports.new_report", "pages.merchants.offer_list"),
    "reviewer": ("pages.reports.review", "pages.reports.assessment_page",
                 "pages.volunteers.admin"),
    "organiser": ("pages.activities.organise", "pages.activities.index",
                  "pages.activities.wish_list"),
    "merchant": ("pages.merchants.till", "pages.merchants.merchant_home"),
    "admin": ("pages.dashboard.index", "pages.volunteers.admin", "pages.reports.review",
              "pages.payments.cash_out_queue"),
}
ME = Link("pages.me.index", lazy_pgettext("tab", "Me"), "nav-me")


def roles_of(user) -> list[str]:
    held = set(user.roles)
    return [role for role in ROLES if role in held]


def active_role(user) -> str | None:
    """The role whose pages the person is using: the one they switched to, else their first."""
    held = roles_of(user)
    chosen = session.get(ROLE_KEY)
    if chosen in held:
        return chosen
    return held[0] if held else None


def landing(user) -> str:
    role = active_role(user)
    return url_for(LANDING[role]) if role else url_for("pages.me.index")


def menu(user, role: str) -> list[Link]:
    return [link for link in MENU.get(role, []) if link.show is None or link.show(user)]


def tabs(user) -> list[Link]:
    role = active_role(user)
    if role is None:
        return [ME]
    reachable = {link.endpoint: link for link in menu(user, role)}
    chosen = [reachable[endpoint] for endpoint in TABS.get(role, ()) if endpoint in reachable]
    return chosen[:MAX_TABS - 1] + [ME]


def register(app) -> None:
    app.jinja_env.globals.update(nav_tabs=tabs, nav_active_role=active_role,
                                 nav_roles=roles_of, role_names=ROLE_NAMES)
