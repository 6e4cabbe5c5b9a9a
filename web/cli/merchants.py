"""``jindou vouchers ...`` and ``jindou merchants ...``: the merchant alliance's commands
(``jindou worker`` runs the voucher expiry on its own)."""

from __future__ import annotations

import click
from flask.cli import AppGroup

import ledger
from merchants import settlement, vouchers
from volunteers.errors import DomainError

from ..extensions import db

vouchers_cli = AppGroup("vouchers", help="Vouchers of the merchant alliance.")
merchants_cli = AppGroup("merchants", help="The merchant alliance: settlement.")


@vouchers_cli.command("expire")
@click.option("--max-vouchers", default=vouchers.MAX_EXPIRED_PER_RUN, show_default=True,
              type=click.IntRange(1, 10_000))
def expire(max_vouchers):
    """Mark vouchers past their deadline expired and void their holds, so the points are
    spendable again (the worker's expire_vouchers job; a second run finds nothing to do)."""
    total = 0
    while True:
        count = vouchers.expire_vouchers(db.session, max_vouchers=max_vouchers)
        db.session.commit()
        total += count
        if count < max_vouchers:
            break
    ledger.seal_all(db.session)
    click.echo(f"expired {total} vouchers")


@merchants_cli.command("settle")
@click.option("--period", default=None, help="the month to settle, YYYY-MM (default: last month)")
@click.option("--programme", "programme_code", default=None, help="only this programme")
def settle(period, programme_code):
    """Post what each programme owes its merchants for the points accepted up to the end of
    PERIOD and not yet settled (a second run for the same month adds nothing)."""
    period = period or settlement.previous_period()
    try:
        outcomes = settlement.settle(db.session, None, period, programme_code=programme_code)
        db.session.commit()
    except DomainError as error:
        db.session.rollback()
        raise click.ClickException(error.message) from error
    ledger.seal_all(db.session)
    if not outcomes:
        click.echo(f"{period}: nothing to settle")
    for outcome in outcomes:
        found = outcome.settlement
        if found is None:
            click.echo(f"{period} merchant {outcome.merchant_id} {outcome.merchant_name}: "
                       f"skipped ({outcome.problem})")
            continue
        verb = "settled" if outcome.created else "already settled"
        click.echo(f"{period} merchant {outcome.merchant_id} {outcome.merchant_name}: {verb} "
                   f"{found.points} points = {found.amount_fen} fen "
                   f"(settlement {found.id}, {found.status})")


@merchants_cli.command("rate")
@click.option("--programme", "programme_code", required=True)
@click.option("--fen-per-point", type=click.IntRange(1, settlement.MAX_FEN_PER_POINT),
              required=True, help="what the programme pays a merchant for one accepted point")
@click.option("--merchant", "merchant_id", type=int, default=None,
              help="only this merchant (default: every merchant of the programme)")
def rate(programme_code, fen_per_point, merchant_id):
    """Set the settlement rate of a programme, or of one of its merchants."""
    try:
        admin = _system_admin()
        settlement.set_rate(db.session, admin, programme_code, fen_per_point, merchant_id)
        db.session.commit()
    except DomainError as error:
        db.session.rollback()
        raise click.ClickException(error.message) from error
    scope = f"merchant {merchant_id}" if merchant_id else "every merchant"
    click.echo(f"{programme_code}: {fen_per_point} fen per point for {scope}")


def _system_admin():
    """The CLI acts with the powers of the root administrator (whoever runs it holds the
    server)."""
    from volunteers.models import RoleGrant, User

    for user in db.session.scalars(db.select(User).join(RoleGrant).where(
            RoleGrant.role == "admin").order_by(User.id)):
        if any(grant.role == "admin" and grant.area.level == "root" for grant in user.grants):
            return user
    raise click.ClickException("no administrator at the root: jindou users create ... "
                               "--role admin --area root")
