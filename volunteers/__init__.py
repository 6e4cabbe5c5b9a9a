"""People, areas, roles, programmes and manual awards. Plain Python and SQLAlchemy."""

from . import (
    models,  # noqa: F401  (the tables join the shared metadata)
    ranking_models,  # noqa: F401,E402  (year-end honours)
    report_models,  # noqa: F401
)
