"""Activities, sign-ups, check-in by rotating QR, the service-hours record, micro-wishes and
the daily check-in. Plain Python and SQLAlchemy; never imports Flask."""

from . import models  # noqa: F401  (the tables join the shared metadata)
