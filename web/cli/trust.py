"""``jindou ledger verify | seal | head``: the verifiable ledger from the command line (issue
14, CONTRACT section 6). ``verify`` reads and never writes; ``seal`` (and the worker) are the
only sealers."""

from __future__ import annotations

import sys
from pathlib import Path

import click

import ledger
from jobs import heads as publishing
from ledger import audit, heads

from .. import trust
from ..extensions import db
from . import ledger_cli


def _anchors_from_files(paths, key_ids: list[str],
                        notes: list[str]) -> list[audit.Anchor]:
    """Each --anchor file as a head of this ledger (with its accounts manifest when one is
    beside it); exit 2 with one line for one that is not."""
    anchors = []
    for path in paths:
        try:
            head = heads.parse(Path(path).read_bytes())
        except OSError as error:
            _bad_anchor(path, error.strerror or str(error))
        except heads.BadHead as error:
            _bad_anchor(path, str(error))
        if head["key_id"] not in key_ids:
            _bad_anchor(path, f"not this ledger: signed by key {head['key_id']}, "
                              f"this ledger's key is {', '.join(key_ids)}")
        anchor, note = trust.anchor_of(Path(path), head, f"the anchor {path}")
        anchors.append(anchor)
        notes.extend([note] if note else [])
    return anchors


def _bad_anchor(path, reason: str):
    click.echo(f"bad anchor {path}: {reason}", err=True)
    sys.exit(2)


@ledger_cli.command("verify")
@click.option("--anchor", "anchor_files", multiple=True, type=click.Path(dir_okay=False),
              help="a signed head (jindou ledger head) the log must still be consistent with; "
                   "repeatable. Without it: the published heads and the newest ranking "
                   "snapshot's chain link.")
@click.option("--key-id", "key_ids", multiple=True,
              help="trust heads signed by this key id (repeatable); default: the key this "
                   "instance signs with. An auditor without the private key names it here.")
def verify(anchor_files, key_ids):
    """Check balances, postings, totals, the hash chain and the Merkle tree, and that the log
    is consistent with signed heads. Reads only: queued entries are checked, not sealed."""
    key_ids = list(key_ids) or [trust.signer().key_id]
    notes: list[str] = []
    chain_anchors = []
    if anchor_files:
        anchors = _anchors_from_files(anchor_files, key_ids, notes)
    else:
        anchors, notes = trust.published_anchors(key_ids)
        chain_anchors = trust.snapshot_anchor(db.session)
    report = ledger.verify(db.session, anchors=anchors, trusted_key_ids=key_ids,
                           chain_anchors=chain_anchors)
    db.session.rollback()
    for note in notes:
        click.echo(f"note: {note}", err=True)
    if report.ok:
        line = f"ok: {report.entries} entries verified"
        if report.anchors:
            line += f", consistent with {report.anchors} signed head(s)"
        if report.queued:
            line += f"; {report.queued_line()}"
        click.echo(line)
        return
    first = report.first()
    click.echo(f"bad: {first}", err=True)
    if len(report.problems) > 1:
        click.echo(f"({len(report.problems) - 1} more problems)", err=True)
    if report.queued:
        click.echo(report.queued_line(), err=True)
    sys.exit(1)


@ledger_cli.command("seal")
def seal():
    """Link entries still queued into the hash chain and the Merkle tree, and keep a signed
    head of the result."""
    sealed = ledger.seal_all(db.session)
    if sealed:
        heads.record(db.session, heads.current_head(db.session, trust.signer()))
        db.session.commit()
    click.echo(f"sealed {sealed} entries")


@ledger_cli.command("head")
@click.option("--output", type=click.Path(dir_okay=False, writable=True), default=None,
              help="write the head to FILE instead of standard output")
def head(output):
    """Print the ledger's signed head: {tree_size, root_hash, entry_id, at, accounts_through,
    accounts_digest, key_id, public_key, signature}. Keep it somewhere the database cannot
    reach: it is an anchor for `jindou ledger verify --anchor`. With --output, the accounts
    manifest is written beside FILE (FILE.accounts.json) so that verify can name an account
    whose fixed fields changed."""
    signed, manifest = heads.head_and_manifest(db.session, trust.signer())
    heads.record(db.session, signed)
    db.session.commit()
    text = publishing.document(signed).decode()
    if output:
        Path(output).write_text(text, encoding="utf-8")
        heads.manifest_path(Path(output)).write_bytes(manifest)
        click.echo(f"head of {signed['tree_size']} entries written to {output}, its accounts "
                   f"manifest to {heads.manifest_path(Path(output))}")
    else:
        click.echo(text, nl=False)
