"""Activities, sign-ups, check-in by rotating QR, the service-hours record, micro-wishes and
the daily check-in. Plain Python and SQLAlchemy; never imports Flask."""

from . import (
    models,  # noqa: F401  (the tables join the shared metadata)
    recognition,  # noqa: F401  (hours join the dashboard, the leaderboards and the stars)
)
