"""What every API payload shares: integers bounded by the database column that keeps them, sane
dates, the error body (CONTRACT section 4) and paging arguments.

Every integer a request can carry is an ``Integer`` (or ``StrictInteger`` in a JSON body): it
refuses what the column would not hold (``bits=32`` for an ``Integer`` column, the default;
``bits=64`` for a ``BigInteger`` one) with a validation error, instead of an overflow in the
database, and the OpenAPI document states the bound. Dates and times are ``Date``/``DateTime``/
``AwareDateTime``, within ``FIRST_YEAR``..``LAST_YEAR``."""

from marshmallow import Schema, ValidationError, fields, validate

from ledger import MAX_AMOUNT

MAX_PAGE_SIZE = 200
INT32_MAX = 2**31 - 1
INT64_MAX = 2**63 - 1
FIRST_YEAR, LAST_YEAR = 2000, 2100


def column_range(bits: int) -> validate.Range:
    top = INT32_MAX if bits == 32 else INT64_MAX
    return validate.Range(min=-top - 1, max=top, error="out of range: {min} to {max}")


def _validators(given) -> list:
    if given is None:
        return []
    return list(given) if isinstance(given, list | tuple) else [given]


class Integer(fields.Integer):
    """An integer no larger than its column (``bits``: 32 or 64). A query string holds text,
    so "42" parses here; JSON bodies use ``StrictInteger``."""

    def __init__(self, *, bits: int = 32, **kwargs):
        kwargs["validate"] = [*_validators(kwargs.get("validate")), column_range(bits)]
        super().__init__(**kwargs)


class StrictInteger(Integer):
    """An integer and nothing else: no "5", no 5.0, no true; bounded like ``Integer``."""

    def __init__(self, **kwargs):
        super().__init__(strict=True, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, bool):
            raise ValidationError("Not a valid integer.")
        return super()._deserialize(value, attr, data, **kwargs)


def Amount(bits: int = 32, **kwargs):  # noqa: N802 (a field factory reads like a field)
    """A positive amount: at most ``ledger.MAX_AMOUNT``, and at most what its column holds
    (``bits=64`` only for an amount kept nowhere but in the ledger's BigInteger columns)."""
    top = min(MAX_AMOUNT, INT32_MAX if bits == 32 else INT64_MAX)
    return StrictInteger(required=True, bits=bits, validate=validate.Range(min=1, max=top),
                         **kwargs)


def _sane_year(value) -> None:
    if value is not None and not FIRST_YEAR <= value.year <= LAST_YEAR:
        raise ValidationError(f"a date between {FIRST_YEAR} and {LAST_YEAR}")


class Date(fields.Date):
    def __init__(self, **kwargs):
        kwargs["validate"] = [*_validators(kwargs.get("validate")), _sane_year]
        super().__init__(**kwargs)


class DateTime(fields.DateTime):
    def __init__(self, *args, **kwargs):
        kwargs["validate"] = [*_validators(kwargs.get("validate")), _sane_year]
        super().__init__(*args, **kwargs)


class AwareDateTime(fields.AwareDateTime):
    def __init__(self, *args, **kwargs):
        kwargs["validate"] = [*_validators(kwargs.get("validate")), _sane_year]
        super().__init__(*args, **kwargs)


class ErrorSchema(Schema):
    code = fields.String(required=True, metadata={"example": "insufficient_points"})
    message = fields.String(required=True, metadata={
        "description": "one plain sentence in the caller's language (Accept-Language)"})
    errors = fields.Dict(metadata={"description": "field errors, for validation_error"})


class PageArgsSchema(Schema):
    # Ledger ids are BigInteger columns.
    before = Integer(bits=64, validate=validate.Range(min=1),
                     metadata={"description": "ids below this one (the next page)"})
    limit = Integer(load_default=50, validate=validate.Range(min=1, max=MAX_PAGE_SIZE))
