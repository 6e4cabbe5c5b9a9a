"""The year's honours and figures: the annual ranking and its tiers (大侠 / 少侠 / 侠士), stars,
leaderboards, special honours and certificates, and the administrators' dashboard. Other
packages plug their own figures in (``dashboard.register_section``,
``leaderboards.METRICS``, ``stars.register_source``); this one imports none of them.
Plain Python and SQLAlchemy."""

from . import models  # noqa: F401  (the tables join the shared metadata)
