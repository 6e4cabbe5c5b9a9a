"""The pages people use: sign-in, registration, the volunteer's wallet, the administrators'
desk and any account's statement."""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask import session as browser_session
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required, logout_user

import ledger
from volunteers import access, areas, programmes, sessions, users
from volunteers.errors import DomainError, Unauthorized
from volunteers.models import Area, Programme, User
from volunteers.statements import readable_account, wallet_summary

from .. import navigation, signin, trust
from ..api.schemas.ledger import StatementSchema
from ..auth import begin_session
from ..extensions import db, limiter
from ..messages import message_for
from ..redirects import next_target
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
    # Each role lands where its work is (web/navigation.py).
    return redirect(navigation.landing(current_user))


@bp.route("/login", methods=["GET", "POST"])
@signin.shared_sign_in_limit
def login():
    form = LoginForm()
    if form.validate_on_submit():
        try:
            user = signin.authenticate(form.username.data, form.password.data)
        except Unauthorized:
            flash(_("Wrong user name or password."), "error")
        else:
            begin_session(user)
            return redirect(next_target() or url_for("pages.volunteers.index"))
    return render_template("login.html", form=form)


@bp.route("/logout", methods=["POST"])
def logout():
    if EmptyForm().validate_on_submit():
        if current_user.is_authenticated:
            # Every session of this user ends, so a copy of this cookie opens nothing.
            sessions.end_browser_sessions(db.session, current_user)
            commit()
        logout_user()
        browser_session.clear()
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
            flash(message_for(error), "error")
        else:
            begin_session(user)
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
    return redirect(next_target() or url_for("pages.volunteers.index"))


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
                           notes=hold_notes(lines), payouts=payouts,
                           payout_names=payout_names() if payouts else None)


@bp.route("/wallet/proof")
@bp.route("/wallet/proof.<any(json):extension>")
@login_required
def wallet_proof(extension=None):
    """The newest page of my statement with its proofs, printable; ``.json`` is the file to
    keep and check offline with ``scripts/verify-statement`` (the same as the API's
    ``/accounts/{code}/statement?proof=true``)."""
    summary = wallet_summary(db.session, current_user)
    if summary is None:
        return redirect(url_for("pages.volunteers.wallet"))
    account = ledger.get_account(db.session, current_user.wallet_code)
    lines = ledger.statement(db.session, account.code, page_size=STATEMENT_PAGE_SIZE)
    next_before = lines[-1].posting_id if len(lines) == STATEMENT_PAGE_SIZE else None
    proven = trust.proven_statement(
        StatementSchema().dump({"account": account, "items": lines, "next_before": next_before}),
        [line.entry_id for line in lines])
    if extension == "json":
        response = jsonify(proven)
        response.headers["Content-Disposition"] = (
            f"attachment; filename=statement-{account.code.replace(':', '-')}.json")
        return response
    proofs = {entry["entry_id"]: entry for entry in proven["proof"]["entries"]}
    return render_template("wallet_proof.html", lines=lines, proofs=proofs,
                           head=proven["proof"]["head"], account=account)


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
    return render_template("account.html", account=found, lines=lines, next_before=next_before,
                           notes=hold_notes(lines), title=account_title(found.code))


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


ACCOUNT_PARTS = {"fund": _l("fund"), "budget": _l("points budget"), "wallet": _l("points wallet")}


def account_title(code: str) -> str:
    """An account as a person names it (丰行侠·新都大丰 · 资金池), not its ledger code."""
    parts = code.split(":")
    if len(parts) == 3 and parts[2] in ACCOUNT_PARTS:
        owner = None
        if parts[0] == "programme":
            owner = db.session.scalar(db.select(Programme.name).where(Programme.code == parts[1]))
        elif parts[0] == "volunteer" and parts[1].isdigit():
            owner = db.session.scalar(db.select(User.display_name).where(User.id == int(parts[1])))
        if owner:
            return f"{owner} · {ACCOUNT_PARTS[parts[2]]}"
    return code


def hold_notes(lines) -> dict[int, tuple[str, str | None]]:
    """For a statement page, by entry id: what became of each hold (``posted``, ``voided``,
    ``expired`` or still ``pending``: a hold's own entry stays pending forever, history is never
    updated) and, for a settlement, the hold's memo (which shop, which voucher). Two queries."""
    from sqlalchemy.orm import aliased

    from ledger.models import Entry

    holds = [line.entry_id for line in lines if line.status == "pending"]
    notes: dict[int, tuple[str, str | None]] = {entry_id: ("pending", None) for entry_id in holds}
    if holds:
        for pending_id, kind, status in db.session.execute(
                db.select(Entry.pending_id, Entry.kind, Entry.status)
                .where(Entry.pending_id.in_(holds))):
            state = "posted" if status == "posted" else (
                "expired" if kind == "hold_expire" else "voided")
            notes[pending_id] = (state, None)
    settled = [line.entry_id for line in lines if line.status != "pending" and not line.memo]
    if settled:
        hold = aliased(Entry)
        for entry_id, memo in db.session.execute(
                db.select(Entry.id, hold.memo).join(hold, hold.id == Entry.pending_id)
                .where(Entry.id.in_(settled))):
            notes[entry_id] = ("settlement", memo)
    return notes


def _programme_choices() -> list[tuple[str, str]]:
    return [(p.code, p.name) for p in programmes.visible_programmes(db.session, current_user)]


def _registration_areas():
    rows = db.session.scalars(
        db.select(Area).where(Area.level.in_(users.REGISTRATION_LEVELS))
        .order_by(Area.path)
    ).all()
    if not rows:
        rows = [areas.ensure_root(db.session)]
    return [(area.code, area.name) for area in rows]


