"""Refusals of payout runs, each with its stable code (CONTRACT section 4)."""

from volunteers.errors import Conflict, Forbidden, Invalid


class OwnRun(Forbidden):
    """A second administrator must approve a payout run you prepared."""

    code = "own_run"


class RunNotApproved(Conflict):
    """The payout run is not approved yet: nothing can be exported or settled."""

    code = "run_not_approved"


class RunClosed(Conflict):
    """The payout run is already approved or closed."""

    code = "run_closed"


class NothingOwed(Conflict):
    """No owed line with payment details matches: no run was made."""

    code = "nothing_owed"


class UnknownLine(Invalid):
    """The results name a line that is not in this run."""

    code = "unknown_line"


class WrongRun(Invalid):
    """The result file belongs to another payout run."""

    code = "wrong_run"


class AmountMismatch(Invalid):
    """A result's amount differs from the run's line."""

    code = "amount_mismatch"


class LineSettled(Conflict):
    """The line already has another result."""

    code = "line_settled"


class BadResultFile(Invalid):
    """The result file could not be read."""

    code = "bad_result_file"


class NoPaymentKey(Conflict):
    """Payment details cannot be stored or read: no encryption key is configured."""

    code = "payment_key_missing"
