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
def make_app(database_url, tmp_path, monkeypatch):
    """Builds the real app on this test's database (schema built by tests.databases), with
    config overrides; every app built is closed after the test."""
    from web import create_app
    from web.extensions import db

    monkeypatch.setenv("JINDOU_INSTANCE_PATH", str(tmp_path / "instance"))
    built = []

    def build(**overrides):
        config = {"SQLALCHEMY_DATABASE_URI": database_url, "TESTING": True,
                  "RATELIMIT_ENABLED": False}
        built.append(create_app(config | overrides))
        return built[-1]

    yield build
    for app in built:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


@pytest.fixture
def app(make_app):
    return make_app()


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


@pytest.fixture
def playwright():
    """Playwright's sync API for a browser test; skips (or fails, under
    JINDOU_REQUIRE_BROWSER=1) when Debian's chromium is missing."""
    from tests.browser_support import require_chromium

    require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as running:
        yield running


@pytest.fixture
def browser(playwright):
    """Debian's chromium, headless, closed after the test."""
    from tests.browser_support import launch_chromium

    chromium = launch_chromium(playwright)
    yield chromium
    chromium.close()


@pytest.fixture
def screenshots(tmp_path):
    """Where a browser test saves screenshots: JINDOU_SCREENSHOT_DIR, else the test's tmp dir."""
    from tests.browser_support import screenshot_dir

    return screenshot_dir(tmp_path / "screenshots")
