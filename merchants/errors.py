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
