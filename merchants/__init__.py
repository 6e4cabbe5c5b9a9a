"""The merchant alliance: merchants, offers, QR vouchers, redemption and settlement. Plain
Python and SQLAlchemy."""

from . import (
    area_guards,  # noqa: F401  (live offers keep an area open)
    models,  # noqa: F401  (the tables join the shared metadata)
    recognition,  # noqa: F401  (star merchants join the honours)
)
