"""Pages of activities, service hours, micro-wishes and the daily check-in, for volunteers
(browse, sign up, scan, my hours, certificate, wishes, 每日一豆) and organisers (create,
rotating QR, attendance and approval, wishes, party duty)."""

from __future__ import annotations

import csv
import io
import os
from datetime import datetime

import qrcode
from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import format_date
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from activities import (
    catalogue,
    checkin,
    daily,
    duty,
    hours,
    planning,
    signups,
    teamwork,
    wishes,
)
from activities.common import ORGANISER_ROLES, china_day
from activities.errors import DomainError
from activities.photos import MAX_PHOTOS, MAX_UPLOAD_BYTES
from activities.planning import ActivityDraft
from activities.wishes import WishDraft
from ledger.clock import CHINA, now
from ledger.spreadsheet import safe_row
from volunteers import access, teams, users
from volunteers.errors import Invalid
from volunteers.models import Area, Programme

from ..extensions import db, limiter
from ..redirects import back_target
from ..transactions import commit
from .activity_forms import (
    ActivityForm,
    ApproveForm,
    CancelForm,
    FulfilForm,
    MemberForm,
    ReasonForm,
    ScanForm,
    SendBackForm,
    TeamForm,
    WishForm,
    WithdrawForm,
    party_status_form,
)
from .activity_messages import category_name
from .forms import EmptyForm

bp = Blueprint("activities", __name__)
bp.add_app_template_filter(category_name, "category_name")
QR_BOX_PIXELS = 10
QR_BORDER_BOXES = 4


# Helpers the API shares -------------------------------------------------------------------

DEFAULT_CHECKIN_RATE_LIMIT = "10 per minute"


def checkin_limit() -> str:
    """Scans per volunteer: plenty for a person, too few to guess an 8-digit code."""
    return (current_app.config.get("JINDOU_CHECKIN_RATE_LIMIT")
            or os.environ.get("JINDOU_CHECKIN_RATE_LIMIT") or DEFAULT_CHECKIN_RATE_LIMIT)


def checkin_limit_key() -> str:
    """Per person, not per address: a whole venue may share one network."""
    from ..auth import current_actor

    actor = current_actor()
    return f"checkin:user:{actor.id}" if actor is not None else f"checkin:ip:{request.remote_addr}"


def checkin_key() -> bytes:
    return current_app.config["JINDOU_CHECKIN_KEY"].encode()


def checkin_url(activity_id: int, direction: str, code: str) -> str:
    return url_for("pages.activities.scan_code", activity_id=activity_id, d=direction,
                   code=code, _external=True)


def qr_png(activity_id: int, direction: str) -> io.BytesIO:
    code = checkin.current_code(checkin_key(), activity_id, direction)
    return _qr_of(checkin_url(activity_id, direction, code))


def _qr_of(text: str) -> io.BytesIO:
    # Error correction M and a short URL keep the code sparse for cheap phone cameras.
    image = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M,
                          box_size=QR_BOX_PIXELS, border=QR_BORDER_BOXES)
    image.add_data(text)
    image.make(fit=True)
    buffer = io.BytesIO()
    image.make_image(fill_color="black", back_color="white").save(buffer, "PNG")
    buffer.seek(0)
    return buffer


def uploaded_photos(files) -> list[bytes]:
    files = [f for f in files if f and f.filename]
    if len(files) > MAX_PHOTOS:
        raise Invalid("too many photos", errors={"photo": [f"at most {MAX_PHOTOS}"]})
    photos = []
    for upload in files:
        data = upload.stream.read(MAX_UPLOAD_BYTES + 1)
        if len(data) > MAX_UPLOAD_BYTES:
            raise Invalid("the photo is too large", errors={"photo": ["at most 8 MB"]})
        photos.append(data)
    return photos


def photo_file(photo) -> io.BytesIO:
    return io.BytesIO(photo.data)


# Volunteer pages --------------------------------------------------------------------------

@bp.route("/activities")
@login_required
def index():
    upcoming = planning.visible_activities(db.session, current_user, upcoming_only=True)
    mine = signups.my_signups(db.session, current_user.id)
    today = daily.todays(db.session, current_user.id, china_day(now()))
    return render_template(
        "activities/index.html", activities=upcoming, mine=mine, today=today,
        streak=daily.streak(db.session, current_user.id, china_day(now())),
        form=EmptyForm(), is_volunteer=access.holds(current_user, ("volunteer",)),
        is_organiser=access.holds(current_user, ORGANISER_ROLES))


@bp.route("/activities/<int:activity_id>")
@login_required
def detail(activity_id):
    activity = planning.get_activity(db.session, activity_id)
    planning.require_visible(current_user, activity)
    signup = signups.find_signup(db.session, activity.id, current_user.id)
    attendance = checkin.find_attendance(db.session, activity.id, current_user.id)
    return render_template(
        "activities/detail.html", activity=activity, signup=signup, attendance=attendance,
        form=EmptyForm(), cancel_form=CancelForm(),
        organiser=access.holds(current_user, ORGANISER_ROLES, activity.area))


@bp.route("/activities/<int:activity_id>/signup", methods=["POST"])
@login_required
def sign_up(activity_id):
    _require_form(EmptyForm())
    signups.sign_up(db.session, current_user, activity_id)
    commit()
    flash(_("You are signed up."), "success")
    return redirect(url_for("pages.activities.detail", activity_id=activity_id))


@bp.route("/activities/<int:activity_id>/cancel", methods=["POST"])
@login_required
def cancel(activity_id):
    _require_form(EmptyForm())
    signups.cancel_signup(db.session, current_user, activity_id)
    commit()
    flash(_("Your sign-up is cancelled."), "info")
    return redirect(url_for("pages.activities.detail", activity_id=activity_id))


@bp.route("/scan")
@login_required
def scan():
    """The camera page: jsQR reads the organiser's code and opens the URL it carries."""
    return render_template("activities/scan.html")


@bp.route("/activities/<int:activity_id>/scan", methods=["GET", "POST"])
@login_required
@limiter.limit(checkin_limit, key_func=checkin_limit_key, methods=["POST"])
def scan_code(activity_id):
    activity = planning.get_activity(db.session, activity_id)
    form = ScanForm()
    if request.method == "GET":
        form.code.data = request.args.get("code", "")
        form.direction.data = "out" if request.args.get("d") == "out" else "in"
    direction = "out" if form.direction.data == "out" else "in"
    if form.validate_on_submit():
        service = checkin.check_out if direction == "out" else checkin.check_in
        try:
            service(db.session, current_user, activity.id, form.code.data,
                    key=checkin_key(), lat=_number(form.lat.data), lng=_number(form.lng.data))
            commit()
        except DomainError as error:
            db.session.rollback()
            flash(_error_text(error), "error")
        else:
            flash(_("Checked out. Thank you!") if direction == "out" else
                  _("Checked in. Welcome!"), "success")
            return redirect(url_for("pages.activities.detail", activity_id=activity.id))
    return render_template("activities/scan_code.html", activity=activity, form=form,
                           direction=direction,
                           auto=request.method == "GET" and bool(request.args.get("code")))


@bp.route("/me/hours")
@login_required
def my_hours():
    year = request.args.get("year", type=int)
    record = hours.hours_record(db.session, current_user, year)
    return render_template("activities/hours.html", record=record, year=year,
                           party_status=duty.party_status(db.session, current_user.id))


@bp.route("/me/hours/certificate")
@login_required
def certificate():
    year = request.args.get("year", type=int)
    record = hours.hours_record(db.session, current_user, year)
    signature = hours.certificate_signature(_certificate_key(), current_user.id, year,
                                            record.total_minutes, record.times)
    verify = url_for("pages.activities.verify_certificate", user_id=current_user.id,
                     period=year or "all", signature=signature, _external=True)
    return render_template("activities/certificate.html", record=record, year=year,
                           issued=format_date(now().astimezone(CHINA), format="long"),
                           verify_url=verify, period=year or "all", signature=signature)


def _certificate_key() -> bytes:
    return b"certificate:" + checkin_key()


def _period(period: str) -> int | None:
    if period == "all":
        return None
    if period.isdigit() and len(period) == 4:
        return int(period)
    abort(404)


@bp.route("/hours/verify/<int:user_id>/<period>/<signature>")
def verify_certificate(user_id, period, signature):
    """Public: anyone holding the printed certificate checks it against the record."""
    from activities.wishes import mask_name

    record = hours.certificate_holds(db.session, _certificate_key(), user_id, _period(period),
                                     signature)
    return render_template("activities/verify.html", record=record, period=period,
                           masked=mask_name(record.user.display_name) if record else None)


@bp.route("/hours/verify/<int:user_id>/<period>/<signature>/qr.png")
@login_required
def certificate_qr(user_id, period, signature):
    if user_id != current_user.id:
        abort(404)
    url = url_for("pages.activities.verify_certificate", user_id=user_id, period=period,
                  signature=signature, _external=True)
    return send_file(_qr_of(url), mimetype="image/png", max_age=0)


@bp.route("/me/daily-checkin", methods=["POST"])
@login_required
def daily_checkin():
    _require_form(EmptyForm())
    result = daily.check_in_today(db.session, current_user)
    commit()
    if result.created:
        flash(_("Checked in for today: +%(points)s points.", points=result.checkin.points),
              "success")
    else:
        flash(_("You have already checked in today. Come back tomorrow!"), "info")
    return redirect(back_target(url_for("pages.activities.index")))


# Organiser pages --------------------------------------------------------------------------

@bp.route("/organise")
@login_required
def organise():
    access.require(current_user, ORGANISER_ROLES)
    activities = [a for a in planning.visible_activities(db.session, current_user, limit=100)
                  if access.holds(current_user, ORGANISER_ROLES, a.area)]
    waiting = [w for w in wishes.list_wishes(db.session, current_user, "fulfilled")
               if access.holds(current_user, ORGANISER_ROLES, w.area)]
    return render_template("activities/organise.html", activities=activities,
                           waiting=waiting, now=now())


@bp.route("/activities/new", methods=["GET", "POST"])
@login_required
def new_activity():
    access.require(current_user, ORGANISER_ROLES)
    form = ActivityForm()
    form.category.choices = [(c.code, c.name) for c in catalogue.all_categories(db.session)]
    form.area.choices = _area_choices()
    form.programme.choices = _programme_choices()
    if form.validate_on_submit():
        draft = ActivityDraft(
            title=form.title.data, category=form.category.data, area=form.area.data,
            programme=form.programme.data, venue=form.venue.data,
            starts_at=form.starts_at.data.replace(tzinfo=CHINA),
            ends_at=form.ends_at.data.replace(tzinfo=CHINA), capacity=form.capacity.data,
            max_minutes=int(form.max_hours.data * 60) if form.max_hours.data else None,
            description=form.description.data or "", lat=_number(form.lat.data),
            lng=_number(form.lng.data), checkin_radius_m=form.checkin_radius_m.data)
        try:
            activity = planning.create_activity(db.session, current_user, draft)
            commit()
        except Invalid as error:
            db.session.rollback()
            flash(_error_text(error), "error")
        else:
            flash(_("Activity created."), "success")
            return redirect(url_for("pages.activities.detail", activity_id=activity.id))
    return render_template("activities/new.html", form=form)


@bp.route("/activities/<int:activity_id>/call-off", methods=["POST"])
@login_required
def call_off(activity_id):
    form = CancelForm()
    _require_form(form)
    try:
        planning.cancel_activity(db.session, current_user, activity_id, form.reason.data)
        commit()
    except DomainError as error:
        db.session.rollback()
        flash(_error_text(error), "error")
    else:
        flash(_("The activity is cancelled; everyone signed up is told."), "info")
    return redirect(url_for("pages.activities.detail", activity_id=activity_id))


@bp.route("/activities/<int:activity_id>/qr")
@login_required
def show_qr(activity_id):
    activity = planning.get_activity(db.session, activity_id)
    planning.require_organiser(current_user, activity)
    direction = "out" if request.args.get("d") == "out" else "in"
    return render_template(
        "activities/qr.html", activity=activity, direction=direction,
        code=checkin.current_code(checkin_key(), activity.id, direction),
        seconds_left=checkin.seconds_left())


@bp.route("/activities/<int:activity_id>/qr.png")
@login_required
def qr_image(activity_id):
    activity = planning.get_activity(db.session, activity_id)
    planning.require_organiser(current_user, activity)
    direction = "out" if request.args.get("d") == "out" else "in"
    response = send_file(qr_png(activity.id, direction), mimetype="image/png", max_age=0)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/activities/<int:activity_id>/code.json")
@login_required
def current_code(activity_id):
    activity = planning.get_activity(db.session, activity_id)
    planning.require_organiser(current_user, activity)
    direction = "out" if request.args.get("d") == "out" else "in"
    return {"code": checkin.current_code(checkin_key(), activity.id, direction),
            "seconds_left": checkin.seconds_left()}


@bp.route("/activities/<int:activity_id>/attendance", methods=["GET", "POST"])
@login_required
def attendance(activity_id):
    activity = planning.get_activity(db.session, activity_id)
    rows = hours.attendance_list(db.session, current_user, activity_id)
    form = ApproveForm()
    if form.validate_on_submit():
        try:
            chosen, adjustments = _approval_choice(rows)
            result = hours.approve(db.session, current_user, activity.id, chosen, adjustments)
            commit()
        except DomainError as error:
            db.session.rollback()
            flash(_error_text(error), "error")
        else:
            flash(_("%(count)s approved, %(points)s points paid.", count=len(result.approved),
                    points=sum(a.points or 0 for a in result.approved)), "success")
        return redirect(url_for("pages.activities.attendance", activity_id=activity.id))
    return render_template("activities/attendance.html", activity=activity, rows=rows,
                           form=form, counted=hours.counted_minutes,
                           signed_up=signups.signups_of(db.session, activity.id))


def _approval_choice(rows):
    chosen = [int(value) for value in request.form.getlist("attendance") if value.isdigit()]
    adjustments = {}
    for row in rows:
        minutes = request.form.get(f"minutes-{row.id}", "").strip()
        if row.id in chosen and minutes:
            if not minutes.isdigit():
                raise Invalid("minutes are a whole number", errors={"minutes": ["0 or more"]})
            adjustments[row.id] = hours.Adjustment(int(minutes),
                                                   request.form.get(f"reason-{row.id}", ""))
    if not chosen:
        raise Invalid("choose whom to approve", errors={"attendance": ["none chosen"]})
    return chosen, adjustments


@bp.route("/party-duty")
@login_required
def party_duty():
    access.require(current_user, ORGANISER_ROLES)
    areas_ = _area_choices()
    area = request.args.get("area") or (areas_[0][0] if areas_ else "root")
    year = request.args.get("year", type=int) or now().astimezone(CHINA).year
    short_only = request.args.get("short") == "1"
    rows = duty.duty_report(db.session, current_user, area, year, only_short=short_only)
    if request.args.get("format") == "csv":
        return _duty_csv(rows, area, year)
    return render_template("activities/duty.html", rows=rows, area=area, year=year,
                           areas=areas_, short_only=short_only, form=party_status_form())


@bp.route("/party-duty/status", methods=["POST"])
@login_required
def party_status():
    form = party_status_form()
    _require_form(form)
    user = users.find_user(db.session, form.username.data.strip())
    if user is None:
        flash(_("No volunteer has that user name."), "error")
    else:
        duty.set_party_status(db.session, current_user, user.id, form.party_status.data)
        commit()
        flash(_("Party membership saved."), "success")
    return redirect(url_for("pages.activities.party_duty"))


def _duty_csv(rows, area: str, year: int) -> Response:
    output = io.StringIO()
    output.write("\ufeff")  # Excel opens UTF-8 CSV as such only with a BOM
    writer = csv.writer(output)
    writer.writerow([_("User name"), _("Name"), _("Area"), _("Party membership"), _("Times"),
                     _("Hours"), _("Times required"), _("Hours required"), _("Short")])
    for row in rows:
        writer.writerow(safe_row([row.user.username, row.user.display_name, row.user.area.name,
                         _party_label(row.party_status), row.times, f"{row.minutes / 60:.1f}",
                         row.required_times, f"{row.required_minutes / 60:.1f}",
                         _("yes") if row.short else _("no")]))
    return Response(output.getvalue(), mimetype="text/csv", headers={
        "Content-Disposition": f"attachment; filename=party-duty-{area}-{year}.csv"})


def _party_label(status: str) -> str:
    return {"in_service": _("Party member at work"),
            "resident": _("Party member where living")}.get(status, _("Not a party member"))


# Wishes -----------------------------------------------------------------------------------

@bp.route("/wishes")
@login_required
def wish_list():
    status = request.args.get("status", "open")
    if status not in ("open", "claimed", "fulfilled", "confirmed"):
        status = "open"
    return render_template(
        "activities/wishes.html", status=status,
        wishes=wishes.list_wishes(db.session, current_user, status),
        mine=wishes.list_wishes(db.session, current_user, None, mine=True),
        is_organiser=access.holds(current_user, ORGANISER_ROLES))


@bp.route("/wishes/<int:wish_id>")
@login_required
def wish_detail(wish_id):
    wish = wishes.visible_wish(db.session, current_user, wish_id)
    return render_template(
        "activities/wish.html", wish=wish, form=EmptyForm(), fulfil_form=FulfilForm(),
        reason_form=ReasonForm(), send_back_form=SendBackForm(), withdraw_form=WithdrawForm(),
        teams=_led_teams(),
        organiser=access.holds(current_user, ORGANISER_ROLES, wish.area))


@bp.route("/wishes/<int:wish_id>/<action>", methods=["POST"])
@login_required
def wish_action(wish_id, action):
    if action not in ("claim", "abandon", "fulfil", "confirm", "send-back", "withdraw"):
        abort(404)
    form = {"fulfil": FulfilForm, "send-back": SendBackForm,
            "withdraw": WithdrawForm}.get(action, ReasonForm)()
    _require_form(form)
    try:
        _do_wish_action(wish_id, action, form)
        commit()
    except DomainError as error:
        db.session.rollback()
        flash(_error_text(error), "error")
    return redirect(url_for("pages.activities.wish_detail", wish_id=wish_id))


def _do_wish_action(wish_id: int, action: str, form) -> None:
    session = db.session
    if action == "claim":
        team_id = request.form.get("team_id", type=int)
        wishes.claim(session, current_user, wish_id, team_id)
        flash(_("The wish is yours. Thank you!"), "success")
    elif action == "abandon":
        wishes.abandon(session, current_user, wish_id, form.reason.data)
        flash(_("You gave the wish back; others can claim it now."), "info")
    elif action == "fulfil":
        wishes.fulfil(session, current_user, wish_id, form.note.data or "",
                      uploaded_photos(request.files.getlist(form.photo.name)))
        flash(_("Thank you! The organiser will confirm soon."), "success")
    elif action == "confirm":
        wish = wishes.confirm(session, current_user, wish_id)
        flash(_("Confirmed: %(points)s points paid.", points=wish.reward_points), "success")
    elif action == "withdraw":
        wishes.withdraw(session, current_user, wish_id, form.reason.data)
        flash(_("The wish is withdrawn."), "info")
    else:
        wishes.send_back(session, current_user, wish_id, form.reason.data)
        flash(_("The wish went back to its claimer."), "info")


@bp.route("/wishes/new", methods=["GET", "POST"])
@login_required
def new_wish():
    access.require(current_user, ORGANISER_ROLES)
    form = WishForm()
    form.area.choices = _area_choices()
    form.programme.choices = _programme_choices()
    if form.validate_on_submit():
        draft = WishDraft(title=form.title.data, resident_name=form.resident_name.data,
                          story=form.story.data, needs=form.needs.data, area=form.area.data,
                          programme=form.programme.data, reward_points=form.reward_points.data)
        try:
            wish = wishes.publish_wish(db.session, current_user, draft)
            commit()
        except DomainError as error:
            db.session.rollback()
            flash(_error_text(error), "error")
        else:
            flash(_("The wish is published."), "success")
            return redirect(url_for("pages.activities.wish_detail", wish_id=wish.id))
    return render_template("activities/new_wish.html", form=form)


@bp.route("/wish-photos/<int:photo_id>")
@login_required
def wish_photo(photo_id):
    found = wishes.photo(db.session, current_user, photo_id)
    return send_file(photo_file(found), mimetype=found.content_type, max_age=3600)


# Teams ------------------------------------------------------------------------------------

@bp.route("/teams", methods=["GET", "POST"])
@login_required
def team_list():
    form = TeamForm()
    form.area.choices = _area_choices()
    if request.method == "POST":
        access.require(current_user, ORGANISER_ROLES)
        if form.validate_on_submit():
            leader = users.find_user(db.session, form.leader.data.strip())
            if leader is None:
                flash(_("No volunteer has that user name."), "error")
            else:
                try:
                    team = teams.create_team(db.session, current_user, form.name.data,
                                             form.area.data, leader.id)
                    commit()
                except DomainError as error:
                    db.session.rollback()
                    flash(_error_text(error), "error")
                else:
                    flash(_("Team created."), "success")
                    return redirect(url_for("pages.activities.team_detail", team_id=team.id))
    return render_template("activities/teams.html", teams=teamwork.visible_teams(
        db.session, current_user), form=form,
        is_organiser=access.holds(current_user, ORGANISER_ROLES))


@bp.route("/teams/<int:team_id>", methods=["GET", "POST"])
@login_required
def team_detail(team_id):
    team = teamwork.readable_team(db.session, current_user, team_id)
    form = MemberForm()
    if form.validate_on_submit():
        user = users.find_user(db.session, form.username.data.strip())
        try:
            if user is None:
                raise Invalid("no such user", errors={"username": ["unknown"]})
            teams.add_member(db.session, current_user, team.id, user.id)
            commit()
        except DomainError as error:
            db.session.rollback()
            flash(_error_text(error), "error")
        else:
            flash(_("Member added."), "success")
        return redirect(url_for("pages.activities.team_detail", team_id=team.id))
    manager = current_user.id == team.leader_id or access.holds(current_user, ORGANISER_ROLES,
                                                                team.area)
    return render_template("activities/team.html", team=team, form=form, manager=manager,
                           members=teams.members(db.session, team.id), action_form=EmptyForm(),
                           organiser=access.holds(current_user, ORGANISER_ROLES, team.area))


@bp.route("/teams/<int:team_id>/members/<int:user_id>/<action>", methods=["POST"])
@login_required
def team_member(team_id, user_id, action):
    _require_form(EmptyForm())
    if action not in ("remove", "lead"):
        abort(404)
    try:
        if action == "remove":
            teams.remove_member(db.session, current_user, team_id, user_id)
        else:
            teamwork.appoint_leader(db.session, current_user, team_id, user_id)
        commit()
    except DomainError as error:
        db.session.rollback()
        flash(_error_text(error), "error")
    else:
        flash(_("Team updated."), "success")
    return redirect(url_for("pages.activities.team_detail", team_id=team_id))


# Small helpers ----------------------------------------------------------------------------

def _require_form(form) -> None:
    if not form.validate_on_submit():
        abort(400)


def _number(value) -> float | None:
    if value in (None, ""):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _error_text(error: DomainError) -> str:
    from ..messages import message_for

    return message_for(error)


def _area_choices() -> list[tuple[str, str]]:
    roots = [g.area for g in current_user.grants if g.role in ORGANISER_ROLES]
    found = {}
    for root in roots:
        for area in db.session.scalars(select(Area).where(
                Area.path.startswith(root.path, autoescape=True)).order_by(Area.path)):
            found[area.code] = (area.code, area.name)
    return list(found.values())


def _programme_choices() -> list[tuple[str, str]]:
    return [(p.code, p.name) for p in db.session.scalars(select(Programme).order_by(Programme.code))
            if access.overlaps(current_user, ORGANISER_ROLES, p.area)]


def _led_teams():
    try:
        from volunteers.teams import Team
    except ImportError:
        return []
    return list(db.session.scalars(select(Team).where(Team.leader_id == current_user.id)))


def local_time(value: datetime) -> datetime:
    return value.astimezone(CHINA)
