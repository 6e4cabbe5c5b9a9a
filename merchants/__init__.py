"""The merchant alliance: merchants, offers, QR vouchers, redemption and settlement. Plain
Python and SQLAlchemy."""

from . import (
    models,  # noqa: F401  (the tables join the shared metadata)
    recognition,  # noqa: F401  (star merchants join the honours)
)
