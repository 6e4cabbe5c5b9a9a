"""Publishing the ledger's signed heads (``ledger.heads``) where the database cannot reach:
a directory (``JINDOU_LEDGER_HEADS_DIR``) and, where configured, an outside place
(``JINDOU_LEDGER_HEADS_COPY_TO``: another directory, say a volume mounted from elsewhere, or an
``https://`` URL that takes a PUT, such as an object store's pre-signed URL prefix). The worker
(``jindou worker``) configures it with the key; the jobs in ``catalogue`` call it."""

from __future__ import annotations

import json
import os
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.orm import Session

from ledger import heads

PUT_TIMEOUT_SECONDS = 20


@dataclass(frozen=True)
class Publishing:
    signer: heads.Signer
    directory: Path
    copy_to: str | None = None


_publishing: Publishing | None = None


def configure(publishing: Publishing | None) -> None:
    global _publishing
    _publishing = publishing


def configured() -> Publishing:
    if _publishing is None:
        raise RuntimeError("no ledger signing key configured (jindou worker configures it)")
    return _publishing


def file_name(head: dict) -> str:
    stamp = head["at"].replace("-", "").replace(":", "")
    return f"head-{head['tree_size']:012d}-{stamp}.json"


def document(head: dict) -> bytes:
    return (json.dumps(head, indent=2, sort_keys=True) + "\n").encode()


def write(directory: Path, head: dict, manifest: bytes | None = None) -> Path:
    """Write ``head`` into ``directory`` atomically (a reader never sees half a file), its
    accounts manifest (``heads.head_and_manifest``) first, beside it."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / file_name(head)
    if manifest is not None:
        _write_atomically(heads.manifest_path(path), manifest)
    _write_atomically(path, document(head))
    return path


def _write_atomically(path: Path, data: bytes) -> None:
    partial = path.with_name(path.name + ".partial")
    partial.write_bytes(data)
    os.replace(partial, path)


def copy(head: dict, target: str, manifest: bytes | None = None) -> str:
    if target.startswith(("https://", "http://")):
        url = target.rstrip("/") + "/" + file_name(head)
        if manifest is not None:
            _put(heads.manifest_path(Path(file_name(head))).name, target, manifest)
        _put(file_name(head), target, document(head))
        return url
    return str(write(Path(target), head, manifest))


def _put(name: str, target: str, data: bytes) -> None:
    url = target.rstrip("/") + "/" + name
    request = urllib.request.Request(url, data=data, method="PUT",
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=PUT_TIMEOUT_SECONDS) as response:
        response.read()


def publish(session: Session) -> dict:
    """Sign the current head, keep it in the database, write it to the directory and copy it
    out; commits."""
    publishing = configured()
    head, manifest = heads.head_and_manifest(session, publishing.signer)
    heads.record(session, head)
    session.commit()
    write(publishing.directory, head, manifest)
    if publishing.copy_to:
        copy(head, publishing.copy_to, manifest)
    return head


def record_after_seal(session: Session) -> None:
    """After a seal: a signed head kept in the database, so that ``verify`` can name where a
    rewrite starts to the seal (no file: publishing is daily)."""
    if _publishing is None:
        return
    heads.record(session, heads.current_head(session, _publishing.signer))
    session.commit()
