"""Page forms (Flask-WTF: every form carries a CSRF token)."""

import uuid

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext
from flask_wtf import FlaskForm
from wtforms import (
    HiddenField,
    IntegerField,
    PasswordField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional, Regexp

from ledger import MAX_AMOUNT


class LoginForm(FlaskForm):
    username = StringField(_l("User name"), validators=[DataRequired(), Length(max=64)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=256)])


class RegisterForm(FlaskForm):
    username = StringField(_l("User name"), validators=[
        DataRequired(), Regexp(r"^(?!\d+$)[\w.-]{2,64}$",
                               message=_l("2 to 64 letters (Chinese too), digits, _ . or -"))])
    display_name = StringField(_l("Name shown to others"),
                               validators=[DataRequired(), Length(max=120)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(min=8, max=256)])
    area = SelectField(_l("Your community"), validators=[DataRequired()])


class OnceForm(FlaskForm):
    """A form that moves points: its key, made when the page is shown, makes a double
    click or a resubmitted page post once."""

    request_key = HiddenField(default=lambda: uuid.uuid4().hex,
                              validators=[DataRequired(), Length(max=64)])


class AwardForm(OnceForm):
    programme = SelectField(_l("Programme"), validators=[DataRequired()])
    volunteer = StringField(_l("Volunteer's user name"), validators=[DataRequired(),
                                                                    Length(max=64)])
    amount_points = IntegerField(_l("Points"), validators=[DataRequired(),
                                                           NumberRange(min=1, max=MAX_AMOUNT)])
    reason = TextAreaField(lazy_pgettext("award", "Reason"),
                           validators=[DataRequired(), Length(max=500)])


class FundingForm(OnceForm):
    programme = SelectField(_l("Programme"), validators=[DataRequired()])
    amount_yuan = IntegerField(_l("Amount (yuan)"), validators=[
        DataRequired(), NumberRange(min=1, max=MAX_AMOUNT // 100)])
    source = StringField(_l("Source"), validators=[DataRequired(), Length(max=200)])


class DecisionForm(FlaskForm):
    note = StringField(_l("Note"), validators=[Optional(), Length(max=500)])


class EmptyForm(FlaskForm):
    """A button that changes something: it still carries the CSRF token."""
