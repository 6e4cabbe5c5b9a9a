"""``jindou payouts prepare|approve|export|import-results``: payout runs from the command
line, with the same services and checks as /api/v1/payout-runs (``--as`` names the
administrator; approving needs another one than the preparer)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import click
from flask.cli import AppGroup
from sqlalchemy import select

from payouts import files, runs
from payouts.models import ITEM_KINDS
from volunteers.errors import DomainError
from volunteers.models import User

from ..extensions import db
from ..transactions import commit

payouts_cli = AppGroup("payouts", help="Payout runs: cash-outs, bonuses and settlements paid.")


def _user(username: str) -> User:
    user = db.session.scalar(select(User).where(User.username == username))
    if user is None:
        raise click.ClickException(f"no user {username}")
    return user


def _fail(error: DomainError):
    db.session.rollback()
    raise click.ClickException(f"{error.code}: {error.message}") from error


def _summary(document: dict) -> None:
    click.echo(f"run {document['id']} ({document['programme']}): {document['status']}, "
               f"{document['lines']} lines, {files.yuan_text(document['total_fen'])} yuan "
               f"(paid {files.yuan_text(document['paid_fen'])}, failed "
               f"{files.yuan_text(document['failed_fen'])}); channels "
               f"{', '.join(document['channels']) or '-'}")


@payouts_cli.command("prepare")
@click.option("--programme", "code", required=True)
@click.option("--kinds", default=",".join(ITEM_KINDS), show_default=True,
              help="comma-separated: cash_out, bonus, settlement")
@click.option("--up-to", "up_to", default=None, help="owed since at most (ISO date-time)")
@click.option("--as", "username", required=True, help="the administrator preparing the run")
def prepare(code, kinds, up_to, username):
    """Gather the programme's owed lines into a run (a second administrator approves it)."""
    try:
        moment = datetime.fromisoformat(up_to) if up_to else None
    except ValueError as error:
        raise click.BadParameter("an ISO date-time, e.g. 2026-12-31T23:59:59+08:00",
                                 param_hint="--up-to") from error
    try:
        prepared = runs.prepare(db.session, _user(username), code,
                                kinds=[k.strip() for k in kinds.split(",") if k.strip()],
                                up_to=moment)
        document = runs.run_document(db.session, prepared.run, prepared.waiting)
        commit()
    except DomainError as error:
        _fail(error)
    _summary(document)
    for waiting in document["waiting"]:
        click.echo(f"  waiting for payment details: {waiting['kind']} {waiting['payee_name']} "
                   f"{files.yuan_text(waiting['amount_fen'])} yuan")


@payouts_cli.command("approve")
@click.option("--run", "run_id", type=click.IntRange(1), required=True)
@click.option("--as", "username", required=True, help="a second administrator")
def approve(run_id, username):
    """Approve a run someone else prepared."""
    try:
        run = runs.approve(db.session, _user(username), run_id)
        document = runs.run_document(db.session, run)
        commit()
    except DomainError as error:
        _fail(error)
    _summary(document)


@payouts_cli.command("export")
@click.option("--run", "run_id", type=click.IntRange(1), required=True)
@click.option("--channel", type=click.Choice(files.CHANNELS), required=True)
@click.option("--format", "fmt", type=click.Choice(files.FORMATS), default="csv",
              show_default=True)
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path), required=True)
@click.option("--as", "username", required=True)
def export(run_id, channel, fmt, output, username):
    """Write the approved run's batch-transfer file for one channel."""
    try:
        data, _name = runs.export_file(db.session, _user(username), run_id, channel, fmt)
    except DomainError as error:
        _fail(error)
    output.write_bytes(data)
    click.echo(f"wrote {output} ({len(data)} bytes)")


@payouts_cli.command("import-results")
@click.option("--run", "run_id", type=click.IntRange(1), required=True)
@click.option("--file", "path", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              required=True, help="the channel's result file (CSV or XLSX)")
@click.option("--as", "username", required=True)
def import_results(run_id, path, username):
    """Settle the run's lines from the channel's result file: all or nothing."""
    try:
        run = runs.import_results(db.session, _user(username), run_id,
                                  path.read_bytes()[:files.MAX_RESULT_BYTES + 1], path.name)
        document = runs.run_document(db.session, run)
        commit()
    except DomainError as error:
        _fail(error)
    _summary(document)
