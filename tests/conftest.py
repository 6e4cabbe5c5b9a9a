import pytest
from sqlalchemy.orm import Session

from tests.databases import TestDatabase


@pytest.fixture(
    scope="session",
    params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)],
)
def database(request, tmp_path_factory):
    """Each database-backed test runs once on SQLite and once on PostgreSQL."""
    database = TestDatabase(request.param, tmp_path_factory.mktemp(request.param))
    database.start()
    yield database
    database.stop()


@pytest.fixture
def database_url(database):
    return database.fresh_url()


@pytest.fixture
def engine(database, database_url):
    engine = database.engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def session(engine):
    with Session(engine) as session:
        yield session
