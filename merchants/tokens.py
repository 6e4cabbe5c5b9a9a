"""What a voucher's QR code carries, and the short code a person types.

A token is ``JD1:<voucher id in base 36>:<24 base32 characters of HMAC-SHA256>``: uppercase
letters, digits and ``:`` only, so the QR encoder uses its alphanumeric mode and a voucher fits
a version 2 code at error correction M (cheap phones and dim screens read it). No JWT: a
header, a payload and a signature in base64 would triple the size for nothing. The MAC covers
the version and the id with a key the domain is given (``JINDOU_VOUCHER_KEY``), so a token can
be neither forged nor altered, and a truncated one fails the length check first.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets

from .errors import VoucherInvalid

TOKEN_PREFIX = "JD1"
MAC_BYTES = 15  # 120 bits, 24 base32 characters
MAC_CHARACTERS = 24
MAX_TOKEN_LENGTH = 60
MAX_VOUCHER_ID = 36**10 - 1
BASE36 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
# Short codes leave out 0/O, 1/I/L: what a cashier misreads on a screen or a receipt.
SHORT_CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
SHORT_CODE_LENGTH = 8
TOKEN_PATTERN = re.compile(r"^JD1:([0-9A-Z]{1,10}):([A-Z2-7]{24})$")


def _key_bytes(key: str | bytes) -> bytes:
    if not key:
        raise ValueError("a voucher key is required")
    return key.encode("utf-8") if isinstance(key, str) else key


def _mac(key: str | bytes, voucher_id: int) -> str:
    message = f"{TOKEN_PREFIX}:{voucher_id}".encode("ascii")
    digest = hmac.new(_key_bytes(key), message, hashlib.sha256).digest()[:MAC_BYTES]
    return base64.b32encode(digest).decode("ascii")


def _base36(number: int) -> str:
    digits = ""
    while True:
        number, remainder = divmod(number, 36)
        digits = BASE36[remainder] + digits
        if number == 0:
            return digits


def sign(key: str | bytes, voucher_id: int) -> str:
    """The token of a voucher."""
    if not 0 < voucher_id <= MAX_VOUCHER_ID:
        raise ValueError(f"voucher id out of range: {voucher_id}")
    token = f"{TOKEN_PREFIX}:{_base36(voucher_id)}:{_mac(key, voucher_id)}"
    assert len(token) <= MAX_TOKEN_LENGTH
    return token


def verify(key: str | bytes, token: str) -> int:
    """The voucher id a token names, or ``VoucherInvalid``."""
    match = TOKEN_PATTERN.match((token or "").strip().upper())
    if match is None:
        raise VoucherInvalid("not a voucher token")
    voucher_id = int(match.group(1), 36)
    if voucher_id == 0 or not hmac.compare_digest(match.group(2), _mac(key, voucher_id)):
        raise VoucherInvalid("the voucher's signature does not match")
    return voucher_id


def looks_like_token(code: str) -> bool:
    return (code or "").strip().upper().startswith(TOKEN_PREFIX + ":")


def new_short_code() -> str:
    return "".join(secrets.choice(SHORT_CODE_ALPHABET) for _ in range(SHORT_CODE_LENGTH))


def normalise_short_code(code: str) -> str | None:
    """What a person typed, as stored: spaces and dashes dropped, upper case; None if it
    cannot be a short code."""
    cleaned = re.sub(r"[\s-]", "", code or "").upper()
    if len(cleaned) != SHORT_CODE_LENGTH or any(c not in SHORT_CODE_ALPHABET for c in cleaned):
        return None
    return cleaned


def display_short_code(code: str) -> str:
    """``ABCD-EFGH``: two groups are easier to read aloud and to type."""
    half = SHORT_CODE_LENGTH // 2
    return f"{code[:half]}-{code[half:]}"


# --- the QR image -----------------------------------------------------------------------------

QR_BOX_PIXELS = 12
QR_BORDER_MODULES = 4  # the quiet zone the QR standard asks for


def _qr(token: str):
    import qrcode
    from qrcode.constants import ERROR_CORRECT_M

    code = qrcode.QRCode(error_correction=ERROR_CORRECT_M, box_size=QR_BOX_PIXELS,
                         border=QR_BORDER_MODULES)
    code.add_data(token, optimize=0)
    code.make(fit=True)
    return code


def qr_version(token: str) -> int:
    return _qr(token).version


def qr_png(token: str) -> bytes:
    """Black on white PNG, big enough for a phone held to a till's camera."""
    import io

    from qrcode.image.pil import PilImage

    buffer = io.BytesIO()
    _qr(token).make_image(image_factory=PilImage, fill_color="black",
                          back_color="white").save(buffer, format="PNG")
    return buffer.getvalue()


def qr_svg(token: str) -> bytes:
    import io

    from qrcode.image.svg import SvgPathFillImage

    buffer = io.BytesIO()
    _qr(token).make_image(image_factory=SvgPathFillImage).save(buffer)
    return buffer.getvalue()
