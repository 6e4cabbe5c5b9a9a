"""Payment details encrypted at rest (``cryptography``'s Fernet: AES-128-CBC + HMAC-SHA256).

The key comes from the environment (``JINDOU_PAYMENT_DETAILS_KEY``, or a secret generated
once into the instance folder, like the app's other keys); the app hands it over with
``configure`` at start. Any secret string will do: the Fernet key is its SHA-256, so a
hex token and a Fernet key both work. Only masked forms are ever shown."""

from __future__ import annotations

import base64
import hashlib
import json

from cryptography.fernet import Fernet, InvalidToken

from .errors import NoPaymentKey

_fernet: Fernet | None = None


def configure(secret: str | None) -> None:
    global _fernet
    _fernet = Fernet(base64.urlsafe_b64encode(hashlib.sha256(secret.encode()).digest())) \
        if secret else None


def _cipher() -> Fernet:
    if _fernet is None:
        raise NoPaymentKey("no payment details key is configured (JINDOU_PAYMENT_DETAILS_KEY)")
    return _fernet


def seal(document: dict) -> str:
    return _cipher().encrypt(json.dumps(document, ensure_ascii=False).encode()).decode()


def unseal(token: str) -> dict:
    try:
        return json.loads(_cipher().decrypt(token.encode()))
    except InvalidToken as error:
        raise NoPaymentKey("the payment details key does not open these details") from error


def mask_account(account: str) -> str:
    """An account shown masked: 138****5678, z***@example.com, 6222 **** **** 1234."""
    if "@" in account:
        name, _, domain = account.partition("@")
        return f"{name[:1]}***@{domain}"
    digits = account.replace(" ", "")
    if len(digits) <= 4:
        return "*" * len(digits)
    if len(digits) >= 12:
        return f"{digits[:4]} **** **** {digits[-4:]}"
    return f"{digits[:3]}****{digits[-4:]}"


def mask_name(name: str) -> str:
    """张*明, 王*, an organisation kept whole after its first two characters masked."""
    if len(name) <= 1:
        return name
    if len(name) == 2:
        return name[0] + "*"
    if len(name) <= 4:
        return name[0] + "*" * (len(name) - 2) + name[-1]
    return name[:2] + "*" * (len(name) - 4) + name[-2:]
