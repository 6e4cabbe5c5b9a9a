"""People, areas, roles, programmes and manual awards: users and their role grants on the
area tree, programmes with their chart of accounts and funding, teams, the notification centre
and who may read which account. Plain Python and SQLAlchemy."""

from . import models  # noqa: F401  (the tables join the shared metadata)
