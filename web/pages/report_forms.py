"""Forms of the report pages (Flask-WTF: each carries a CSRF token)."""

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, MultipleFileField
from wtforms import (
    BooleanField,
    FloatField,
    HiddenField,
    IntegerField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional, Regexp

URGENCY_LABELS = {"urgent": _l("Urgent"), "time_limited": _l("Time-limited"),
                  "long_term": _l("Long-term")}


class ReportForm(FlaskForm):
    category = SelectField(_l("What did you see?"), validators=[DataRequired()])
    lat = FloatField(validators=[Optional(), NumberRange(-90, 90)])
    lng = FloatField(validators=[Optional(), NumberRange(-180, 180)])
    address = StringField(_l("Where (address)"), validators=[Optional(), Length(max=300)])
    description = TextAreaField(lazy_pgettext("report", "Description"),
                                validators=[DataRequired(), Length(max=2000)])
    photos = MultipleFileField(_l("Photos (up to 9)"))
    video = FileField(_l("Or one short video"))


class ResidentReportForm(ReportForm):
    """At a courtyard's poster a resident without an account gives a name and a phone."""

    name = StringField(_l("Your name"), validators=[Optional(), Length(max=60)])
    phone = StringField(_l("Your phone"), validators=[
        Optional(), Regexp(r"^\+?[0-9 -]{5,20}$", message=_l("a phone number"))])


class ReasonForm(FlaskForm):
    reason = StringField(lazy_pgettext("report decision", "Reason"),
                         validators=[DataRequired(), Length(max=500)])


class NoteForm(FlaskForm):
    note = StringField(_l("Note"), validators=[Optional(), Length(max=1000)])


class ResolveForm(FlaskForm):
    resolution = TextAreaField(_l("How it was handled"), validators=[DataRequired(),
                                                                      Length(max=1000)])


class DispatchForm(FlaskForm):
    department = SelectField(_l("Department"), validators=[DataRequired()])
    deadline_hours = IntegerField(_l("Deadline (hours)"),
                                  validators=[Optional(), NumberRange(1, 24 * 365)])


class VerifyForm(FlaskForm):
    request_key = HiddenField(validators=[DataRequired(), Length(max=64)])


class CategoryForm(FlaskForm):
    group = SelectField(_l("Group"), validators=[DataRequired()])
    code = StringField(_l("Code"), validators=[
        DataRequired(), Regexp(r"^[a-z0-9][a-z0-9_-]{0,39}$",
                               message=_l("lowercase letters, digits, - and _"))])
    name = StringField(lazy_pgettext("category", "Name"),
                       validators=[DataRequired(), Length(max=120)])
    points = IntegerField(_l("Points"), validators=[NumberRange(0, 10_000)])
    urgency = SelectField(_l("Urgency"), validators=[DataRequired()])
    deadline_hours = IntegerField(_l("Deadline (hours)"),
                                  validators=[DataRequired(), NumberRange(1, 24 * 365)])
    department = SelectField(_l("Responsible department"), validators=[Optional()])
    legal_basis = TextAreaField(_l("Legal basis"), validators=[Optional(), Length(max=2000)])
    active = BooleanField(_l("Can be reported"), default=True)


class GroupForm(FlaskForm):
    code = StringField(_l("Code"), validators=[
        DataRequired(), Regexp(r"^[a-z0-9][a-z0-9_-]{0,39}$",
                               message=_l("lowercase letters, digits, - and _"))])
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=120)])


class ShareForm(FlaskForm):
    programme = SelectField(_l("Programme"), validators=[DataRequired()])
    duplicate_share_percent = IntegerField(_l("Share of the points a duplicate earns (%)"),
                                           validators=[NumberRange(0, 100)])
