"""The Flask adapter: app factory, extensions, blueprints, CLI. The only package that imports
Flask; everything it does goes through the domain services."""

from __future__ import annotations

from pathlib import Path

from flask import Flask, request, session
from flask_smorest import Api

import ledger

from . import config as config_module
from .api.schemas.common import ErrorSchema
from .extensions import babel, csrf, db, limiter, login_manager, migrate

MIGRATIONS_DIRECTORY = Path(__file__).resolve().parent.parent / "migrations"


def create_app(overrides: dict | None = None) -> Flask:
    instance = config_module.instance_path()
    app = Flask(__name__, instance_path=str(instance), instance_relative_config=False)
    app.config.update(config_module.from_environment(instance))
    app.config.update(overrides or {})
    from . import edge

    edge.register(app)  # before any route: the bounded <int:...> converter

    import activities  # noqa: F401  (every package's tables join the metadata)
    import honours  # noqa: F401
    import jobs  # noqa: F401
    import merchants  # noqa: F401
    import payments  # noqa: F401
    import payouts  # noqa: F401
    import reports  # noqa: F401
    import volunteers  # noqa: F401

    payouts.crypto.configure(app.config["JINDOU_PAYMENT_DETAILS_KEY"])
    db.init_app(app)
    with app.app_context():
        ledger.configure_engine(db.engine)
    migrate.init_app(app, db, directory=str(MIGRATIONS_DIRECTORY))
    login_manager.init_app(app)
    login_manager.login_view = "pages.volunteers.login"
    login_manager.login_message = None
    csrf.init_app(app)
    limiter.init_app(app)
    babel.init_app(app, locale_selector=select_locale, timezone_selector=lambda: "Asia/Shanghai")
    api = JindouApi(app)

    from . import api as api_package
    from . import auth, errors, formatting, headers, navigation  # noqa: F401  (auth: the loader)
    from .pages import notifications

    _exempt_api_from_csrf(api_package.register(api))
    _register_pages(app)
    notifications.register(app)
    formatting.register(app)
    navigation.register(app)
    errors.register(app)
    _record_addresses(app)
    headers.register(app)

    from .cli import register_commands

    register_commands(app)
    return app


def _record_addresses(app: Flask) -> None:
    """Each request's changes are logged with the client's address (behind a proxy, the
    proxy's unless ProxyFix is configured)."""
    from volunteers import audit

    @app.before_request
    def remember_address():
        audit.set_address(db.session, request.remote_addr)


def _register_pages(app: Flask) -> None:
    """The HTML pages of each feature, Open311 and the Stripe webhook."""
    from . import open311, pages, stripe_webhook

    pages.register(app)
    app.register_blueprint(open311.bp)
    app.register_blueprint(stripe_webhook.bp)
    # Open311 clients authenticate by api_key, never by cookie: nothing for CSRF to protect.
    csrf.exempt(open311.bp)


class JindouApi(Api):
    """The OpenAPI document describes our error body, not flask-smorest's default one."""

    ERROR_SCHEMA = ErrorSchema


def _exempt_api_from_csrf(blueprints) -> None:
    """The API authenticates by bearer token only, never by cookie, so a forged cross-site
    request carries no credentials and needs no CSRF token. Only our module-level API
    blueprints are exempted: the extension is module-level too, and an app's own blueprints
    added to it (flask-smorest's documentation pages, GET only) would keep every app built in
    the process alive."""
    for blueprint in blueprints:
        csrf.exempt(blueprint)


def select_locale() -> str:
    from flask import current_app

    languages = current_app.config["LANGUAGES"]
    chosen = session.get("locale")
    if chosen in languages:
        return chosen
    from flask_login import current_user

    if current_user and current_user.is_authenticated and current_user.locale in languages:
        return current_user.locale
    default = current_app.config["BABEL_DEFAULT_LOCALE"]
    # Chinese first: English only for a browser that asks for it before any Chinese. Compare
    # primary tags: werkzeug's best_match would pick "en" over an unlisted zh-TW or zh-Hans-CN.
    for language, quality in request.accept_languages if request else ():
        primary = language.replace("_", "-").split("-")[0].lower()
        if quality > 0 and primary in ("zh", "en"):
            return "en" if primary == "en" else default
    return default
