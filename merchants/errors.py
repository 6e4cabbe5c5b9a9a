"""Refusals of the merchant alliance, with their CONTRACT codes (section 4)."""

from volunteers.errors import DomainError


class VoucherInvalid(DomainError):
    """The code is not a voucher of ours: forged, altered, truncated or cancelled."""

    code = "voucher_invalid"
    status = 400


class VoucherAlreadyRedeemed(DomainError):
    """This voucher was already redeemed."""

    code = "voucher_already_redeemed"
    status = 409


class VoucherExpired(DomainError):
    """This voucher has expired."""

    code = "voucher_expired"
    status = 409


class VoucherWrongMerchant(DomainError):
    """This voucher belongs to another merchant."""

    code = "voucher_wrong_merchant"
    status = 403


class OutOfStock(DomainError):
    """The offer has no stock left."""

    code = "out_of_stock"
    status = 409


class LimitReached(DomainError):
    """You already hold as many vouchers of this offer as one person may."""

    code = "limit_reached"
    status = 409


class InsufficientPoints(DomainError):
    """Not enough available points for this offer."""

    code = "insufficient_points"
    status = 409


class CounterCodeInvalid(DomainError):
    """This is not a counter code of ours: unknown, altered or forged."""

    code = "counter_code_invalid"
    status = 400


class CounterCodeRevoked(DomainError):
    """This counter code was replaced by a new one: the poster is no longer valid."""

    code = "counter_code_revoked"
    status = 410


class ChargeUsed(DomainError):
    """This amount's code was already paid: it works once."""

    code = "counter_charge_used"
    status = 409


class ChargeExpired(DomainError):
    """This amount's code has expired (after two minutes): ask the cashier for a new one."""

    code = "counter_charge_expired"
    status = 409


class OfferOfAnotherMerchant(DomainError):
    """This offer belongs to another merchant than the counter's."""

    code = "offer_wrong_merchant"
    status = 422


class OpenAmountNotAccepted(DomainError):
    """This merchant takes payments for its offers only, not open amounts."""

    code = "open_amount_not_accepted"
    status = 409


class CounterLimitReached(LimitReached):
    """A programme's counter limit (``limit`` names which) would be passed; the refusal's
    body names it beside the contract's ``limit_reached`` code."""

    def __init__(self, message: str = "", *, limit: str, allowed: int, **details):
        super().__init__(message, limit=limit, allowed=allowed, **details)
        self.limit = limit
        self.body = {"limit": limit, "allowed": allowed}
