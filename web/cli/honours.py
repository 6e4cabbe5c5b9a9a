"""``jindou ranking ...``: the year-end ranking from the command line (CONTRACT section 3)."""

from __future__ import annotations

import sys

import click
from flask.cli import AppGroup
from sqlalchemy import select

import ledger
from honours import bonuses, honours, ranking
from volunteers import access
from volunteers.errors import DomainError
from volunteers.models import User
from volunteers.programmes import get_programme

from .. import exports
from ..extensions import db

ranking_cli = AppGroup("ranking", help="Year-end honours: rank, publish, check, export.")


def _actor(username: str | None, programme) -> User:
    """The administrator the command acts as: named, or the first one over the programme."""
    if username:
        user = db.session.scalar(select(User).where(User.username == username))
        if user is None:
            raise click.ClickException(f"no user {username}")
        return user
    for user in db.session.scalars(select(User).order_by(User.id)):
        if access.holds(user, ranking.RANKING_ROLES, programme.area):
            return user
    raise click.ClickException(f"no administrator over {programme.area.code}; use --as")


class LazyBar:
    """A click progress bar opened on the first report, when the total is known."""

    def __init__(self, label: str):
        self.label, self.bar = label, None

    def __call__(self, steps: int, total: int) -> None:
        if self.bar is None:
            self.bar = click.progressbar(length=total, label=self.label)
            self.bar.__enter__()
        self.bar.update(steps)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.__exit__(None, None, None)


def _summary(year, code, summaries, eligible, position, bonus_total_fen) -> None:
    click.echo(f"{code} {year}: {eligible} eligible volunteers "
               f"(ledger position: entry {position[0]}, chain {position[1]})")
    for tier in summaries:
        span = (f"{tier.min_points}-{tier.max_points} points" if tier.count else "nobody")
        click.echo(f"  {tier.name} ({tier.key}): {tier.count} volunteers, {span}, "
                   f"bonus {tier.bonus_fen / 100:.2f} yuan each, "
                   f"{tier.bonus_total_fen / 100:.2f} yuan in all")
    click.echo(f"  bonuses: {bonus_total_fen / 100:.2f} yuan")


@ranking_cli.command("run")
@click.option("--programme", "code", required=True, help="the programme's code")
@click.option("--year", type=int, required=True)
@click.option("--publish", is_flag=True, help="publish the snapshot and pay the bonuses")
@click.option("--as", "username", default=None, help="the administrator acting (default: the "
              "first one over the programme's area)")
def run(code, year, publish, username):
    """Compute (and with --publish, publish) the year's honour tiers; print each tier."""
    try:
        programme = get_programme(db.session, code)
        actor = _actor(username, programme)
        if not publish:
            computed = ranking.compute(db.session, actor, code, year, limit=0)
            db.session.rollback()
            _summary(year, code, computed.tier_summaries(), computed.eligible_count,
                     (computed.position.entry_id, computed.position.chain_seq),
                     computed.bonus_total_fen)
            click.echo("preview only: nothing was published (add --publish)")
            return
        bar = LazyBar("publishing: rows and bonuses")
        try:
            snapshot = ranking.publish(db.session, actor, code, year, progress=bar)
            db.session.commit()
        finally:
            bar.close()
        ledger.seal_all(db.session)
    except DomainError as error:
        db.session.rollback()
        detail = f" (missing {error.missing_fen} fen)" if hasattr(error, "missing_fen") else ""
        raise click.ClickException(f"{error.code}: {error.message}{detail}") from error
    _summary(year, code, honours.tier_summaries(db.session, snapshot), snapshot.eligible_count,
             (snapshot.ledger_entry_id, snapshot.chain_seq), snapshot.bonus_total_fen)
    click.echo(f"published: snapshot {snapshot.id}; bonuses of {snapshot.bonus_total_fen / 100:.2f}"
               " yuan reserved, credited by the worker (jindou worker --once)")


@ranking_cli.command("check")
@click.option("--programme", "code", required=True)
@click.option("--year", type=int, required=True)
def check(code, year):
    """Recompute a published ranking from the journal up to its ledger position; any
    difference is printed and the exit status is 1."""
    try:
        bar = LazyBar("checking")
        try:
            differences = ranking.check(db.session, code, year, progress=bar)
        finally:
            bar.close()
    except DomainError as error:
        raise click.ClickException(f"{error.code}: {error.message}") from error
    if not differences:
        snapshot = ranking.get_snapshot(db.session, None, code, year)
        click.echo(f"ok: the {year} ranking of {code} matches the ledger up to entry "
                   f"{snapshot.ledger_entry_id} ({snapshot.eligible_count} rows); "
                   f"{bonuses.money_summary(db.session, snapshot)}")
        return
    for difference in differences[:50]:
        click.echo(f"differs: {difference}", err=True)
    if len(differences) > 50:
        click.echo(f"... and {len(differences) - 50} more", err=True)
    sys.exit(1)


@ranking_cli.command("export")
@click.option("--programme", "code", required=True)
@click.option("--year", type=int, required=True)
@click.option("--format", "fmt", type=click.Choice(["csv", "xlsx"]), default="csv",
              show_default=True)
@click.option("--output", type=click.Path(dir_okay=False, writable=True), required=True)
def export(code, year, fmt, output):
    """Write a published ranking's every row as CSV or Excel."""
    try:
        snapshot = ranking.get_snapshot(db.session, None, code, year)
    except DomainError as error:
        raise click.ClickException(f"{error.code}: {error.message}") from error
    table = exports.ranking_table(db.session, snapshot)
    with click.progressbar(length=len(table.rows), label="exporting") as bar:
        data = exports.render(table, fmt, progress=bar.update)
    with open(output, "wb") as stream:
        stream.write(data)
    click.echo(f"wrote {len(table.rows)} rows to {output}")
