from . import payment_models  # noqa: F401  (donations, cash-outs, card funding tables)
