"""Refusals of the year-end honours, with their CONTRACT codes."""

from volunteers.errors import DomainError


class InsufficientFundsForBonuses(DomainError):
    """The programme's fund cannot cover every bonus of the ranking: nothing was posted."""

    code = "insufficient_funds"
    status = 409

    def __init__(self, message: str = "", *, missing_fen: int, **details):
        super().__init__(message, missing_fen=missing_fen, **details)
        self.missing_fen = missing_fen
        # Shown at the top level of the API's error body (``web/errors.py``).
        self.body = {"missing_fen": missing_fen}
