"""Photos and short videos attached to reports. A photo is decoded for real (Pillow), turned
upright, re-encoded as JPEG at a display and a thumbnail size: what is stored carries no EXIF,
no GPS and no other metadata of the original, which is never written to disk. A video is
remuxed by ffmpeg with every metadata tag dropped (a phone writes the place it was filmed)."""

from __future__ import annotations

import io
import secrets
import shutil
import subprocess
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageOps, UnidentifiedImageError

from volunteers.errors import Invalid

MAX_PHOTOS = 9
MAX_PHOTO_BYTES = 10 * 1024 * 1024
MAX_VIDEO_BYTES = 20 * 1024 * 1024
MAX_IMAGE_PIXELS = 40_000_000
DISPLAY_EDGE_PIXELS = 1600
THUMBNAIL_EDGE_PIXELS = 400
JPEG_QUALITY = 85
PHOTO_FORMATS = ("JPEG", "PNG", "WEBP", "GIF", "BMP", "MPO")
# Sniffed from the bytes, never from the name: ISO media (mp4, mov, 3gp) and WebM (EBML).
VIDEO_SIGNATURES = {"video/mp4": (4, b"ftyp"), "video/webm": (0, b"\x1a\x45\xdf\xa3")}
VIDEO_SUFFIXES = {"video/mp4": ".mp4", "video/webm": ".webm"}
FFMPEG = "ffmpeg"
VIDEO_CLEANING_TIMEOUT_SECONDS = 60


@dataclass(frozen=True)
class Upload:
    """What a request carried: its bytes and the name the client gave (only for messages)."""

    filename: str
    data: bytes


@dataclass(frozen=True)
class StoredMedia:
    kind: str
    stored_name: str
    thumbnail_name: str | None
    content_type: str
    size_bytes: int
    width: int | None
    height: int | None


def check_count(photos: list[Upload], video: Upload | None) -> None:
    if len(photos) > MAX_PHOTOS:
        raise Invalid("too many photos", errors={"photos": [f"at most {MAX_PHOTOS} photos"]})
    if photos and video is not None:
        raise Invalid("photos or one video", errors={"video": ["send photos or one video"]})


def decode_photo(upload: Upload) -> Image.Image:
    """The decoded picture, or a validation error naming the file."""
    field = {"photos": [f"{upload.filename or 'photo'}: not a photo we can read"]}
    if len(upload.data) > MAX_PHOTO_BYTES:
        raise Invalid("photo too large", errors={
            "photos": [f"{upload.filename}: at most {MAX_PHOTO_BYTES // (1024 * 1024)} MB"]})
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            Image.MAX_IMAGE_PIXELS = MAX_IMAGE_PIXELS
            probe = Image.open(io.BytesIO(upload.data))
            if probe.format not in PHOTO_FORMATS:
                raise Invalid("unsupported image format", errors=field)
            probe.verify()
            image = Image.open(io.BytesIO(upload.data))
            image.load()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError,
            Image.DecompressionBombWarning, Image.DecompressionBombError) as error:
        raise Invalid("not an image", errors=field) from error
    return image


def clean_copy(image: Image.Image, edge_pixels: int) -> bytes:
    """A JPEG of the picture, upright, at most ``edge_pixels`` on its longer side, with no
    metadata: only pixels are copied into a fresh image."""
    upright = ImageOps.exif_transpose(image) or image
    rgb = upright.convert("RGB")
    rgb.thumbnail((edge_pixels, edge_pixels))
    fresh = Image.new("RGB", rgb.size)
    fresh.paste(rgb)
    out = io.BytesIO()
    fresh.save(out, "JPEG", quality=JPEG_QUALITY, optimize=True)
    return out.getvalue()


def video_type(upload: Upload) -> str:
    if len(upload.data) > MAX_VIDEO_BYTES:
        raise Invalid("video too large", errors={
            "video": [f"at most {MAX_VIDEO_BYTES // (1024 * 1024)} MB"]})
    for content_type, (offset, signature) in VIDEO_SIGNATURES.items():
        if upload.data[offset:offset + len(signature)] == signature:
            return content_type
    raise Invalid("not a video", errors={"video": ["an MP4, MOV or WebM video"]})


def prepare_photos(photos: list[Upload]) -> list[tuple[bytes, bytes, tuple[int, int]]]:
    """Every photo checked and cleaned before anything is stored: one bad file stores none."""
    prepared = []
    for upload in photos:
        image = decode_photo(upload)
        display = clean_copy(image, DISPLAY_EDGE_PIXELS)
        thumbnail = clean_copy(image, THUMBNAIL_EDGE_PIXELS)
        size = Image.open(io.BytesIO(display)).size
        prepared.append((display, thumbnail, size))
    return prepared


def clean_video(data: bytes, content_type: str) -> bytes:
    """The video remuxed without global, stream or chapter metadata (location, device, times),
    its first video and audio streams copied as they are. A file ffmpeg cannot read is refused
    as not a video, whatever its first bytes say."""
    ffmpeg = shutil.which(FFMPEG)
    if ffmpeg is None:
        raise Invalid("videos need ffmpeg on the server", errors={
            "video": ["videos cannot be accepted here; please send photos"]})
    suffix = VIDEO_SUFFIXES[content_type]
    with tempfile.TemporaryDirectory(prefix="jindou-video-") as work:
        source, target = Path(work) / f"in{suffix}", Path(work) / f"out{suffix}"
        source.write_bytes(data)
        command = [ffmpeg, "-nostdin", "-loglevel", "error", "-i", str(source),
                   "-map", "0:v:0", "-map", "0:a:0?", "-c", "copy",
                   "-map_metadata", "-1", "-map_metadata:s", "-1", "-map_chapters", "-1",
                   "-fflags", "+bitexact", str(target)]
        try:
            result = subprocess.run(command, capture_output=True,
                                    timeout=VIDEO_CLEANING_TIMEOUT_SECONDS, check=False)
        except subprocess.TimeoutExpired as error:
            raise Invalid("video took too long", errors={"video": ["a shorter video"]}) from error
        if result.returncode != 0 or not target.exists() or target.stat().st_size == 0:
            raise Invalid("not a video", errors={"video": ["an MP4, MOV or WebM video"]})
        return target.read_bytes()


def store(directory: Path, photos: list[Upload], video: Upload | None) -> list[StoredMedia]:
    check_count(photos, video)
    prepared = prepare_photos(photos)
    content_type = video_type(video) if video is not None else None
    cleaned_video = clean_video(video.data, content_type) if video is not None else None
    directory.mkdir(parents=True, exist_ok=True)
    stored = []
    for display, thumbnail, (width, height) in prepared:
        name, thumb = _write(directory, display, ".jpg"), _write(directory, thumbnail, ".jpg")
        stored.append(StoredMedia("photo", name, thumb, "image/jpeg", len(display),
                                  width, height))
    if video is not None:
        name = _write(directory, cleaned_video, VIDEO_SUFFIXES[content_type])
        stored.append(StoredMedia("video", name, None, content_type, len(cleaned_video),
                                  None, None))
    return stored


def _write(directory: Path, data: bytes, suffix: str) -> str:
    name = secrets.token_hex(16) + suffix
    (directory / name).write_bytes(data)
    return name


def path_of(directory: Path, stored_name: str) -> Path:
    """The file of a stored name; names are ours (hex and a suffix), never a client's path."""
    assert "/" not in stored_name and not stored_name.startswith(".")
    return directory / stored_name
