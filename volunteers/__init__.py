"""People, areas, roles, programmes and manual awards. Plain Python and SQLAlchemy."""

from . import (
    models,  # noqa: F401  (the tables join the shared metadata)
    report_models,  # noqa: F401
)
