"""Pages for donations (转赠) to causes, cash-out of points (丰行侠), the administrators'
cash-out queue and causes, and funding a programme by card through Stripe Checkout."""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext
from flask_login import current_user, login_required
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

import ledger
from merchants import offers as offer_service
from payments import cash_out, donations, funding
from payments.models import CAUSE_KINDS
from payouts import deliveries
from volunteers import access, programmes, users
from volunteers.errors import DomainError, Invalid
from volunteers.statements import wallet_summary

from ..extensions import db
from ..messages import message_for
from ..transactions import commit
from .activities import photo_file, uploaded_photos
from .forms import EmptyForm, OnceForm

bp = Blueprint("payments", __name__)

DELIVERY_NAMES = {
    "points": _l("Points into the beneficiary's wallet"),
    "voucher": _l("Merchant vouchers for the goods needed"),
}
CAUSE_KIND_NAMES = {
    "family_in_need": _l("Family in need"),
    "student_aid": _l("Student aid"),
    "micro_wish": _l("Micro-wish"),
}
CASH_OUT_STATUS_NAMES = {"pending": _l("Waiting for payment"), "paid": _l("Paid")}
RECENT_DONATIONS_SHOWN = 10


# --- forms ----------------------------------------------------------------------------------


class DonationForm(OnceForm):
    amount_points = IntegerField(_l("Points to donate"), validators=[
        DataRequired(), NumberRange(min=1, max=donations.MAX_DONATION_POINTS)])
    message = StringField(_l("A word of encouragement (optional)"),
                          validators=[Optional(), Length(max=donations.MAX_MESSAGE_LENGTH)])


class PoolDonationForm(DonationForm):
    programme = SelectField(_l("Programme"), validators=[DataRequired()])


class CashOutForm(OnceForm):
    programme = SelectField(_l("Programme"), validators=[DataRequired()])
    amount_points = IntegerField(_l("Points to exchange"), validators=[
        DataRequired(), NumberRange(min=1, max=cash_out.MAX_CASH_OUT_POINTS)])


class PaidForm(EmptyForm):
    payout_reference = StringField(_l("Transfer reference"), validators=[
        DataRequired(), Length(max=cash_out.MAX_REFERENCE_LENGTH)])


class PolicyForm(EmptyForm):
    programme = SelectField(_l("Programme"), validators=[DataRequired()])
    enabled = BooleanField(_l("Cash-out is open"))
    minimum_points = IntegerField(_l("Minimum points per request"), validators=[
        DataRequired(), NumberRange(min=1, max=cash_out.MAX_CASH_OUT_POINTS)])
    monthly_maximum_points = IntegerField(_l("Maximum points per volunteer per month"),
                                          validators=[DataRequired(), NumberRange(
                                              min=1, max=cash_out.MAX_CASH_OUT_POINTS)])


class CauseForm(EmptyForm):
    programme = SelectField(_l("Programme"), validators=[DataRequired()])
    area = SelectField(_l("Area"), validators=[DataRequired()])
    kind = SelectField(_l("Kind of cause"), validators=[DataRequired()])
    title = StringField(lazy_pgettext("cause", "Title"), validators=[
        DataRequired(), Length(max=donations.MAX_TITLE_LENGTH)])
    story = TextAreaField(_l("Story"), validators=[
        DataRequired(), Length(max=donations.MAX_STORY_LENGTH)])
    target_points = IntegerField(_l("Target (points)"), validators=[
        DataRequired(), NumberRange(min=1, max=donations.MAX_TARGET_POINTS)])
    wish_reference = StringField(_l("Micro-wish reference (optional)"),
                                 validators=[Optional(), Length(max=60)])
    beneficiary_username = StringField(_l("Beneficiary's account (user name, if they have one)"),
                                       validators=[Optional(), Length(max=64)])
    beneficiary_name = StringField(_l("Beneficiary's name (a person or organisation)"),
                                   validators=[Optional(), Length(max=donations.MAX_TITLE_LENGTH)])
    delivery = SelectField(_l("How help is delivered"), default="points",
                           validators=[DataRequired()])
    offer = SelectField(_l("Merchant offer for the goods (voucher delivery)"),
                        validators=[Optional()])


class DeliveryForm(EmptyForm):
    photo = FileField(_l("Photo of the delivery"), validators=[FileRequired()])
    note = StringField(_l("Note (optional)"), validators=[
        Optional(), Length(max=donations.MAX_DELIVERY_NOTE_LENGTH)])


class CardFundingForm(OnceForm):
    amount_yuan = IntegerField(_l("Amount (yuan)"), validators=[
        DataRequired(), NumberRange(min=funding.MIN_CARD_FEN // 100,
                                    max=funding.MAX_CARD_FEN // 100)])
    sponsor_name = StringField(_l("Sponsor's name"), validators=[
        Optional(), Length(max=funding.MAX_SPONSOR_LENGTH)])


# --- helpers shared with the API ------------------------------------------------------------


def stripe_settings() -> funding.StripeSettings:
    config = current_app.config
    return funding.StripeSettings(config.get("STRIPE_SECRET_KEY"),
                                  config.get("STRIPE_WEBHOOK_SECRET"),
                                  config.get("STRIPE_API_BASE"))


def card_urls(programme_code: str) -> tuple[str, str]:
    """Where Stripe sends the payer back; Stripe fills in {CHECKOUT_SESSION_ID}."""
    done = url_for("pages.payments.card_funding_done", _external=True)
    cancel = url_for("pages.payments.fund_by_card", code=programme_code, _external=True)
    return done + "?session_id={CHECKOUT_SESSION_ID}", cancel + "?cancelled=1"


def refusal(error: Exception) -> str:
    """The sentence a person reads for a refused form (web/messages.py)."""
    return message_for(error)


def _member_programmes():
    return [p for p in programmes.visible_programmes(db.session, current_user)
            if p.area.contains(current_user.area)]


# --- causes and donations -------------------------------------------------------------------


@bp.route("/causes")
@login_required
def causes():
    found = donations.visible_causes(db.session, current_user, include_finished=True)
    pool_form = PoolDonationForm(prefix="pool")
    pool_form.programme.choices = [(p.code, p.name) for p in _member_programmes()]
    can_publish = access.holds(current_user, donations.PUBLISHER_ROLES)
    return render_template("payments/causes.html", causes=found, pool_form=pool_form,
                           kinds=CAUSE_KIND_NAMES, can_publish=can_publish,
                           wallet=wallet_summary(db.session, current_user))


@bp.route("/causes/<int:cause_id>")
@login_required
def cause(cause_id):
    found = donations.get_cause(db.session, current_user, cause_id)
    return render_template(
        "payments/cause.html", cause=found, form=DonationForm(), kinds=CAUSE_KIND_NAMES,
        recent=donations.donations_to(db.session, found, RECENT_DONATIONS_SHOWN),
        wallet=wallet_summary(db.session, current_user), close_form=EmptyForm(),
        can_close=access.holds(current_user, donations.PUBLISHER_ROLES, found.area),
        pending_release=donations.pending_release(db.session, found),
        delivery_form=DeliveryForm(), deliveries=DELIVERY_NAMES,
        offer=offer_service.get_offer(db.session, found.offer_id) if found.offer_id else None,
    )


@bp.route("/causes/<int:cause_id>/donate", methods=["POST"])
@login_required
def donate_to_cause(cause_id):
    form = DonationForm()
    if not form.validate_on_submit():
        flash(_("Please enter the points to donate."), "error")
        return redirect(url_for("pages.payments.cause", cause_id=cause_id))
    try:
        donation = donations.donate(
            db.session, current_user, form.amount_points.data,
            f"page:{current_user.id}:donation:{form.request_key.data}", cause_id=cause_id,
            message=form.message.data)
        commit()
    except (DomainError, ledger.LedgerError) as error:
        db.session.rollback()
        flash(refusal(error), "error")
    else:
        flash(_("Thank you! You donated %(points)s points.", points=donation.amount_points),
              "success")
    return redirect(url_for("pages.payments.cause", cause_id=cause_id))


@bp.route("/donations", methods=["GET", "POST"])
@login_required
def my_donations():
    form = PoolDonationForm(prefix="pool")
    form.programme.choices = [(p.code, p.name) for p in _member_programmes()]
    if request.method == "POST":
        if not form.validate_on_submit():
            flash(_("Please enter the points to donate."), "error")
            return redirect(url_for("pages.payments.causes"))
        try:
            donation = donations.donate(
                db.session, current_user, form.amount_points.data,
                f"page:{current_user.id}:donation:{form.request_key.data}",
                programme_code=form.programme.data, message=form.message.data)
            commit()
        except (DomainError, ledger.LedgerError) as error:
            db.session.rollback()
            flash(refusal(error), "error")
            return redirect(url_for("pages.payments.causes"))
        flash(_("Thank you! You donated %(points)s points.", points=donation.amount_points),
              "success")
        return redirect(url_for("pages.payments.my_donations"))
    return render_template("payments/donations.html",
                           donations=donations.donations_of(db.session, current_user),
                           wallet=wallet_summary(db.session, current_user))


@bp.route("/causes/new", methods=["GET", "POST"])
@login_required
def new_cause():
    access.require(current_user, donations.PUBLISHER_ROLES)
    form = CauseForm()
    form.programme.choices = [(p.code, p.name) for p in
                              programmes.visible_programmes(db.session, current_user)]
    form.area.choices = _publishing_areas()
    form.kind.choices = [(kind, str(CAUSE_KIND_NAMES[kind])) for kind in CAUSE_KINDS]
    form.delivery.choices = [(code, str(name)) for code, name in DELIVERY_NAMES.items()]
    form.offer.choices = [("", "—")] + [
        (str(o.id), f"{o.merchant.name} · {o.title} · {o.price_points}")
        for o in offer_service.open_offers(db.session, current_user)]
    if form.validate_on_submit():
        try:
            beneficiary = None
            if form.beneficiary_username.data:
                beneficiary = users.find_user(db.session, form.beneficiary_username.data.strip())
                if beneficiary is None:
                    raise Invalid("no such account", errors={
                        "beneficiary_username": ["no such account"]})
            published = deliveries.publish_cause(
                db.session, current_user, form.programme.data, form.area.data, form.kind.data,
                form.title.data, form.story.data, form.target_points.data,
                form.wish_reference.data or None,
                beneficiary_id=beneficiary.id if beneficiary else None,
                beneficiary_name=form.beneficiary_name.data or None,
                delivery=form.delivery.data,
                offer_id=int(form.offer.data) if form.offer.data else None)
            commit()
        except DomainError as error:
            db.session.rollback()
            flash(refusal(error), "error")
        else:
            flash(_("The cause is published."), "success")
            return redirect(url_for("pages.payments.cause", cause_id=published.id))
    return render_template("payments/new_cause.html", form=form)


@bp.route("/causes/<int:cause_id>/close", methods=["POST"])
@login_required
def close_cause(cause_id):
    if not EmptyForm().validate_on_submit():
        abort(400)
    donations.close_cause(db.session, current_user, cause_id)
    commit()
    flash(_("The cause no longer takes donations."), "info")
    return redirect(url_for("pages.payments.cause", cause_id=cause_id))


@bp.route("/causes/<int:cause_id>/release", methods=["POST"])
@login_required
def release_cause(cause_id):
    """Ask to release the whole pool to the beneficiary (a second person confirms)."""
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        found = deliveries.release(db.session, current_user, cause_id)
        commit()
    except DomainError as error:
        db.session.rollback()
        flash(refusal(error), "error")
    else:
        flash(_("Release of %(points)s points requested; another organiser or an "
                "administrator confirms it.", points=found.amount_points), "success")
    return redirect(url_for("pages.payments.cause", cause_id=cause_id))


@bp.route("/causes/<int:cause_id>/release/confirm", methods=["POST"])
@login_required
def confirm_release(cause_id):
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        found = deliveries.confirm_release(db.session, current_user, cause_id)
        commit()
    except (DomainError, ledger.LedgerError) as error:
        db.session.rollback()
        flash(refusal(error), "error")
    else:
        flash(_("%(points)s points reached the beneficiary.", points=found.amount_points),
              "success")
    return redirect(url_for("pages.payments.cause", cause_id=cause_id))


@bp.route("/causes/<int:cause_id>/delivery", methods=["POST"])
@login_required
def confirm_delivery(cause_id):
    """The organiser's photo confirming the goods reached the beneficiary."""
    form = DeliveryForm()
    if not form.validate_on_submit():
        flash(_("Please choose a photo of the delivery."), "error")
        return redirect(url_for("pages.payments.cause", cause_id=cause_id))
    try:
        photos = uploaded_photos([form.photo.data])
        deliveries.confirm_delivery(db.session, current_user, cause_id,
                                    photos[0] if photos else b"", form.note.data)
        commit()
    except DomainError as error:
        db.session.rollback()
        flash(refusal(error), "error")
    else:
        flash(_("The delivery is confirmed with your photo."), "success")
    return redirect(url_for("pages.payments.cause", cause_id=cause_id))


@bp.route("/causes/<int:cause_id>/delivery-photos/<int:photo_id>")
@login_required
def delivery_photo(cause_id, photo_id):
    found = donations.delivery_photo(db.session, current_user, cause_id, photo_id)
    return send_file(photo_file(found), mimetype=found.content_type, max_age=3600)


def _publishing_areas():
    from volunteers.models import Area

    scopes = access.staff_areas(current_user, donations.PUBLISHER_ROLES)
    rows = db.session.scalars(db.select(Area).order_by(Area.path).limit(500)).all()
    return [(a.code, a.name) for a in rows if any(s.contains(a) for s in scopes)]


# --- cash-out -------------------------------------------------------------------------------


@bp.route("/cash-out", methods=["GET", "POST"])
@login_required
def cash_out_page():
    access.require(current_user, ("volunteer",))
    member = _member_programmes()
    form = CashOutForm()
    # Only programmes that offer cash-out are offered: the form is hidden when none does.
    form.programme.choices = [(p.code, p.name) for p in member
                              if getattr(cash_out.policy_of(db.session, p), "enabled", False)]
    if form.validate_on_submit():
        try:
            made = cash_out.request_cash_out(
                db.session, current_user, form.programme.data, form.amount_points.data,
                f"page:{current_user.id}:cash_out:{form.request_key.data}")
            commit()
        except (DomainError, ledger.LedgerError) as error:
            db.session.rollback()
            flash(refusal(error), "error")
        else:
            flash(_("Requested: %(points)s points for %(money)s. An administrator will pay "
                    "you.", points=made.amount_points, money=_yuan(made.amount_fen)), "success")
        return redirect(url_for("pages.payments.cash_out_page"))
    offers = [(p, cash_out.policy_of(db.session, p),
               cash_out.cashed_out_this_month(db.session, p, current_user)) for p in member]
    return render_template("payments/cash_out.html", form=form, offers=offers,
                           requests=cash_out.requests_of(db.session, current_user),
                           statuses=CASH_OUT_STATUS_NAMES,
                           wallet=wallet_summary(db.session, current_user))


@bp.route("/admin/cash-outs")
@login_required
def cash_out_queue():
    access.require(current_user, ("admin",))
    visible = programmes.visible_programmes(db.session, current_user)
    policy_form = PolicyForm()
    policy_form.programme.choices = [(p.code, p.name) for p in visible]
    policies = {p.code: cash_out.policy_of(db.session, p) for p in visible}
    shown = policies.get(visible[0].code) if visible else None
    if shown is not None:
        policy_form.enabled.data = shown.enabled
        policy_form.minimum_points.data = shown.minimum_points
        policy_form.monthly_maximum_points.data = shown.monthly_maximum_points
    return render_template(
        "payments/queue.html", pending=cash_out.queue(db.session, current_user, "pending"),
        paid=cash_out.queue(db.session, current_user, "paid"), paid_form=PaidForm(),
        policy_form=policy_form, programmes=visible, policies=policies,
        statuses=CASH_OUT_STATUS_NAMES,
    )


@bp.route("/admin/cash-outs/<int:request_id>/paid", methods=["POST"])
@login_required
def mark_paid(request_id):
    form = PaidForm()
    if not form.validate_on_submit():
        flash(_("Enter the transfer's reference."), "error")
        return redirect(url_for("pages.payments.cash_out_queue"))
    try:
        paid = cash_out.mark_paid(db.session, current_user, request_id,
                                  form.payout_reference.data)
        commit()
    except DomainError as error:
        db.session.rollback()
        flash(refusal(error), "error")
    else:
        flash(_("Marked paid: %(money)s to %(name)s.", money=_yuan(paid.amount_fen),
                name=paid.volunteer.display_name), "success")
    return redirect(url_for("pages.payments.cash_out_queue"))


@bp.route("/admin/cash-out-policy", methods=["POST"])
@login_required
def set_policy():
    form = PolicyForm()
    form.programme.choices = [(p.code, p.name) for p in
                              programmes.visible_programmes(db.session, current_user)]
    if not form.validate_on_submit():
        flash(_("Please check the cash-out limits."), "error")
        return redirect(url_for("pages.payments.cash_out_queue"))
    try:
        cash_out.set_policy(db.session, current_user, form.programme.data,
                            enabled=form.enabled.data, minimum_points=form.minimum_points.data,
                            monthly_maximum_points=form.monthly_maximum_points.data)
        commit()
    except DomainError as error:
        db.session.rollback()
        flash(refusal(error), "error")
    else:
        flash(_("Cash-out limits saved."), "success")
    return redirect(url_for("pages.payments.cash_out_queue"))


def _yuan(amount_fen: int) -> str:
    from ..formatting import yuan

    return yuan(amount_fen)


# --- funding by card ------------------------------------------------------------------------


@bp.route("/programmes/<code>/fund-by-card", methods=["GET", "POST"])
@login_required
def fund_by_card(code):
    programme = programmes.get_programme(db.session, code)
    settings = stripe_settings()
    form = CardFundingForm()
    if settings.configured and form.validate_on_submit():
        success_url, cancel_url = card_urls(code)
        try:
            started = funding.start_card_funding(
                db.session, current_user, settings, code, form.amount_yuan.data * 100,
                form.sponsor_name.data or "", success_url=success_url, cancel_url=cancel_url,
                request_key=f"page:{current_user.id}:card:{form.request_key.data}")
            commit()
        except DomainError as error:
            db.session.rollback()
            flash(refusal(error), "error")
        else:
            return redirect(started.checkout_url, code=303)
    if request.args.get("cancelled"):
        flash(_("The card payment was cancelled; nothing was charged."), "info")
    recent = []
    if access.holds(current_user, ("admin",), programme.area):
        recent = funding.recent_card_fundings(db.session, [programme.id])
    return render_template("payments/fund_by_card.html", programme=programme, form=form,
                           configured=settings.configured, recent=recent)


@bp.route("/card-funding/done")
@login_required
def card_funding_done():
    stripe_session_id = request.args.get("session_id", "")[:255]
    found = funding.get_funding_session(db.session, current_user, stripe_session_id)
    return render_template("payments/card_done.html", funding=found)
