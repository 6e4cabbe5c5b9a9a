"""The pages people use: sign-in, registration, the volunteer's wallet, the administrators'
desk and any account's statement."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask import session as browser_session
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

import ledger
from volunteers import access, areas, programmes, users
from volunteers.errors import DomainError, Unauthorized
from volunteers.models import Area, User
from volunteers.statements import readable_account, wallet_summary

from ..extensions import db, limiter
from ..transactions import commit
from .forms import AwardForm, DecisionForm, EmptyForm, FundingForm, LoginForm, RegisterForm

bp = Blueprint("volunteers", __name__)
STATEMENT_PAGE_SIZE = 30


def login_limit():
    return current_app.config["LOGIN_RATE_LIMIT"]


@bp.route("/")
def index():
    if not current_user.is_authenticated:
        return redirect(url_for("pages.volunteers.login"))
    if access.holds(current_user, ("admin",)) and not access.holds(current_user, ("volunteer",)):
        return redirect(url_for("pages.volunteers.admin"))
    return redirect(url_for("pages.volunteers.wallet"))


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(login_limit, methods=["POST"])
def login():
    form = LoginForm()
    if form.validate_on_submit():
        try:
            user = users.authenticate(db.session, form.username.data, form.password.data)
        except Unauthorized:
            flash(_("Wrong user name or password."), "error")
        else:
            login_user(user)
            browser_session.permanent = True
            return redirect(_safe_next() or url_for("pages.volunteers.index"))
    return render_template("login.html", form=form)


@bp.route("/logout", methods=["POST"])
def logout():
    if EmptyForm().validate_on_submit():
        logout_user()
    return redirect(url_for("pages.volunteers.login"))


@bp.route("/register", methods=["GET", "POST"])
@limiter.limit(login_limit, methods=["POST"])
def register():
    form = RegisterForm()
    form.area.choices = _registration_areas()
    if form.validate_on_submit():
        try:
            user = users.register_volunteer(db.session, form.username.data, form.password.data,
                                            form.display_name.data, form.area.data)
            commit()
        except DomainError as error:
            db.session.rollback()
            flash(error.message, "error")
        else:
            login_user(user)
            flash(_("Welcome! Your account is ready."), "success")
            return redirect(url_for("pages.volunteers.wallet"))
    return render_template("register.html", form=form)


@bp.route("/language/<code>", methods=["POST"])
def language(code):
    if code not in current_app.config["LANGUAGES"] or not EmptyForm().validate_on_submit():
        abort(400)
    browser_session["locale"] = code
    if current_user.is_authenticated:
        current_user.locale = code
        commit()
    return redirect(_safe_next() or url_for("pages.volunteers.index"))


@bp.route("/wallet")
@login_required
def wallet():
    summary = wallet_summary(db.session, current_user)
    lines = []
    if summary is not None:
        lines = ledger.statement(db.session, current_user.wallet_code,
                                 before_posting_id=request.args.get("before", type=int),
                                 page_size=STATEMENT_PAGE_SIZE)
    next_before = lines[-1].posting_id if len(lines) == STATEMENT_PAGE_SIZE else None
    payouts = None
    if summary is not None:
        from payouts import runs as payout_runs

        from .payouts import _names as payout_names

        payouts = payout_runs.my_payouts_document(db.session, current_user)
        db.session.rollback()  # what it gathered is gathered again by the next run
    return render_template("wallet.html", wallet=summary, lines=lines, next_before=next_before,
                           payouts=payouts, payout_names=payout_names() if payouts else None)


@bp.route("/admin", methods=["GET"])
@login_required
def admin():
    access.require(current_user, ("admin", "reviewer"))
    visible = programmes.visible_programmes(db.session, current_user)
    award_form, funding_form = AwardForm(prefix="award"), FundingForm(prefix="funding")
    award_form.programme.choices = funding_form.programme.choices = [
        (p.code, p.name) for p in visible]
    balances = ledger.balances(db.session, [p.account(name) for p in visible
                                            for name in ("fund", "budget")])
    return render_template(
        "admin/index.html", programmes=visible, balances=balances, award_form=award_form,
        funding_form=funding_form, pending=programmes.pending_awards(db.session, current_user),
        decision_form=DecisionForm(),
    )


@bp.route("/admin/awards", methods=["POST"])
@login_required
def create_award():
    form = AwardForm(prefix="award")
    form.programme.choices = _programme_choices()
    if not form.validate_on_submit():
        flash(_("Please check the award form."), "error")
        return redirect(url_for("pages.volunteers.admin"))
    volunteer = users.find_user(db.session, form.volunteer.data.strip())
    if volunteer is None:
        flash(_("No volunteer has that user name."), "error")
        return redirect(url_for("pages.volunteers.admin"))
    award = programmes.request_award(
        db.session, current_user, form.programme.data, volunteer.id, form.amount_points.data,
        form.reason.data, f"page:{current_user.id}:award:{form.request_key.data}",
    )
    commit()
    if award.status == "posted":
        flash(_("%(points)s points awarded to %(name)s.", points=award.amount_points,
                name=volunteer.display_name), "success")
    else:
        flash(_("The award waits for a second administrator's approval."), "info")
    return redirect(url_for("pages.volunteers.admin"))


@bp.route("/admin/funding", methods=["POST"])
@login_required
def record_funding():
    form = FundingForm(prefix="funding")
    form.programme.choices = _programme_choices()
    if not form.validate_on_submit():
        flash(_("Please check the funding form."), "error")
        return redirect(url_for("pages.volunteers.admin"))
    funding = programmes.fund_programme(
        db.session, current_user, form.programme.data, form.amount_yuan.data * 100,
        form.source.data, f"page:{current_user.id}:funding:{form.request_key.data}",
    )
    commit()
    flash(_("Funding recorded: the budget grew by %(points)s points.",
            points=funding.amount_points), "success")
    return redirect(url_for("pages.volunteers.admin"))


@bp.route("/admin/awards/<int:award_id>/<decision>", methods=["POST"])
@login_required
def decide_award(award_id, decision):
    form = DecisionForm()
    if decision not in ("approve", "reject") or not form.validate_on_submit():
        abort(400)
    if decision == "approve":
        programmes.approve_award(db.session, current_user, award_id, form.note.data)
        flash(_("Award approved and posted."), "success")
    else:
        programmes.reject_award(db.session, current_user, award_id, form.note.data or "")
        flash(_("Award rejected."), "info")
    commit()
    return redirect(url_for("pages.volunteers.admin"))


@bp.route("/accounts/<path:code>")
@login_required
def account(code):
    found = readable_account(db.session, current_user, code)
    lines = ledger.statement(db.session, found.code,
                             before_posting_id=request.args.get("before", type=int),
                             page_size=STATEMENT_PAGE_SIZE)
    next_before = lines[-1].posting_id if len(lines) == STATEMENT_PAGE_SIZE else None
    return render_template("account.html", account=found, lines=lines, next_before=next_before)


@bp.route("/admin/volunteers")
@login_required
def volunteer_list():
    access.require(current_user, ("admin",))
    scope = [grant.area.path for grant in current_user.grants if grant.role == "admin"]
    people = db.session.scalars(
        db.select(User).join(Area, Area.id == User.area_id).order_by(User.id).limit(500)
    ).all()
    people = [u for u in people if any(u.area.path.startswith(path) for path in scope)
              and access.holds(u, ("volunteer",))]
    wallets = ledger.balances(db.session, [u.wallet_code for u in people])
    return render_template("admin/volunteers.html", people=people, wallets=wallets)


def _programme_choices() -> list[tuple[str, str]]:
    return [(p.code, p.name) for p in programmes.visible_programmes(db.session, current_user)]


def _registration_areas():
    rows = db.session.scalars(
        db.select(Area).where(Area.level.in_(("community", "grid", "courtyard")))
        .order_by(Area.path)
    ).all()
    if not rows:
        rows = [areas.ensure_root(db.session)]
    return [(area.code, area.name) for area in rows]


def _safe_next() -> str | None:
    target = request.args.get("next") or request.form.get("next")
    if target and target.startswith("/") and not target.startswith("//"):
        return target
    return None
