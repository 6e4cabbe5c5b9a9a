"""Page forms of activities, service hours and wishes (each carries a CSRF token)."""

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext
from flask_wtf import FlaskForm
from flask_wtf.file import MultipleFileField
from wtforms import (
    DateTimeLocalField,
    DecimalField,
    HiddenField,
    IntegerField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional, Regexp

from activities.checkin import CODE_DIGITS
from activities.planning import MAX_ACTIVITY_MINUTES, MAX_CAPACITY, MAX_RADIUS_M
from activities.wishes import MAX_WISH_POINTS


class ActivityForm(FlaskForm):
    title = StringField(lazy_pgettext("activity", "Title"),
                        validators=[DataRequired(), Length(max=120)])
    category = SelectField(_l("Category"), validators=[DataRequired()])
    area = SelectField(_l("Area"), validators=[DataRequired()])
    programme = SelectField(_l("Programme that pays"), validators=[DataRequired()])
    venue = StringField(_l("Venue"), validators=[DataRequired(), Length(max=200)])
    starts_at = DateTimeLocalField(_l("Starts (China time)"), format="%Y-%m-%dT%H:%M",
                                   validators=[DataRequired()])
    ends_at = DateTimeLocalField(_l("Ends (China time)"), format="%Y-%m-%dT%H:%M",
                                 validators=[DataRequired()])
    capacity = IntegerField(_l("Seats"), validators=[DataRequired(),
                                                     NumberRange(min=1, max=MAX_CAPACITY)])
    max_hours = DecimalField(_l("Hours cap (empty: the activity's length)"), places=1,
                             validators=[Optional(),
                                         NumberRange(min=0.1, max=MAX_ACTIVITY_MINUTES / 60)])
    lat = DecimalField(_l("Venue latitude (optional)"), places=6,
                       validators=[Optional(), NumberRange(min=-90, max=90)])
    lng = DecimalField(_l("Venue longitude (optional)"), places=6,
                       validators=[Optional(), NumberRange(min=-180, max=180)])
    checkin_radius_m = IntegerField(_l("Check-in radius in metres (optional)"),
                                    validators=[Optional(), NumberRange(min=10, max=MAX_RADIUS_M)])
    description = TextAreaField(lazy_pgettext("activity", "Description"),
                                validators=[Optional(), Length(max=5000)])


class ScanForm(FlaskForm):
    code = StringField(_l("Code"), validators=[
        DataRequired(), Regexp(rf"^\s*\d{{{CODE_DIGITS}}}\s*$",
                               message=_l("The code has 8 digits."))])
    direction = HiddenField(default="in")
    lat = HiddenField()
    lng = HiddenField()


class ApproveForm(FlaskForm):
    """Checkbox ``attendance`` rows; ``minutes-<id>`` and ``reason-<id>`` adjust one."""


class WishForm(FlaskForm):
    title = StringField(_l("Wish"), validators=[DataRequired(), Length(max=120)])
    resident_name = StringField(_l("Resident's name (shown masked)"),
                                validators=[DataRequired(), Length(max=40)])
    story = TextAreaField(_l("Story"), validators=[DataRequired(), Length(max=5000)])
    needs = StringField(_l("What is needed"), validators=[DataRequired(), Length(max=500)])
    area = SelectField(_l("Area"), validators=[DataRequired()])
    programme = SelectField(_l("Programme that pays"), validators=[DataRequired()])
    reward_points = IntegerField(_l("Points"), validators=[
        DataRequired(), NumberRange(min=1, max=MAX_WISH_POINTS)])


class FulfilForm(FlaskForm):
    note = TextAreaField(_l("What was done"), validators=[Optional(), Length(max=1000)])
    photo = MultipleFileField(_l("Photos"))


class ReasonForm(FlaskForm):
    """Claiming and confirming carry no text; giving back may say why."""

    reason = StringField(_l("Why you give it back (optional)"),
                         validators=[Optional(), Length(max=500)])


class CancelForm(FlaskForm):
    reason = StringField(_l("Why (everyone signed up is told)"),
                         validators=[DataRequired(), Length(max=500)])


class WithdrawForm(FlaskForm):
    reason = StringField(_l("Why it is taken down"), validators=[DataRequired(), Length(max=500)])


class SendBackForm(FlaskForm):
    reason = StringField(_l("What is missing"), validators=[Optional(), Length(max=500)])


class PartyStatusForm(FlaskForm):
    username = StringField(_l("Volunteer's user name"), validators=[DataRequired(),
                                                                    Length(max=64)])
    party_status = SelectField(_l("Party membership"))


def party_status_form() -> PartyStatusForm:
    form = PartyStatusForm()
    form.party_status.choices = [
        ("in_service", _l("Party member at work (在职党员)")),
        ("resident", _l("Party member where living (居住地党员)")),
        ("none", _l("Not a party member")),
    ]
    return form


class TeamForm(FlaskForm):
    name = StringField(_l("Team name"), validators=[DataRequired(), Length(max=120)])
    area = SelectField(_l("Area"), validators=[DataRequired()])
    leader = StringField(_l("Leader's user name"), validators=[DataRequired(), Length(max=64)])


class MemberForm(FlaskForm):
    username = StringField(_l("Volunteer's user name"), validators=[DataRequired(),
                                                                    Length(max=64)])
