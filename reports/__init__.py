"""Incident reports (随手拍): categories, responsible departments, filing, review, dispatch,
handling, escalation of overdue reports, their photos and videos, the assessment of how well
they are handled, and the dashboard's report sections. Plain Python and SQLAlchemy."""

from . import (
    area_guards,  # noqa: F401  (a move rewrites reports' paths; open reports keep an area open)
    models,  # noqa: F401  (the tables join the shared metadata)
    recognition,  # noqa: F401  (reports join the administrators' dashboard)
)
