"""``jindou audit``, ``jindou areas``, ``jindou departments`` and the account commands of
``jindou users``: the same services as the /admin pages and the API. The command line acts as
the operator (no user behind it); what it changes is logged with the address ``cli``."""

from __future__ import annotations

import json
import sys

import click
from flask.cli import AppGroup

from reports import departments
from volunteers import accounts, areas, audit, roles, users
from volunteers.errors import DomainError
from volunteers.models import AREA_LEVELS, ROLES

from ..extensions import db

audit_cli = AppGroup("audit", help="The audit log of administrative changes.")


def operator_session():
    session = db.session
    audit.set_address(session, "cli")
    return session


def fail(error: DomainError):
    db.session.rollback()
    detail = getattr(error, "errors", None)
    message = error.message + (f" {json.dumps(detail, ensure_ascii=False)}" if detail else "")
    raise click.ClickException(message)


@audit_cli.command("list")
@click.option("--area", default=None, help="an area's code: its subtree only")
@click.option("--kind", default=None, help="role, or role.grant, category.update ...")
@click.option("--actor", default=None, help="a user name")
@click.option("--since", default=None, help="a date or moment, China time: 2026-12-01")
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 200))
@click.option("--csv", "as_csv", is_flag=True, help="every matching event as CSV instead")
def list_events(area, kind, actor, since, limit, as_csv):
    """The newest changes first, a line each (or the CSV the /admin/audit page downloads)."""
    session = operator_session()
    try:
        wanted = audit.AuditFilter(area=area, kind=kind, actor=actor,
                                   since=audit.parse_since(since), limit=limit)
        if as_csv:
            sys.stdout.write(audit.export_csv(session, None, wanted))
            return
        for event in audit.events(session, None, wanted):
            click.echo(f"{event.id}\t{event.created_at.isoformat()}\t{event.actor_name}\t"
                       f"{event.address or '-'}\t{event.kind}\t{event.subject}\t"
                       f"{json.dumps(event.before, ensure_ascii=False)} -> "
                       f"{json.dumps(event.after, ensure_ascii=False)}")
    except DomainError as error:
        fail(error)


areas_cli = AppGroup("areas", help="The area tree: districts down to courtyards.")
departments_cli = AppGroup("departments", help="Departments, their categories and staff.")
# The operator at the command line acts as a root administrator would (no second person:
# whoever holds the server's shell holds the database too); their changes are logged as
# ``system`` from ``cli``.


class Operator:
    """Stands in for a user with admin on the root, for the services' checks."""

    id = None
    username = "system"
    active = True

    def __init__(self, session):
        from volunteers.models import RoleGrant

        root = areas.ensure_root(session)
        self.grants = [RoleGrant(role="admin", area=root)]
        self.area = root
        self.roles = ["admin"]


def operator():
    session = operator_session()
    return session, Operator(session)


def run(action):
    try:
        result = action()
        db.session.commit()
        return result
    except DomainError as error:
        fail(error)


@areas_cli.command("list")
@click.option("--under", default="root", show_default=True, help="an area's code")
def list_areas(under):
    """The tree under an area, a line each: code, level, name, closed."""
    session, _ = operator()
    try:
        top = areas.get_area(session, under)
    except DomainError as error:
        fail(error)
    for area in areas.subtree(session, top):
        depth = area.path.count("/") - 2
        closed = "  (closed)" if area.closed_at else ""
        click.echo(f"{'  ' * depth}{area.code}\t{area.level}\t{area.name}{closed}")


@areas_cli.command("create")
@click.argument("code")
@click.option("--name", required=True)
@click.option("--level", type=click.Choice(AREA_LEVELS[1:]), required=True)
@click.option("--parent", required=True, help="the parent's code; the root is 'root'")
@click.option("--boundary", type=click.File("r", encoding="utf-8"), default=None,
              help="a GeoJSON Polygon file")
@click.option("--centre", default=None, help="LAT,LNG")
def create_area(code, name, level, parent, boundary, centre):
    """Create an area one level below its parent."""
    session, actor = operator()
    area = run(lambda: areas.add_area(session, actor, code, name, level, parent,
                                      _geojson(boundary), _centre(centre)))
    click.echo(f"area {area.code}: {area.path}")


@areas_cli.command("update")
@click.argument("code")
@click.option("--name", default=None)
@click.option("--parent", default=None, help="move under this area")
@click.option("--boundary", type=click.File("r", encoding="utf-8"), default=None)
@click.option("--centre", default=None, help="LAT,LNG")
def update_area(code, name, parent, boundary, centre):
    """Rename, redraw or move an area."""
    session, actor = operator()
    changes = {key: value for key, value in (("name", name), ("parent", parent)) if value}
    if boundary is not None:
        changes["boundary"] = _geojson(boundary)
    if centre is not None:
        changes["centre"] = _centre(centre)
    area = run(lambda: areas.update_area(session, actor, code, changes))
    click.echo(f"area {area.code}: {area.path} {area.name}")


@areas_cli.command("close")
@click.argument("code")
def close_area(code):
    """Close an area and its subtree (refused with open reports or live offers)."""
    session, actor = operator()
    run(lambda: areas.close_area(session, actor, code))
    click.echo(f"area {code} closed")


def _geojson(stream):
    if stream is None:
        return None
    try:
        return json.load(stream)
    except ValueError as error:
        raise click.BadParameter(f"not JSON: {error}", param_hint="--boundary") from error


def _centre(text):
    if not text:
        return None
    try:
        lat, lng = (float(part) for part in text.split(","))
    except ValueError as error:
        raise click.BadParameter("LAT,LNG", param_hint="--centre") from error
    return lat, lng


@departments_cli.command("create")
@click.argument("code")
@click.option("--name", required=True)
@click.option("--area", "area_code", required=True)
@click.option("--category", "categories", multiple=True, help="a report category it handles")
@click.option("--serves", multiple=True, help="another area it serves")
@click.option("--phone", default=None)
def create_department(code, name, area_code, categories, serves, phone):
    """Create a department on an area."""
    session, actor = operator()
    run(lambda: departments.create_with(session, actor, code, name, area_code,
                                        list(categories), phone, list(serves)))
    click.echo(f"department {code}")


@departments_cli.command("list")
def list_departments():
    session, actor = operator()
    for department in departments.administered_departments(session, actor):
        staff = ", ".join(m.user.username for m in department.members)
        click.echo(f"{department.code}\t{department.area.code}\t{department.name}\t{staff}")


@departments_cli.command("add-staff")
@click.argument("code")
@click.argument("username")
def add_staff(code, username):
    session, actor = operator()
    run(lambda: departments.add_member(session, actor, departments.get_department(session, code),
                                       _user(session, username)))
    click.echo(f"{username} works in {code}")


@departments_cli.command("remove-staff")
@click.argument("code")
@click.argument("username")
def remove_staff(code, username):
    session, actor = operator()
    run(lambda: departments.remove_member(
        session, actor, departments.get_department(session, code), _user(session, username)))
    click.echo(f"{username} no longer works in {code}")


def _user(session, username):
    user = users.find_for_login(session, username)
    if user is None:
        from volunteers.errors import NotFound

        raise NotFound(f"no user {username}")
    return user


def register_user_commands(users_cli) -> None:
    """``jindou users grant|revoke|suspend|reactivate|reset-code`` beside ``users create``."""

    @users_cli.command("grant")
    @click.argument("username")
    @click.option("--role", type=click.Choice(ROLES), required=True)
    @click.option("--area", "area_code", required=True)
    def grant(username, role, area_code):
        """Grant ROLE on AREA (at the command line, admin too, without a second person)."""
        session, actor = operator()

        def apply():
            user = _user(session, username)
            area = areas.get_area(session, area_code)
            return roles._apply(session, actor, user, role, area)

        run(apply)
        click.echo(f"{username}: {role} on {area_code}")

    @users_cli.command("revoke")
    @click.argument("username")
    @click.option("--role", type=click.Choice(ROLES), required=True)
    @click.option("--area", "area_code", required=True)
    def revoke(username, role, area_code):
        """Revoke ROLE on AREA (never the last admin of an area)."""
        session, actor = operator()
        run(lambda: roles.revoke(session, actor, _user(session, username).id, role, area_code))
        click.echo(f"{username}: {role} on {area_code} revoked")

    @users_cli.command("suspend")
    @click.argument("username")
    def suspend(username):
        """The user cannot sign in, their tokens stop working; their points stay."""
        session, actor = operator()
        run(lambda: accounts.suspend(session, actor, _user(session, username).id))
        click.echo(f"{username} suspended")

    @users_cli.command("reactivate")
    @click.argument("username")
    def reactivate(username):
        session, actor = operator()
        run(lambda: accounts.reactivate(session, actor, _user(session, username).id))
        click.echo(f"{username} reactivated")

    @users_cli.command("reset-code")
    @click.argument("username")
    def reset_code(username):
        """Print a one-time reset code (24 hours) for the person to set a new password."""
        session, actor = operator()
        code, expires_at = run(lambda: accounts.issue_code(
            session, actor, _user(session, username), "reset"))
        click.echo(f"{username}\t{code}\t{expires_at.isoformat()}")


import_cli = AppGroup("import", help="Bulk import from the office's spreadsheets (CSV or XLSX).")


def _import_command(kind: str):
    @import_cli.command(kind)
    @click.argument("path", type=click.Path(exists=True, dir_okay=False))
    @click.option("--dry-run", is_flag=True, help="check and report; change nothing")
    @click.option("--codes", "codes_path", type=click.Path(dir_okay=False, writable=True),
                  default=None, help="volunteers: write the new people's activation codes "
                  "(CSV) here")
    def command(path, dry_run, codes_path):
        from imports import importer

        session, actor = operator()
        with open(path, "rb") as stream:
            data = stream.read()
        try:
            with click.progressbar(length=1, label=f"{kind}", file=sys.stderr) as bar:
                def advance(count):
                    bar.length = max(bar.length, bar.pos + count + 1)
                    bar.update(count)

                report = importer.run(session, actor, kind, data, path, dry_run=dry_run,
                                      progress=advance)
        except DomainError as error:
            fail(error)
        for row in report.rows:
            if row.action == "refused":
                problems = "; ".join(f"{name}: {', '.join(reasons)}"
                                     for name, reasons in row.problems.items())
                click.echo(f"row {row.line} refused ({row.key}): {problems}")
        counts = report.counts
        summary = ", ".join(f"{name} {value}" for name, value in counts.items())
        if dry_run:
            db.session.rollback()
            click.echo(f"dry run: {summary}")
            return
        if not report.applied:
            db.session.rollback()
            click.echo(f"nothing applied: {summary}", err=True)
            sys.exit(1)
        created = [row.values["user_id"] for row in report.rows
                   if row.action == "create" and "user_id" in row.values]
        if codes_path and created:
            _write_codes(session, actor, codes_path, created)
        db.session.commit()
        click.echo(f"applied: {summary}")

    return command


def _write_codes(session, actor, path, user_ids=None, area_code="root") -> int:
    from imports.files import activation_csv

    issued = accounts.issue_activation_codes(session, actor, area_code, user_ids)
    with open(path, "wb") as stream:
        stream.write(activation_csv(issued))
    return len(issued)


for _kind in ("volunteers", "merchants", "areas", "courtyards"):
    _import_command(_kind)


@import_cli.command("activation-codes")
@click.option("--area", "area_code", default="root", show_default=True)
@click.option("--output", type=click.Path(dir_okay=False, writable=True), required=True)
def activation_codes(area_code, output):
    """New activation codes for everyone in AREA who has not set a password yet, as CSV."""
    session, actor = operator()
    try:
        count = _write_codes(session, actor, output, None, area_code)
        db.session.commit()
    except DomainError as error:
        fail(error)
    click.echo(f"{count} activation codes written to {output}")


COMMANDS = (audit_cli, areas_cli, departments_cli, import_cli)
