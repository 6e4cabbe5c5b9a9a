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

# Activity categories by code: the stored name is Chinese; English readers get these.
CATEGORY_NAMES = {
    "civilisation": _l("Civic practice"),
    "elderly-disabled": _l("Elderly and disabled"),
    "environment": _l("Clean-up"),
    "drill": _l("Emergency drill"),
    "culture": _l("Culture and arts"),
    "traffic": _l("Traffic courtesy"),
    "garbage-sorting": _l("Waste sorting"),
    "epidemic": _l("Epidemic prevention"),
    "community-patrol": _l("Safety patrol"),
    "anti-fraud": _l("Anti-fraud outreach"),
    "legal-aid": _l("Legal aid"),
    "health": _l("Free health check"),
    "blood-donation": _l("Blood donation"),
    "education": _l("Tutoring and teaching"),
    "children": _l("Caring for children"),
    "left-behind": _l("Left-behind families"),
    "veterans": _l("Supporting veterans"),
    "disaster": _l("Emergency rescue"),
    "fire-safety": _l("Fire safety"),
    "food-safety": _l("Food safety"),
    "ecology": _l("Ecology"),
    "greening": _l("Tree planting"),
    "river": _l("River patrol"),
    "conflict": _l("Mediation"),
    "policy": _l("Policy outreach"),
    "party": _l("Party activities"),
    "neighbourhood": _l("Neighbourly help"),
    "poverty": _l("Helping the needy"),
    "sports": _l("Fitness for all"),
    "reading": _l("Reading for all"),
    "tourism": _l("Civil tourism"),
    "big-event": _l("Major events"),
    "digital": _l("Digital help for elders"),
    "psychological": _l("Emotional support"),
    "other": _l("Other services"),
}


def category_name(category) -> str:
    """An activity category in the reader's language (the stored name when unknown)."""
    known = CATEGORY_NAMES.get(category.code)
    return str(known) if known is not None else category.name
