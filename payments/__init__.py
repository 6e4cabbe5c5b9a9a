"""Money and points leaving a wallet or entering a programme: donations (转赠) and their
causes, cash-out requests (丰行侠), and card funding of programmes through Stripe Checkout.
Plain Python and SQLAlchemy."""

from . import models  # noqa: F401  (the tables join the shared metadata)
