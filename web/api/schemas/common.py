"""What every API payload shares: strict integers and amounts, the error body (CONTRACT
section 4) and paging arguments."""

from marshmallow import Schema, ValidationError, fields, validate

from ledger import MAX_AMOUNT

MAX_PAGE_SIZE = 200


class StrictInteger(fields.Integer):
    """An integer and nothing else: no "5", no 5.0, no true."""

    def __init__(self, **kwargs):
        super().__init__(strict=True, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, bool):
            raise ValidationError("Not a valid integer.")
        return super()._deserialize(value, attr, data, **kwargs)


def Amount(**kwargs):  # noqa: N802 (a field factory reads like a field)
    return StrictInteger(required=True, validate=validate.Range(min=1, max=MAX_AMOUNT), **kwargs)


class ErrorSchema(Schema):
    code = fields.String(required=True, metadata={"example": "insufficient_points"})
    message = fields.String(required=True, metadata={
        "description": "one plain sentence in the caller's language (Accept-Language)"})
    errors = fields.Dict(metadata={"description": "field errors, for validation_error"})


class PageArgsSchema(Schema):
    # A query string holds text: "before=42" must parse, so not StrictInteger here.
    before = fields.Integer(validate=validate.Range(min=1),
                           metadata={"description": "ids below this one (the next page)"})
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=MAX_PAGE_SIZE))
