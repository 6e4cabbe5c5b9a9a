"""Refusals of donations, cash-outs and card funding, each with its CONTRACT code."""

from volunteers.errors import Conflict, DomainError, Forbidden, Invalid


class LimitReached(DomainError):
    """A limit of the programme refuses this (the monthly cash-out maximum)."""

    code = "limit_reached"
    status = 409


class CauseNotOpen(Conflict):
    """The cause no longer takes donations: it reached its target or was closed."""


class CashOutDisabled(Conflict):
    """The programme does not offer cash-out."""


class AlreadyPaid(Conflict):
    """The cash-out was already marked paid."""


class AmountNotConvertible(Invalid):
    """Those points do not convert to a whole number of fen at the programme's rate."""


class CardFundingUnavailable(DomainError):
    """Card funding is not configured (no Stripe keys)."""

    code = "card_funding_unavailable"
    status = 503


class PaymentProviderError(DomainError):
    """The card payment provider could not be reached or refused the request."""

    code = "payment_provider_error"
    status = 502


class ExceedsPool(Invalid):
    """More points than the cause's pool holds."""

    code = "exceeds_pool"


class OwnRelease(Forbidden):
    """Another organiser or an administrator must confirm a release you asked for."""

    code = "own_release"


class NoBeneficiaryAccount(Conflict):
    """The cause's beneficiary has no account to receive points."""

    code = "no_beneficiary_account"


class ReleasePending(Conflict):
    """A release of this cause waits for confirmation."""

    code = "release_pending"


class NoReleaseRequested(Conflict):
    """No release of this cause waits for confirmation."""

    code = "no_release_requested"


class PoolBelowPrice(Conflict):
    """The cause's pool does not hold the price of one voucher of its offer."""

    code = "pool_below_price"


class NothingReleased(Conflict):
    """Nothing of the cause was released yet, so nothing can be confirmed delivered."""

    code = "nothing_released"
