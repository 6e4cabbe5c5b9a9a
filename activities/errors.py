"""Refusals of the activities package, each with its stable API ``code`` and HTTP status."""

from volunteers.errors import Conflict, DomainError, Forbidden, Invalid

__all__ = ["Conflict", "DomainError", "Forbidden", "Invalid"]


class ActivityFull(DomainError):
    """Every seat of this activity is taken."""

    code = "activity_full"
    status = 409


class ActivityClosed(DomainError):
    """This activity is cancelled or over."""

    code = "activity_closed"
    status = 409


class AlreadySignedUp(DomainError):
    """You have already signed up to this activity."""

    code = "already_signed_up"
    status = 409


class NotSignedUp(DomainError):
    """You have not signed up to this activity."""

    code = "not_signed_up"
    status = 409


class CheckinCodeInvalid(DomainError):
    """This code is not this activity's check-in code."""

    code = "checkin_code_invalid"
    status = 400


class CheckinCodeExpired(CheckinCodeInvalid):
    """This code has expired: scan the code on the organiser's screen now."""

    code = "checkin_code_expired"


class NotInProgress(DomainError):
    """Checking in and out is open from an hour before the start until the end."""

    code = "activity_not_in_progress"
    status = 409


class LocationRequired(DomainError):
    """This activity checks where you are: allow location and scan again."""

    code = "location_required"
    status = 422


class TooFarFromVenue(DomainError):
    """You are too far from the venue to check in."""

    code = "too_far_from_venue"
    status = 403


class NotCheckedIn(DomainError):
    """Check in first."""

    code = "not_checked_in"
    status = 409


class HoursAlreadyApproved(DomainError):
    """These hours are already approved; change them with an amendment."""

    code = "hours_already_approved"
    status = 409


class HoursNotReady(DomainError):
    """This volunteer has not checked out: approve with adjusted hours and a reason."""

    code = "hours_not_ready"
    status = 409


class WishAlreadyClaimed(DomainError):
    """Someone else has claimed this wish."""

    code = "wish_already_claimed"
    status = 409


class WishWrongState(DomainError):
    """The wish is not in a state that allows this."""

    code = "wish_wrong_state"
    status = 409


class NoProgramme(DomainError):
    """No programme covers your area yet."""

    code = "no_programme"
    status = 409
