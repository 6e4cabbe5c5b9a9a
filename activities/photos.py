"""Fulfilment photos: decoded with Pillow (whatever the file name says), bounded in bytes
and pixels, turned upright, and re-encoded as a JPEG that carries no EXIF (no GPS, no
camera serial) and no other metadata."""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

from PIL import Image, ImageOps, UnidentifiedImageError

from volunteers.errors import Invalid

MAX_UPLOAD_BYTES = 8 * 1024 * 1024
MAX_SOURCE_PIXELS = 40_000_000
MAX_EDGE_PIXELS = 1600
JPEG_QUALITY = 82
ACCEPTED_FORMATS = ("JPEG", "PNG", "WEBP", "GIF", "MPO")
MAX_PHOTOS = 4


@dataclass(frozen=True)
class CleanPhoto:
    data: bytes
    width: int
    height: int
    content_type: str = "image/jpeg"


def _refuse(message: str) -> Invalid:
    return Invalid(message, errors={"photo": [message]})


def clean_photo(raw: bytes) -> CleanPhoto:
    if not raw:
        raise _refuse("the photo is empty")
    if len(raw) > MAX_UPLOAD_BYTES:
        raise _refuse(f"a photo may be at most {MAX_UPLOAD_BYTES // (1024 * 1024)} MB")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(raw)) as probe:
                if probe.format not in ACCEPTED_FORMATS:
                    raise _refuse("send a JPEG, PNG, WebP or GIF photo")
                if probe.width * probe.height > MAX_SOURCE_PIXELS:
                    raise _refuse("the photo has too many pixels")
                probe.verify()
            with Image.open(io.BytesIO(raw)) as image:
                image.load()
                upright = ImageOps.exif_transpose(image).convert("RGB")
    except Invalid:
        raise
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError,
            Image.DecompressionBombWarning, Image.DecompressionBombError):
        raise _refuse("this file is not a photo we can read") from None
    upright.thumbnail((MAX_EDGE_PIXELS, MAX_EDGE_PIXELS))
    output = io.BytesIO()
    upright.save(output, "JPEG", quality=JPEG_QUALITY, optimize=True)
    return CleanPhoto(output.getvalue(), upright.width, upright.height)
