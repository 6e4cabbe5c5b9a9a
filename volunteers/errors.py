"""Refusals of the domain services. Each has the stable ``code`` the API answers with
(CONTRACT section 4); ``web/errors.py`` renders them, the services only raise them."""


class DomainError(Exception):
    code = "domain_error"
    status = 409

    def __init__(self, message: str = "", **details):
        self.message = message or (self.__class__.__doc__ or self.code).strip()
        super().__init__(self.message)
        self.details = details


class NotFound(DomainError):
    """No such thing."""

    code = "not_found"
    status = 404


class Invalid(DomainError):
    """The request breaks a rule of the domain."""

    code = "validation_error"
    status = 422

    def __init__(self, message: str = "", errors: dict | None = None, **details):
        super().__init__(message, **details)
        self.errors = errors or {}


class Unauthorized(DomainError):
    """Who you are could not be established."""

    code = "unauthorized"
    status = 401


class Forbidden(DomainError):
    """Your roles do not allow this."""

    code = "forbidden"
    status = 403


class NotInYourArea(Forbidden):
    """That belongs to an area outside the ones you are responsible for."""


class Conflict(DomainError):
    """The request conflicts with the current state."""

    code = "conflict"
    status = 409


class BudgetExhausted(DomainError):
    """The programme's points budget cannot cover this."""

    code = "budget_exhausted"
    status = 409
