"""Honours pages: the administrators' year-end ranking (preview, publish, download), stars,
a volunteer's honours and printable certificates, the public verification page, and the
leaderboards (龙虎榜)."""

from __future__ import annotations

import base64
import io

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
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from itsdangerous import BadSignature, URLSafeSerializer

from honours import honours, leaderboards, ranking, stars
from volunteers import access
from volunteers.errors import DomainError
from volunteers.models import STAFF_ROLES
from volunteers.programmes import get_programme, visible_programmes

from .. import exports
from ..extensions import db
from ..formatting import yuan
from ..messages import message_for
from ..transactions import commit
from .forms import EmptyForm

bp = Blueprint("honours", __name__, url_prefix="/honours")
PREVIEW_ROWS = 200
CERTIFICATE_SALT = "honour-certificate"
EXPORT_TITLES = {
    "position": _l("Position"), "rank": _l("Rank"), "volunteer_id": _l("Volunteer id"),
    "display_name": _l("Name"), "points": _l("Points earned"), "reached_at": _l("Reached at"),
    "tier": _l("Tier"), "bonus_yuan": _l("Bonus (yuan)"),
}
PERIOD_NAMES = {"week": _l("This week"), "month": _l("This month"), "year": _l("This year")}
METRIC_NAMES = {"points": _l("Points earned"), "hours": _l("Service hours")}
STAR_KINDS = {"volunteer": _l("volunteer"), "team": _l("team"), "merchant": _l("merchant"),
              "project": _l("project")}


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=CERTIFICATE_SALT)


def certificate_token(snapshot_id: int, volunteer_id: int) -> str:
    """An unguessable id for a certificate: the pair, signed with the app's secret (HMAC)."""
    return _serializer().dumps([snapshot_id, volunteer_id])


def _admin_programmes():
    return [p for p in visible_programmes(db.session, current_user)
            if access.holds(current_user, ranking.RANKING_ROLES, p.area)]


def _year_argument() -> int:
    try:
        return int(request.args.get("year", ranking.china_year_now()))
    except ValueError:
        abort(404)


@bp.route("/")
@login_required
def index():
    """Pick a programme and year; see its published ranking, or a preview to publish."""
    access.require(current_user, ranking.RANKING_ROLES)
    choices = _admin_programmes()
    if not choices:
        return render_template("honours/index.html", programmes=[], document=None)
    code = request.args.get("programme", choices[0].code)
    year = _year_argument()
    programme = get_programme(db.session, code)
    snapshot = ranking.published(db.session, programme, year)
    try:
        if snapshot is not None:
            access.require(current_user, ranking.RANKING_ROLES, programme.area)
            document = honours.snapshot_document(db.session, snapshot, limit=PREVIEW_ROWS)
        else:
            computed = ranking.compute(db.session, current_user, code, year,
                                       limit=PREVIEW_ROWS)
            document = honours.preview_document(db.session, computed, limit=PREVIEW_ROWS)
    except DomainError as error:
        db.session.rollback()
        flash(message_for(error), "error")
        document = None
    return render_template(
        "honours/index.html", programmes=choices, programme=programme, year=year,
        document=document, form=EmptyForm(), years=range(ranking.china_year_now(),
                                                         programme.created_at.year - 1, -1),
        stars=stars.published_stars(db.session, programme, year),
        star_kinds=STAR_KINDS,
        config=ranking.current_config(db.session, programme),
        special=honours.special_honours(db.session, programme_id=programme.id, year=year))


@bp.route("/<code>/<int:year>/publish", methods=["POST"])
@login_required
def publish(code, year):
    if not EmptyForm().validate_on_submit():
        abort(400)
    snapshot = ranking.publish(db.session, current_user, code, year)
    commit()
    flash(_("The %(year)s ranking is published; bonuses of %(amount)s are reserved and "
            "being paid.", year=year, amount=yuan(snapshot.bonus_total_fen)), "success")
    return redirect(url_for("pages.honours.index", programme=code, year=year))


@bp.route("/<code>/config", methods=["POST"])
@login_required
def save_config(code):
    """The ranking configuration from the page's form (the same rules as the API)."""
    if not EmptyForm().validate_on_submit():
        abort(400)
    form = request.form
    programme = get_programme(db.session, code)
    current = ranking.current_config(db.session, programme)
    try:
        tiers = []
        for index, rule in enumerate(current["tiers"]):
            share = form.get(f"tier-{index}-share", "").strip()
            threshold = form.get(f"tier-{index}-min_points", "").strip()
            tiers.append({
                "key": rule["key"], "name": form.get(f"tier-{index}-name", rule["name"]).strip(),
                "share_bp": round(float(share) * 100) if share else None,
                "min_points": int(threshold) if threshold else None,
                "bonus_fen": round(float(form.get(f"tier-{index}-bonus", "0") or 0) * 100)})
        config = {"mode": form.get("mode", "proportion"), "tiers": tiers,
                  "min_points": int(form.get("min_points", "1") or 0),
                  "exclude_staff": form.get("exclude_staff") == "on"}
    except ValueError:
        flash(_("Some of what you entered is not valid."), "error")
        return redirect(url_for("pages.honours.index", programme=code,
                                year=request.args.get("year")))
    try:
        ranking.configure(db.session, current_user, code, config)
        commit()
        flash(_("The ranking configuration is saved."), "success")
    except DomainError as error:
        db.session.rollback()
        flash(message_for(error), "error")
    return redirect(url_for("pages.honours.index", programme=code, year=request.args.get("year")))


@bp.route("/<code>/<int:year>/stars", methods=["POST"])
@login_required
def publish_stars(code, year):
    if not EmptyForm().validate_on_submit():
        abort(400)
    chosen = stars.publish_stars(db.session, current_user, code, year)
    commit()
    flash(_("%(count)s stars published.", count=len(chosen)), "success")
    return redirect(url_for("pages.honours.index", programme=code, year=year))


@bp.route("/<code>/<int:year>/ranking.<fmt>")
@login_required
def download(code, year, fmt):
    """Every row of the published ranking as CSV or Excel."""
    if fmt not in exports.FORMATS:
        abort(404)
    snapshot = ranking.get_snapshot(db.session, current_user, code, year)
    table = exports.ranking_table(db.session, snapshot, titles=EXPORT_TITLES)
    return Response(exports.render(table, fmt), mimetype=exports.FORMATS[fmt], headers={
        "Content-Disposition": f"attachment; filename=ranking-{code}-{year}.{fmt}"})


@bp.route("/mine")
@login_required
def mine():
    """A volunteer's honours, each with its certificate."""
    own = honours.honours_of(db.session, current_user.id)
    return render_template("honours/mine.html", honours=own,
                           special=honours.special_honours(db.session,
                                                           volunteer_id=current_user.id))


@bp.route("/certificates/<int:snapshot_id>/<int:volunteer_id>")
@login_required
def certificate(snapshot_id, volunteer_id):
    """The printable certificate, for the volunteer or an administrator of the programme."""
    honour = honours.certificate(db.session, current_user, snapshot_id, volunteer_id)
    verify_url = url_for("pages.honours.verify", token=certificate_token(snapshot_id, volunteer_id),
                         _external=True)
    return render_template("honours/certificate.html", honour=honour, verify_url=verify_url,
                           qr_data_uri=_qr_data_uri(verify_url))


@bp.route("/verify/<token>")
def verify(token):
    """Public: anyone who scans the certificate's QR sees that it is genuine (name masked)."""
    try:
        snapshot_id, volunteer_id = _serializer().loads(token)
    except (BadSignature, ValueError, TypeError):
        return render_template("honours/verify.html", honour=None), 404
    honour = honours.find_honour(db.session, int(snapshot_id), int(volunteer_id))
    if honour is None:
        return render_template("honours/verify.html", honour=None), 404
    return render_template("honours/verify.html", honour=honour,
                           masked=honours.masked_name(honour.display_name))


def _qr_data_uri(text: str) -> str:
    image = qrcode.make(text, box_size=6, border=2)
    stream = io.BytesIO()
    image.save(stream, format="PNG")
    return "data:image/png;base64," + base64.b64encode(stream.getvalue()).decode("ascii")


@bp.route("/leaderboards")
@login_required
def leaderboard():
    """龙虎榜: this week's, month's or year's earned points, by volunteer or team."""
    choices = visible_programmes(db.session, current_user)
    if not choices:
        return render_template("honours/leaderboards.html", board=None, programmes=[])
    code = request.args.get("programme", choices[0].code)
    period = request.args.get("period", "month")
    by = request.args.get("by", "volunteer")
    metric = request.args.get("metric", "points")
    if (period not in leaderboards.PERIODS or by not in ("volunteer", "team")
            or metric not in leaderboards.METRICS):
        abort(404)
    area_code = request.args.get("area") or None
    try:
        board = leaderboards.board(db.session, current_user, code, period, area_code=area_code,
                                   by=by, metric=metric)
    except DomainError as error:
        flash(message_for(error), "error")
        board = None
    return render_template("honours/leaderboards.html", board=board, programmes=choices,
                           code=code, period=period, by=by, periods=PERIOD_NAMES, metric=metric,
                           metrics={key: name for key, name in METRIC_NAMES.items()
                                    if key in leaderboards.METRICS},
                           is_staff=access.holds(current_user, STAFF_ROLES))

