"""``jindou``: Flask's CLI (``jindou run``, ``jindou db upgrade``) plus our commands."""

from __future__ import annotations

import sys

import click
from flask.cli import AppGroup, FlaskGroup

import ledger
from activities import demo as activities_demo
from honours import demo as demo_honours
from ledger import export as ledger_export
from merchants import demo as merchants_demo
from payments import demo as demo_payments
from payouts import demo as demo_payouts
from reports import demo as demo_reports
from reports import reports
from volunteers import demo, users
from volunteers.models import ROLES

from ..extensions import db
from ..report_support import upload_dir


def main() -> None:
    from .. import create_app

    FlaskGroup(create_app=create_app, help="Jindou 金豆: volunteer points on a ledger.")()


users_cli = AppGroup("users", help="People and their roles.")
demo_cli = AppGroup("demo", help="Demo data.")
ledger_cli = AppGroup("ledger", help="Audit and export the points ledger.")
reports_cli = AppGroup("reports", help="Incident reports.")


@users_cli.command("create")
@click.argument("username")
@click.option("--role", type=click.Choice(ROLES), required=True)
@click.option("--area", "area_code", required=True, help="area code; the root is 'root'")
@click.option("--display-name", default=None)
@click.option("--password-stdin", is_flag=True, help="read the password from standard input")
def create_user(username, role, area_code, display_name, password_stdin):
    """Create USERNAME with ROLE on AREA (an existing user gets the role added)."""
    password = (sys.stdin.readline().rstrip("\n") if password_stdin
                else click.prompt("Password", hide_input=True, confirmation_prompt=True))
    from volunteers import areas
    from volunteers.errors import DomainError

    try:
        if area_code == areas.ROOT_CODE:
            areas.ensure_root(db.session)
        existing = users.find_user(db.session, username)
        if existing is not None:
            users.grant_role(db.session, existing, role, area_code)
            user = existing
        else:
            user = users.create_user(db.session, username, password, role=role,
                                     area_code=area_code, display_name=display_name)
        db.session.commit()
    except DomainError as error:
        db.session.rollback()
        raise click.ClickException(error.message) from error
    click.echo(f"user {user.username} (id {user.id}): {role} on {area_code}")


@demo_cli.command("load")
def load_demo():
    """Load the demo data (a second run adds nothing) and print the demo accounts."""
    summary = demo.load(db.session)
    demo_reports.load(db.session, upload_dir())
    summary.accounts += activities_demo.load(db.session)
    summary.accounts += merchants_demo.load(db.session)
    demo_payments.load(db.session)
    demo_honours.load(db.session)
    demo_payouts.load(db.session)
    db.session.commit()
    ledger.seal_all(db.session)
    click.echo("demo data loaded" if summary.created else "demo data already present")
    print_accounts(summary.accounts + list(demo_reports.ACCOUNTS))


def print_accounts(accounts) -> None:
    """People first, then each merchant till account with the shop it runs."""
    people = [row for row in accounts if row[1] != "merchant"]
    tills = [row for row in accounts if row[1] == "merchant"]
    click.echo(f"demo accounts (password for all: {demo.DEMO_PASSWORD}):")
    for name, role, area in people:
        click.echo(f"  {name:<28} {role:<10} {area}")
    if tills:
        click.echo("merchant till accounts (same password), each runs one shop "
                   "(/till and /merchant):")
        for name, role, shop in tills:
            click.echo(f"  {name:<28} {role:<10} {shop}")


@ledger_cli.command("expire-holds")
@click.option("--max-holds", default=500, show_default=True, type=click.IntRange(1, 10_000))
def expire_holds(max_holds):
    """Void holds past their deadline, so their points are spendable again (the worker's
    expire_holds job)."""
    expired = ledger.expire_holds(db.session, max_holds=max_holds)
    db.session.commit()
    ledger.seal_all(db.session)
    click.echo(f"expired {len(expired)} holds")


@ledger_cli.command("export")
@click.option("--format", "fmt", type=click.Choice(["beancount", "ledger", "csv"]),
              required=True)
@click.option("--output", type=click.Path(dir_okay=False, writable=True), default=None)
def export(fmt, output):
    """Write the whole journal as a Beancount file, a ledger/hledger journal or CSV: each
    entry with its chain link, and last a comment line with the ledger's signed head."""
    # The exporter asks the Session itself whether a transaction is open (to read one
    # snapshot); the scoped_session proxy does not answer that, so hand it the Session.
    from .. import trust

    session = db.session()
    signer = trust.signer()
    if output:
        with open(output, "w", encoding="utf-8", newline="") as stream:
            ledger_export.write(session, fmt, stream, signer)
    else:
        ledger_export.write(session, fmt, sys.stdout, signer)


@reports_cli.command("escalate")
@click.option("--max-reports", default=reports.MAX_ESCALATIONS_PER_RUN, show_default=True,
              type=click.IntRange(1, 100_000))
def escalate(max_reports):
    """Move overdue reports one area level up (the worker's escalate_reports job; safe even
    twice at once)."""
    escalated = reports.escalate_overdue(db.session, max_reports=max_reports)
    db.session.commit()
    click.echo(f"escalated {len(escalated)} reports")


def register_commands(app) -> None:
    from . import db_roles, trust  # noqa: F401  (jindou db roles; ledger verify, seal, head)
    from .honours import ranking_cli
    from .merchants import merchants_cli, vouchers_cli
    from .organisation import COMMANDS, register_user_commands
    from .payouts import payouts_cli
    from .worker import worker

    if "grant" not in users_cli.commands:
        register_user_commands(users_cli)

    for group in (users_cli, demo_cli, ledger_cli, reports_cli, vouchers_cli, merchants_cli,
                  ranking_cli, payouts_cli, worker, *COMMANDS):
        app.cli.add_command(group)
