"""The shared fixtures: one app per database backend for the whole run, and each test inside a
transaction that is rolled back at its end (the SQLAlchemy "joining a session into an external
transaction" recipe), on a database that already holds the schema and, for tests that ask for
``world``, the shared world.

Markers (pyproject.toml):
- ``commits``: the test needs real commits (threads racing on PostgreSQL, a browser against a
  served app, sealing after a commit). It gets a database of its own, emptied before it, and
  builds its world itself.
- ``postgres_only(reason)``: the test means nothing on SQLite; its SQLite copy is skipped before
  any set-up.
"""

from __future__ import annotations

import copy
from contextlib import contextmanager

import pytest
from sqlalchemy.orm import Session

from tests.databases import TestDatabase
from volunteers import passwords

# Tests create hundreds of users: a cheaper scrypt cost keeps them fast. The cost is stored in
# each hash, so checking works the same; production keeps the default.
passwords.SCRYPT_N = 2**10

TEST_CONFIG = {"TESTING": True, "RATELIMIT_ENABLED": False}


def pytest_collection_modifyitems(items):
    """A test marked ``postgres_only``, or parametrized with a value its module lists in
    ``POSTGRES_ONLY_PARAMS``, is skipped on SQLite before its fixtures are built."""
    for item in items:
        callspec = getattr(item, "callspec", None)
        if not callspec or callspec.params.get("database") != "sqlite":
            continue
        marker = item.get_closest_marker("postgres_only")
        if marker:
            item.add_marker(pytest.mark.skip(reason=marker.args[0] if marker.args
                                             else "PostgreSQL only"))
            continue
        only = getattr(item.module, "POSTGRES_ONLY_PARAMS", {})
        for value in callspec.params.values():
            if isinstance(value, str) and value in only:
                item.add_marker(pytest.mark.skip(reason=only[value]))
                break


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


@pytest.fixture(scope="session")
def instance_path(tmp_path_factory):
    return tmp_path_factory.mktemp("instance")


def build_app(database, instance_path, **overrides):
    """The real app, whose database connection each test replaces (``bound_to``)."""
    from web import create_app
    from web.extensions import db

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("JINDOU_INSTANCE_PATH", str(instance_path))
        app = create_app(TEST_CONFIG | {"SQLALCHEMY_DATABASE_URI": database.urls["empty"]}
                         | overrides)
    # A session bound to a test's connection joins its transaction: a commit releases a
    # SAVEPOINT, and the test's rollback undoes everything.
    with app.app_context():
        db.session.configure(join_transaction_mode="create_savepoint")
    return app


@contextmanager
def bound_to(app, bind):
    """Every session of ``app`` uses ``bind`` (an engine, or a connection in a transaction)."""
    from web.extensions import db

    engines = db._app_engines[app]
    own = engines[None]
    engines[None] = bind
    try:
        yield app
    finally:
        with app.app_context():
            db.session.remove()
        engines[None] = own


@pytest.fixture(scope="session")
def shared(database, instance_path):
    """One app per backend for the run, and the shared world, committed once to the ``world``
    database."""
    from tests.web_support import build_world
    from web.extensions import db

    app = build_app(database, instance_path)
    with bound_to(app, database.engines["world"]):
        database.world = build_world(app)
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def committing(request) -> bool:
    """Whether this test commits for real (marked ``commits``)."""
    return request.node.get_closest_marker("commits") is not None


@pytest.fixture
def ledger_heads_dir(shared, tmp_path):
    """Where this test's signed ledger heads are published: a directory of its own, so a head
    one test publishes (a worker run, ``jindou ledger head``) is no anchor for the next."""
    previous = shared.config.get("JINDOU_LEDGER_HEADS_DIR")
    shared.config["JINDOU_LEDGER_HEADS_DIR"] = str(tmp_path / "ledger-heads")
    yield shared.config["JINDOU_LEDGER_HEADS_DIR"]
    shared.config["JINDOU_LEDGER_HEADS_DIR"] = previous


@pytest.fixture
def bind(request, database, shared, committing, ledger_heads_dir):
    """This test's database: a connection in a transaction rolled back at the end, or, for a
    ``commits`` test, an engine on a database of its own."""
    if committing:
        engine = database.engine(database.fresh_url())
        with bound_to(shared, engine):
            yield engine
        engine.dispose()
        return
    base = "world" if "world" in request.fixturenames else "empty"
    connection = database.engines[base].connect()
    transaction = connection.begin()
    with bound_to(shared, connection):
        yield connection
    if transaction.is_active:
        transaction.rollback()
    connection.close()


@pytest.fixture
def engine(bind, committing):
    """An engine other threads can connect to: only for tests marked ``commits``."""
    if not committing:
        raise pytest.UsageError("the engine fixture commits for real: mark the test 'commits'")
    return bind


@pytest.fixture
def database_url(engine):
    """The URL of a ``commits`` test's database, for another process."""
    return engine.url.render_as_string(hide_password=False)


@pytest.fixture
def session(bind, committing):
    if committing:
        with Session(bind) as session:
            yield session
    else:
        with Session(bind=bind, join_transaction_mode="create_savepoint") as session:
            yield session


@pytest.fixture
def app(shared, bind):
    return shared


@pytest.fixture
def make_app(database, instance_path, shared, bind, monkeypatch):
    """The app with config overrides, on this test's database. Settings read per request
    (Stripe's keys, say) are set on the shared app for this test. Rate limits are read when an
    app is built, so those overrides build an app of their own, with counters at zero; so does
    ``fresh=True``, for a test of what the app reads from the environment."""
    from web.extensions import db, limiter

    built = []
    # The limiter is one module-level object that each app's init_app switches on or off:
    # what a rate-limited app sets is put back for the shared app afterwards.
    limiter_state = dict(vars(limiter))

    def make(fresh=False, **overrides):
        if not (fresh or overrides.get("RATELIMIT_ENABLED")):
            for key, value in overrides.items():
                monkeypatch.setitem(shared.config, key, value)
            return shared
        app = build_app(database, instance_path,
                        **{"JINDOU_LEDGER_HEADS_DIR": shared.config["JINDOU_LEDGER_HEADS_DIR"]}
                        | overrides)
        context = bound_to(app, bind)
        context.__enter__()
        built.append((app, context))
        return app

    yield make
    for app, context in reversed(built):
        context.__exit__(None, None, None)
        with app.app_context():
            db.engine.dispose()
    vars(limiter).clear()
    vars(limiter).update(limiter_state)


@pytest.fixture
def world(app, database, committing):
    """A small programme world: areas, staff, volunteers, a funded programme."""
    from tests.web_support import build_world

    if committing:
        return build_world(app)
    return copy.deepcopy(database.world)


@pytest.fixture
def client(app):
    return app.test_client()


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
    """Debian's chromium, headless, closed after the test; the test fails if a page it opened
    broke the Content-Security-Policy (a violation in the console)."""
    from tests.browser_support import launch_chromium, watch_csp

    chromium = launch_chromium(playwright)
    violations = watch_csp(chromium)
    yield chromium
    chromium.close()
    assert violations == [], "Content-Security-Policy violations:\n" + "\n".join(violations)


@pytest.fixture
def screenshots(tmp_path):
    """Where a browser test saves screenshots: JINDOU_SCREENSHOT_DIR, else the test's tmp dir."""
    from tests.browser_support import screenshot_dir

    return screenshot_dir(tmp_path / "screenshots")
