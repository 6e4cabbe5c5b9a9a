import pytest
from sqlalchemy.orm import Session

from tests.databases import TestDatabase
from volunteers import passwords

# Tests create hundreds of users: a cheaper scrypt cost keeps them fast. The cost is stored in
# each hash, so checking works the same; production keeps the default.
passwords.SCRYPT_N = 2**10


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


@pytest.fixture
def app(database_url, tmp_path, monkeypatch):
    """The real app on this test's database (schema built by tests.databases)."""
    from web import create_app

    monkeypatch.setenv("JINDOU_INSTANCE_PATH", str(tmp_path / "instance"))
    app = create_app({
        "SQLALCHEMY_DATABASE_URI": database_url,
        "TESTING": True,
        "RATELIMIT_ENABLED": False,
        "SERVER_NAME": None,
    })
    yield app
    from web.extensions import db

    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def world(app):
    """A small programme world: areas, staff, volunteers, a funded programme."""
    from tests.web_support import build_world

    return build_world(app)


@pytest.fixture
def api(app, world):
    from tests.web_support import ApiClient

    return ApiClient(app)
