"""What ``merchants_redeem_voucher`` (``merchants/sql``) answers, in the ``result`` field of its
outcome. One enum, so that Python compares against these names and nothing else; a test holds
it to the literals the ``.sql`` files return. The ledger's own answers are ``ledger.Verdict``."""

from enum import StrEnum


class RedeemVerdict(StrEnum):
    REDEEMED = "redeemed"  # redeemed now; ``ledger`` holds the settlement's ledger outcome
    REFUSED = "refused"  # changed since read: its state now, and this key's first redemption
    LEDGER = "ledger"  # the ledger refused the settlement: ``outcome`` holds its outcome
    CONFLICT = "conflict"  # another voucher's scan took this idempotency key
