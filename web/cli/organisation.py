"""``jindou audit``, ``jindou areas``, ``jindou departments`` and the account commands of
``jindou users``: the same services as the /admin pages and the API. The command line acts as
the operator (no user behind it); what it changes is logged with the address ``cli``."""

from __future__ import annotations

import json
import sys

import click
from flask.cli import AppGroup

from volunteers import audit
from volunteers.errors import DomainError

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


COMMANDS = (audit_cli,)
