"""Every input bounded at the edge, before a view runs: ids in a path no larger than the column
that keeps them, no NUL or other control characters in any text a request carries (path, query,
form, JSON), JSON no deeper than ``JSON_MAX_DEPTH`` and no larger than ``JSON_MAX_BYTES``.
A refusal is a 4xx with a stable code (``invalid_characters``, ``too_deep``,
``payload_too_large``), never a 500 from the database or the JSON parser."""

from __future__ import annotations

import re

from flask import Flask, request
from werkzeug.exceptions import BadRequest, NotFound
from werkzeug.routing import IntegerConverter

INT32_MAX = 2**31 - 1
JSON_MAX_DEPTH = 32
JSON_MAX_BYTES = 1024 * 1024
# C0 controls but tab, line feed and carriage return (text areas send them), DEL, and lone
# surrogates (no database can store them).
CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")
JSON_TYPES = ("application/json",)
# Headers whose values reach the database or the token lookup.
CHECKED_HEADERS = ("Idempotency-Key", "Authorization")


class InputRefused(BadRequest):
    """A 400 whose ``jindou_code`` is the stable code the error body carries."""

    def __init__(self, code: str, description: str, errors: dict | None = None):
        super().__init__(description)
        self.jindou_code = code
        self.errors = errors


class BoundedIntegerConverter(IntegerConverter):
    """``<int:...>`` that does not match an id no ``Integer`` column can hold: 404, as for any
    id that does not exist, instead of an overflow in the database. The OpenAPI document (the
    converter's ``max``) says so."""

    def __init__(self, map, fixed_digits=0, min=0, max=INT32_MAX, signed=False):  # noqa: A002
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)

    def to_python(self, value: str) -> int:
        # Werkzeug's own refusal (ValidationError) lets a rule of another method match the
        # path and answers 405: an id out of range is simply not found, whatever the method.
        number = int(value)
        if (self.min is not None and number < self.min) or (
                self.max is not None and number > self.max):
            raise NotFound()
        return number


def has_control(text: str) -> bool:
    return CONTROL.search(text) is not None


def json_depth_exceeds(raw: bytes, limit: int) -> bool:
    """Whether brackets nest deeper than ``limit`` outside strings, read without parsing (the
    parser itself would recurse)."""
    depth, in_string, escaped = 0, False, False
    for byte in raw:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:  # quote
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x5B, 0x7B):  # [ {
            depth += 1
            if depth > limit:
                return True
        elif byte in (0x5D, 0x7D):
            depth -= 1
    return False


def _walk_json(value, path: str = "") -> str | None:
    """The first place in ``value`` holding a control character, or None."""
    stack = [(value, path)]
    while stack:
        item, where = stack.pop()
        if isinstance(item, str):
            if has_control(item):
                return where or "body"
        elif isinstance(item, dict):
            for key, child in item.items():
                if has_control(str(key)):
                    return f"{where}.{key!r}" if where else repr(key)
                stack.append((child, f"{where}.{key}" if where else str(key)))
        elif isinstance(item, list):
            stack.extend((child, f"{where}[{i}]") for i, child in enumerate(item))
    return None


def refuse_control(where: str):
    raise InputRefused("invalid_characters",
                       f"{where} holds a control character (NUL, escape, ...)",
                       {where: ["no control characters (NUL, escape, ...)"]})


def check_request() -> None:
    for name, value in (request.view_args or {}).items():
        if isinstance(value, str) and has_control(value):
            refuse_control(name)
    if has_control(request.path):
        refuse_control("the path")
    for header in CHECKED_HEADERS:
        if has_control(request.headers.get(header, "")):
            refuse_control(header)
    for source in (request.args,):
        for key, value in source.items(multi=True):
            if has_control(key) or has_control(value):
                refuse_control(key if not has_control(key) else "a parameter name")
    if request.mimetype in JSON_TYPES:
        request.max_content_length = JSON_MAX_BYTES
        raw = request.get_data(cache=True)
        if json_depth_exceeds(raw, JSON_MAX_DEPTH):
            raise InputRefused("too_deep", f"JSON nested deeper than {JSON_MAX_DEPTH} levels")
        where = _walk_json(request.get_json(silent=True))
        if where is not None:
            refuse_control(where)
    elif request.method in ("POST", "PUT", "PATCH", "DELETE") and request.mimetype in (
            "application/x-www-form-urlencoded", "multipart/form-data"):
        for key, value in request.form.items(multi=True):
            if has_control(key) or has_control(value):
                refuse_control(key if not has_control(key) else "a field name")


def register(app: Flask) -> None:
    """The converter must be in place before any route is added."""
    app.url_map.converters["int"] = BoundedIntegerConverter
    app.before_request(check_request)
