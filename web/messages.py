"""What a person reads when something is refused: one plain, translated sentence per domain
error code, used by the pages (flash messages, error pages) and by the API as ``message``.

The services raise errors with developer English (``programme wuhua-jindou does not offer
cash-out``); that text stays in the logs and in the API's ``detail``, never on a page. Several
classes share one generic code (``conflict``, ``forbidden``, ``validation_error``): those that
mean something a person can act on have a sentence of their own in ``BY_CLASS``. A sentence may
name the error's details (``%(remaining_points)s``); when a detail is missing the code's
sentence is used instead."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from .pages.activity_messages import ACTIVITY_PAGE_MESSAGES

# Every code a person can meet: the domain's, the ledger's and the HTTP statuses'.
BY_CODE = {
    # HTTP statuses (web/errors.py HTTP_CODES)
    "bad_request": _l("This request could not be understood. Please go back and try again."),
    "unauthorized": _l("Please sign in first."),
    "forbidden": _l("Your account cannot open this page or do this."),
    "not_found": _l("We could not find that page or record."),
    "method_not_allowed": _l("This page cannot be used that way. Please go back and try again."),
    "conflict": _l("This has changed meanwhile. Please reload the page and try again."),
    "payload_too_large": _l("The upload is too large: at most 32 MB in all, 10 MB per photo."),
    "unsupported_media_type": _l("This kind of file cannot be used here."),
    "validation_error": _l("Some of what you entered is not valid. Please check and try again."),
    "rate_limited": _l("Too many attempts. Please wait a minute and try again."),
    "internal_error": _l("Something went wrong on our side. It has been logged; please try "
                         "again later."),
    "error": _l("This could not be done. Please try again later."),
    "database_unavailable": _l("The service is busy for a moment. Please try again."),
    "invalid_characters": _l("What you sent holds characters that are not allowed "
                             "(control characters)."),
    "too_deep": _l("What you sent is nested too deeply."),
    # volunteers, honours, payments
    "budget_exhausted": _l("The programme's points budget cannot cover this."),
    "insufficient_funds": _l("Not enough money in the programme's fund."),
    "card_funding_unavailable": _l("Card payments are not set up yet."),
    "payment_provider_error": _l("The card payment service could not be reached. Please try "
                                 "again later."),
    "limit_reached": _l("That is over the limit for this."),
    "fund_exhausted": _l("No fund source of the programme can pay this now."),
    # donations that arrive (causes released to their beneficiary)
    "exceeds_pool": _l("That is more than the cause's pool holds."),
    "own_release": _l("Another organiser or an administrator must confirm a release you asked "
                      "for."),
    "no_beneficiary_account": _l("The beneficiary has no account to receive points."),
    "release_pending": _l("A release of this cause already waits for confirmation."),
    "no_release_requested": _l("No release of this cause waits for confirmation."),
    "pool_below_price": _l("The pool does not yet hold the price of one voucher."),
    "nothing_released": _l("Nothing of this cause was released yet, so no delivery can be "
                           "confirmed."),
    # ledger
    "insufficient_points": _l("You do not have enough points available."),
    "invalid_entry": _l("These amounts do not add up. Nothing was recorded."),
    "account_closed": _l("This account is closed."),
    "unit_mismatch": _l("Points and money cannot be mixed here. Nothing was recorded."),
    "idempotency_conflict": _l("This request was already sent with different details. Please "
                               "reload the page and try again."),
    "hold_not_pending": _l("These points were already released or used."),
    "hold_expired": _l("This reservation has expired."),
    "already_reversed": _l("This entry was already corrected."),
    "not_reversible": _l("This entry cannot be corrected."),
    # merchants
    "voucher_already_redeemed": _l("This voucher was already used."),
    "voucher_expired": _l("This voucher has expired."),
    "voucher_wrong_merchant": _l("This voucher is for another shop."),
    "voucher_invalid": _l("This is not a valid voucher code."),
    "out_of_stock": _l("This offer is sold out."),
    "offer_closed": _l("This offer is not open now."),
    # merchants' counter QR (issue 22)
    "counter_code_invalid": _l("This QR code is not a Jindou merchant's code."),
    "counter_code_revoked": _l("This QR code is no longer valid: the shop has a new one. "
                               "Ask at the counter."),
    "counter_charge_used": _l("This amount was already paid. Ask the cashier for a new code."),
    "counter_charge_expired": _l("This code has expired (after two minutes). Ask the cashier "
                                 "for a new one."),
    "offer_wrong_merchant": _l("This offer belongs to another shop."),
    "open_amount_not_accepted": _l("This shop takes points for its offers only."),
    # the organisation: areas, roles, accounts, imports (issue 16)
    "area_cycle": _l("An area cannot move under itself or one of its own areas."),
    "area_closed": _l("That area is closed."),
    "area_is_root": _l("The top area cannot be changed or closed."),
    "area_has_open_reports": _l("The area still has open reports: handle them first."),
    "area_has_live_offers": _l("The area still has live offers: withdraw them first."),
    "last_admin": _l("This is the last administrator of the area: grant another first."),
    "already_decided": _l("This request was already decided."),
    "invalid_code": _l("The code is wrong, used or expired."),
    "already_suspended": _l("This user is already suspended."),
    "not_suspended": _l("This user is not suspended."),
    "cannot_suspend_self": _l("You cannot suspend yourself."),
    "import_refused": _l("The file cannot be imported: see the problems per row."),
    # activities
    **ACTIVITY_PAGE_MESSAGES,
}

# Classes that share a generic code but say something more useful, by class name.
BY_CLASS = {
    "CashOutDisabled": _l("This programme does not offer cash-out."),
    "CauseNotOpen": _l("This cause no longer takes donations."),
    "AlreadyPaid": _l("This cash-out was already marked paid."),
    "AmountNotConvertible": _l("These points do not make whole fen at the programme's rate: "
                               "please use a multiple of %(step_points)s."),
    "NotInYourArea": _l("This belongs to an area you are not responsible for."),
    "InsufficientFundsForBonuses": _l("The programme's fund cannot pay every bonus: nothing "
                                      "was paid."),
    "UnknownAccount": _l("We could not find that account."),
    "UnknownEntry": _l("We could not find that entry."),
}
# Errors of one code whose details give a more precise sentence (payments' LimitReached).
BY_DETAILS = {
    ("fund_exhausted", "fund_source"): _l(
        "No fund source of the programme can pay this: the first by the programme's rule, "
        "%(fund_source)s, does not hold enough."),
    ("limit_reached", "remaining_points"): _l(
        "This month you may cash out %(remaining_points)s more points (at most "
        "%(monthly_maximum_points)s a month)."),
}

# The counter's limits (merchants.errors.CounterLimitReached names which in ``limit``).
BY_LIMIT = {
    "open_amount_max_points": _l("That is more than one payment may be: at most %(allowed)s "
                                 "points."),
    "volunteer_daily_payments": _l("You have paid here %(allowed)s times today: the most a day."),
    "volunteer_daily_points": _l("You have paid here the most points a day allows "
                                 "(%(allowed)s)."),
    "merchant_daily_payments": _l("This shop has taken all the payments it may today."),
    "merchant_daily_points": _l("This shop has taken all the points it may today."),
}

# Field problems the services name in English that a person needs to read to fix the form.
BY_PROBLEM = {
    "the shares add up to more than 100 %": _l("The tiers' shares add up to more than 100 %."),
}


def message_for(error: BaseException | None = None, code: str | None = None) -> str:
    """The translated sentence for ``error`` (a domain or ledger error) or for a bare ``code``."""
    code = code or getattr(error, "code", None) or "error"
    details = getattr(error, "details", None) or {}
    if error is not None:
        for cls in type(error).__mro__:
            if cls.__name__ in BY_CLASS:
                return _filled(BY_CLASS[cls.__name__], details, code)
    problems = [str(BY_PROBLEM[text]) for texts in (getattr(error, "errors", None) or {}).values()
                for text in texts if isinstance(text, str) and text in BY_PROBLEM]
    if problems:
        return " ".join(problems)
    if details.get("limit") in BY_LIMIT:
        return _filled(BY_LIMIT[details["limit"]], details, code)
    for (detail_code, key), message in BY_DETAILS.items():
        if detail_code == code and key in details:
            return _filled(message, details, code)
    return str(BY_CODE.get(code, BY_CODE["error"]))


def _filled(message, details: dict, code: str) -> str:
    try:
        return str(message) % details if "%(" in str(message) else str(message)
    except (KeyError, TypeError, ValueError):
        return str(BY_CODE.get(code, BY_CODE["error"]))

# The heading of the error page for each status a person can meet.
STATUS_TITLES = {
    400: _l("The request could not be understood"),
    401: _l("Please sign in"),
    403: _l("Not allowed"),
    404: _l("Page not found"),
    405: _l("The request could not be understood"),
    409: _l("This could not be done"),
    413: _l("The upload is too large"),
    415: _l("The request could not be understood"),
    422: _l("Please check what you entered"),
    429: _l("Too many attempts"),
    500: _l("Something went wrong"),
}


def status_title(status: int) -> str:
    return str(STATUS_TITLES.get(status) or STATUS_TITLES[500 if status >= 500 else 409])
