"""Forms of the /admin organisation pages and the account pages (each carries a CSRF token)."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import PasswordField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, Regexp

CODE_RULE = _l("lowercase letters, digits, - and _")


class AreaForm(FlaskForm):
    code = StringField(_l("Code"), validators=[
        DataRequired(), Regexp(r"^[a-z0-9][a-z0-9_-]{0,63}$", message=CODE_RULE)])
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=120)])
    level = SelectField(_l("Level"))
    parent = SelectField(_l("Parent area"), validators=[DataRequired()])


class AreaEditForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=120)])
    parent = SelectField(_l("Parent area"), validators=[Optional()])
    centre = StringField(_l("Centre (latitude,longitude)"), validators=[
        Optional(), Regexp(r"^-?\d{1,3}(\.\d+)?,\s*-?\d{1,3}(\.\d+)?$",
                           message=_l("two numbers: latitude,longitude"))])
    boundary = TextAreaField(_l("Boundary (GeoJSON Polygon)"),
                             validators=[Optional(), Length(max=200_000)])


class DepartmentForm(FlaskForm):
    code = StringField(_l("Code"), validators=[
        DataRequired(), Regexp(r"^[a-z0-9][a-z0-9_-]{0,39}$", message=CODE_RULE)])
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=120)])
    area = SelectField(_l("Area"), validators=[DataRequired()])
    categories = SelectMultipleField(_l("Report categories it handles"))
    serves = SelectMultipleField(_l("Other areas it serves"))


class StaffForm(FlaskForm):
    username = StringField(_l("User name or phone"), validators=[DataRequired(),
                                                                 Length(max=64)])


class GrantForm(FlaskForm):
    role = SelectField(_l("Role"))
    area = SelectField(_l("Area"), validators=[DataRequired()])


class PasswordChangeForm(FlaskForm):
    current_password = PasswordField(_l("Current password"),
                                     validators=[DataRequired(), Length(max=256)])
    new_password = PasswordField(_l("New password"),
                                 validators=[DataRequired(), Length(min=8, max=256)])


class ResetForm(FlaskForm):
    username = StringField(_l("User name or phone"), validators=[DataRequired(),
                                                                 Length(max=64)])
    code = StringField(_l("One-time code"), validators=[DataRequired(), Length(max=32)])
    new_password = PasswordField(_l("New password"),
                                 validators=[DataRequired(), Length(min=8, max=256)])


class ImportForm(FlaskForm):
    kind = SelectField(_l("What to import"), validators=[DataRequired()])
    file = FileField(_l("CSV or XLSX file"), validators=[FileRequired()])


class ActivationCodesForm(FlaskForm):
    area = SelectField(_l("Area"), validators=[DataRequired()])
