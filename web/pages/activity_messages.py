"""What a person reads on a page for the activities package's refusal codes."""

from flask_babel import lazy_gettext as _l

ACTIVITY_PAGE_MESSAGES = {
    "activity_full": _l("Sorry, every seat of this activity is taken."),
    "activity_closed": _l("This activity is closed."),
    "already_signed_up": _l("You have already signed up to this activity."),
    "not_signed_up": _l("Sign up to this activity first."),
    "checkin_code_invalid": _l("This is not this activity's code. Scan the organiser's "
                               "code again."),
    "checkin_code_expired": _l("This code has expired. Scan the code on the organiser's "
                               "screen now."),
    "activity_not_in_progress": _l("Checking in opens an hour before the activity starts."),
    "location_required": _l("This activity checks where you are: allow location and try again."),
    "too_far_from_venue": _l("You are too far from the venue to check in."),
    "not_checked_in": _l("Check in before checking out."),
    "hours_already_approved": _l("These hours are already approved."),
    "hours_not_ready": _l("This volunteer has not checked out: give the minutes and a reason."),
    "wish_already_claimed": _l("Someone else has already claimed this wish."),
    "wish_wrong_state": _l("This wish has moved on meanwhile."),
    "no_programme": _l("No programme covers your area yet."),
}
