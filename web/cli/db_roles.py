"""``jindou db roles``: least privilege on PostgreSQL (issue 14). Prints, or with ``--apply``
runs, the SQL that makes an owner role (migrations) and an app role that owns nothing (the
application's connection); ``ledger.ddl.roles_sql`` says what each may do."""

from __future__ import annotations

import click
from flask.cli import with_appcontext
from flask_migrate.cli import db as db_group
from sqlalchemy import text

from ledger import Base, ddl

from ..extensions import db


@db_group.command("roles")
@click.option("--owner", default="jindou_owner", show_default=True,
              help="the role that owns the schema and runs `jindou db upgrade`")
@click.option("--app", "app_role", default="jindou_app", show_default=True,
              help="the role the application connects as (JINDOU_DATABASE_URL)")
@click.option("--no-create", is_flag=True, help="the roles exist already: only grant")
@click.option("--apply", "apply_", is_flag=True,
              help="run the SQL on this database (as a superuser) instead of printing it")
@with_appcontext
def roles(owner, app_role, no_create, apply_):
    """The SQL for an owner role and an app role that owns nothing (PostgreSQL)."""
    if db.engine.dialect.name != "postgresql":
        raise click.ClickException("roles are PostgreSQL's; SQLite has none")
    for role in (owner, app_role):
        if not role.replace("_", "").isalnum():
            raise click.ClickException(f"{role!r}: letters, digits and _ only")
    statements = ddl.roles_sql(Base.metadata.tables, owner=owner, app=app_role,
                               database=db.engine.url.database, create=not no_create)
    if not apply_:
        click.echo("-- Set each role's password with \\password NAME in psql; then connect "
                   "the app as " + app_role + ".")
        click.echo("\n".join(statements))
        return
    with db.engine.begin() as connection:
        for statement in statements:
            connection.execute(text(statement))
    click.echo(f"roles {owner} (owner) and {app_role} (app) granted on "
               f"{db.engine.url.database}")
