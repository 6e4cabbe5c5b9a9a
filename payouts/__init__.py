"""Payout runs: one path for every yuan owed to a person or a merchant (cash-outs, year-end
cash bonuses, merchant settlements), prepared by one administrator, approved by a second,
exported as a batch-transfer file and settled from the channel's results; and the payees'
payment details, encrypted at rest. Plain Python + SQLAlchemy (docs/payments.md)."""

from . import crypto, models  # noqa: F401  (the tables join the metadata)
