"""Redirects only to our own paths: the one check for every ``next`` (sign-in, language) and
for a referrer we send someone back to. A browser drops tabs and new lines from a URL and reads
a backslash as a slash, so ``/%09/evil.example`` or ``/\\evil.example`` would leave the site:
anything but a plain path of ours is refused."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from flask import request

# Any control character, space, or backslash: a browser may read them as something else.
UNSAFE = re.compile(r"[\x00-\x20\x7f\\]")


def own_path(target: str | None) -> str | None:
    """``target`` when it is a path on this site ("/wallet?x=1"), else None."""
    if not target or UNSAFE.search(target):
        return None
    if not target.startswith("/") or target.startswith("//"):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target


def next_target() -> str | None:
    """The request's ``next`` (query or form) when it is one of our paths."""
    return own_path(request.args.get("next") or request.form.get("next"))


def back_target(fallback: str) -> str:
    """Where to send someone back to: the referrer's path when it is this site's, else
    ``fallback``."""
    referrer = request.referrer or ""
    if referrer.startswith(request.host_url):
        path = own_path("/" + referrer[len(request.host_url):])
        if path is not None:
            return path
    return fallback
