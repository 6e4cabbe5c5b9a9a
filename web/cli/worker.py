"""``jindou worker``: the periodic jobs of ``jobs/`` in this app's configuration and
database (CONTRACT section 6)."""

from __future__ import annotations

import logging
import sys

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy.orm import sessionmaker

import jobs
import jobs.heads
from jobs import catalogue

from .. import trust
from ..extensions import db

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def worker_sessions(bind) -> sessionmaker:
    """Sessions for the jobs, usable from the scheduler's threads (no app context needed). On
    a connection already inside a transaction (a test's) each works in a SAVEPOINT of it."""
    return sessionmaker(bind=bind, join_transaction_mode="create_savepoint")


@click.command("worker")
@click.option("--once", is_flag=True, help="run every job that is due once, then exit")
@click.option("--all", "everything", is_flag=True,
              help="with --once: run every job, due or not")
@with_appcontext
def worker(once, everything):
    """Run the periodic jobs (escalate overdue reports, expire vouchers and holds, seal the
    ledger), each at its configured interval; safe beside other workers."""
    if everything and not once:
        raise click.UsageError("--all goes with --once")
    try:
        intervals = jobs.intervals(current_app.config, catalogue.JOBS)
        poll_seconds = jobs.poll_seconds(current_app.config)
    except jobs.BadSetting as error:
        raise click.ClickException(str(error)) from error
    sessions = worker_sessions(db.engine)
    jobs.heads.configure(jobs.heads.Publishing(
        trust.signer(), trust.heads_dir(), current_app.config.get("JINDOU_LEDGER_HEADS_COPY_TO")))
    if once:
        outcomes = jobs.run_once(sessions, intervals, everything=everything)
        for outcome in outcomes:
            click.echo(outcome.line())
        if any(outcome.status == jobs.FAILED for outcome in outcomes):
            sys.exit(1)
        return
    logging.basicConfig(level=logging.INFO, format=LOG_FORMAT)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    # SQLite takes one writer at a time: one job at a time there; PostgreSQL runs them side
    # by side, so a long sweep never holds back sealing.
    threads = 1 if db.engine.dialect.name == "sqlite" else len(catalogue.JOBS)
    jobs.run_forever(sessions, intervals, poll_seconds=poll_seconds, threads=threads)
