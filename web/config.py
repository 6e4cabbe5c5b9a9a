"""Configuration from the environment (CONTRACT section 2). Secrets that are not set are
generated once into the instance folder, which git ignores."""

from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path

SECRET_FILES = {"SECRET_KEY": "secret_key", "JINDOU_VOUCHER_KEY": "voucher_key",
                "JINDOU_CHECKIN_KEY": "checkin_key",
                "JINDOU_LEDGER_SIGNING_KEY": "ledger_signing_key",
                "JINDOU_PAYMENT_DETAILS_KEY": "payment_details_key"}


def instance_path() -> Path:
    return Path(os.environ.get("JINDOU_INSTANCE_PATH") or Path.cwd() / "instance").resolve()


def database_url(instance: Path) -> str:
    url = os.environ.get("JINDOU_DATABASE_URL") or f"sqlite:///{instance / 'jindou.sqlite3'}"
    # A bare postgresql:// URL would pick psycopg2; we ship psycopg 3.
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            url = "postgresql+psycopg://" + url[len(prefix):]
    return url


def engine_options(url: str) -> dict:
    """The connection pool. ``pool_pre_ping`` costs a round trip at every request's first
    statement (one of the four of a bearer-token GET); without it, connections older than
    ``JINDOU_DB_POOL_RECYCLE_SECONDS`` are replaced, and a request that meets a connection the
    server dropped (a restart) answers 503 database_unavailable and the pool starts afresh.
    SQLite has no server to lose: Flask-SQLAlchemy's defaults."""
    if url.startswith("sqlite"):
        return {}
    return {
        "pool_pre_ping": os.environ.get("JINDOU_DB_PRE_PING", "0") == "1",
        "pool_recycle": int(os.environ.get("JINDOU_DB_POOL_RECYCLE_SECONDS", "1800")),
        "pool_size": int(os.environ.get("JINDOU_DB_POOL_SIZE", "5")),
    }


def instance_secret(instance: Path, name: str) -> str:
    path = instance / name
    if not path.exists():
        instance.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()


def from_environment(instance: Path) -> dict:
    config = {
        "SQLALCHEMY_DATABASE_URI": database_url(instance),
        "SQLALCHEMY_ENGINE_OPTIONS": engine_options(database_url(instance)),
        "SECRET_KEY": os.environ.get("JINDOU_SECRET_KEY"),
        "JINDOU_VOUCHER_KEY": os.environ.get("JINDOU_VOUCHER_KEY"),
        "JINDOU_CHECKIN_KEY": os.environ.get("JINDOU_CHECKIN_KEY"),
        # The Ed25519 seed (64 hex digits) that signs the ledger's heads: never in the database.
        "JINDOU_LEDGER_SIGNING_KEY": os.environ.get("JINDOU_LEDGER_SIGNING_KEY"),
        "JINDOU_LEDGER_HEADS_DIR": os.environ.get("JINDOU_LEDGER_HEADS_DIR")
        or str(instance / "ledger-heads"),
        "JINDOU_LEDGER_HEADS_COPY_TO": os.environ.get("JINDOU_LEDGER_HEADS_COPY_TO"),
        "JINDOU_PAYMENT_DETAILS_KEY": os.environ.get("JINDOU_PAYMENT_DETAILS_KEY"),
        "STRIPE_SECRET_KEY": os.environ.get("STRIPE_SECRET_KEY"),
        "STRIPE_WEBHOOK_SECRET": os.environ.get("STRIPE_WEBHOOK_SECRET"),
        "STRIPE_API_BASE": os.environ.get("STRIPE_API_BASE"),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        # Behind HTTPS (JINDOU_HTTPS=1) cookies are Secure and HSTS is sent (web/headers.py).
        "JINDOU_HTTPS": os.environ.get("JINDOU_HTTPS") == "1",
        "SESSION_COOKIE_SECURE": os.environ.get("JINDOU_HTTPS") == "1",
        # A session idle for 12 hours ends (each request renews it).
        "PERMANENT_SESSION_LIFETIME": timedelta(hours=12),
        "SESSION_REFRESH_EACH_REQUEST": True,
        "MAX_CONTENT_LENGTH": 32 * 1024 * 1024,
        "BABEL_DEFAULT_LOCALE": "zh_Hans_CN",
        "BABEL_DEFAULT_TIMEZONE": "Asia/Shanghai",
        "LANGUAGES": {"zh_Hans_CN": "简体中文", "en": "English"},
        "RATELIMIT_STORAGE_URI": os.environ.get("JINDOU_RATELIMIT_STORAGE_URI", "memory://"),
        "RATELIMIT_HEADERS_ENABLED": True,
        # Several deployments (or test runs) may share one Redis: each counts under its prefix.
        "RATELIMIT_KEY_PREFIX": os.environ.get("JINDOU_RATELIMIT_KEY_PREFIX", "jindou"),
        "LOGIN_RATE_LIMIT": os.environ.get("JINDOU_LOGIN_RATE_LIMIT", "10 per minute"),
        "SCAN_RATE_LIMIT": os.environ.get("JINDOU_SCAN_RATE_LIMIT", "60 per minute"),
        "API_TITLE": "Jindou 金豆 API",
        "API_VERSION": "v1",
        "OPENAPI_VERSION": "3.0.3",
        "OPENAPI_URL_PREFIX": "/api/v1",
        "OPENAPI_JSON_PATH": "openapi.json",
        "OPENAPI_SWAGGER_UI_PATH": "docs",
        # Served by the app from web/static/vendor/swagger-ui (make vendor), never a CDN: our
        # web/templates/swagger_ui.html replaces flask-smorest's page.
        "OPENAPI_SWAGGER_UI_URL": "/static/vendor/swagger-ui/",
        "API_SPEC_OPTIONS": {
            "components": {"securitySchemes": {
                "bearerAuth": {"type": "http", "scheme": "bearer"}}},
            "security": [{"bearerAuth": []}],
            "info": {"description": "Points ledger, programmes and awards of Jindou. "
                     "Errors: {code, message, errors}. Amounts are integers "
                     "(*_points in points, *_fen in fen)."},
        },
    }
    for key, filename in SECRET_FILES.items():
        if not config[key]:
            config[key] = instance_secret(instance, filename)
    config.update(job_settings())
    return config


def job_settings() -> dict:
    """The worker's settings as given (``JINDOU_JOB_<NAME>_SECONDS``,
    ``JINDOU_WORKER_POLL_SECONDS``); ``jobs.intervals`` checks them and fills in defaults."""
    return {key: value for key, value in os.environ.items()
            if (key.startswith("JINDOU_JOB_") and key.endswith("_SECONDS"))
            or key == "JINDOU_WORKER_POLL_SECONDS"}
