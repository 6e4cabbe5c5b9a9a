"""Every way the ledger refuses, each with a stable code (CONTRACT section 4 where it names one)."""


class LedgerError(Exception):
    """Base of every refusal. ``code`` is the stable snake_case name the API answers with."""

    code = "ledger_error"
    status = 409

    def __init__(self, message: str = "", **details):
        super().__init__(message or self.__class__.__doc__ or self.code)
        self.message = message or (self.__class__.__doc__ or self.code).strip()
        self.details = details


class InvalidEntry(LedgerError):
    """The entry is malformed: unbalanced, a zero or non-integer amount, too few postings."""

    code = "invalid_entry"
    status = 422


class UnknownAccount(LedgerError):
    """No account has that code."""

    code = "not_found"
    status = 404


class UnknownEntry(LedgerError):
    """No entry has that id."""

    code = "not_found"
    status = 404


class InsufficientPoints(LedgerError):
    """The account does not hold enough available points."""

    code = "insufficient_points"


class InsufficientFunds(InsufficientPoints):
    """The account does not hold enough money."""

    code = "insufficient_funds"


class AccountClosed(LedgerError):
    """The account is closed and takes no new postings."""

    code = "account_closed"


class UnitMismatch(LedgerError):
    """A posting's unit differs from its account's unit."""

    code = "unit_mismatch"
    status = 422


class IdempotencyConflict(LedgerError):
    """This idempotency key was already used for a different entry."""

    code = "idempotency_conflict"


class HoldNotPending(LedgerError):
    """The hold was already posted, voided or expired."""

    code = "hold_not_pending"


class HoldExpired(LedgerError):
    """The hold passed its deadline."""

    code = "hold_expired"


class AlreadyReversed(LedgerError):
    """The entry was already reversed."""

    code = "already_reversed"


class NotReversible(LedgerError):
    """Only posted entries can be reversed."""

    code = "not_reversible"


REFUSALS = {
    cls.code: cls
    for cls in (
        InsufficientPoints,
        InsufficientFunds,
        AccountClosed,
        UnitMismatch,
        IdempotencyConflict,
        HoldNotPending,
        HoldExpired,
        AlreadyReversed,
    )
}
