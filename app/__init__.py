"""walletpass: loyalty programs on Apple Wallet and Google Wallet."""

from __future__ import annotations

import logging
import os
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask

from app.config import Settings
from app.errors import register_error_handlers
from app.extensions import db, migrate
from app.startup import startup_lock

MIGRATIONS_DIR = str(Path(__file__).resolve().parent / "migrations")


def create_app(test_config: Mapping[str, Any] | None = None) -> Flask:
    """Build the Flask app from WALLETPASS_* settings, optionally overridden by test_config."""
    settings = Settings.from_env()
    for key, value in (test_config or {}).items():
        if not hasattr(settings, key):
            raise ValueError(f"Unknown setting {key!r} (see `walletpass settings`).")
        setattr(settings, key, value)
    settings.finalize()
    Path(settings.DATA_DIR).mkdir(parents=True, exist_ok=True)
    logging.basicConfig(level=settings.LOG_LEVEL)

    app = Flask(__name__)
    app.config.update(
        SETTINGS=settings,
        SECRET_KEY=settings.SECRET_KEY or _stored_secret(Path(settings.DATA_DIR)),
        SQLALCHEMY_DATABASE_URI=settings.DATABASE_URL,
        SQLALCHEMY_ENGINE_OPTIONS=_engine_options(settings.DATABASE_URL),
        MAX_CONTENT_LENGTH=settings.MAX_CONTENT_LENGTH,
        JSON_SORT_KEYS=False,
    )
    db.init_app(app)
    migrate.init_app(app, db, directory=MIGRATIONS_DIR)
    with app.app_context():
        _configure_sqlite(db.engine)
    register_error_handlers(app)
    _init_wallet(app, settings)
    _register_blueprints(app)
    if settings.CELERY_BROKER_URL:
        from app.jobs import celery_init_app

        celery_init_app(app)
    from app.cli import register_commands

    register_commands(app)
    return app


def _register_blueprints(app: Flask) -> None:
    """Attach every blueprint of the service."""
    from app.api import bp as api_bp
    from app.wallet.apple.webservice import bp as apple_ws_bp
    from app.web import bp as web_bp

    app.register_blueprint(api_bp)
    app.register_blueprint(web_bp)
    app.register_blueprint(apple_ws_bp)


def _init_wallet(app: Flask, settings: Settings) -> None:
    """Load the Apple signing identity once (a clear startup error if it is unusable)."""
    from app.wallet.apple.issuer import PassIssuer, load_signing_identity

    identity = load_signing_identity(settings, app.logger)
    app.extensions["walletpass.apple"] = PassIssuer(identity, settings)


def _stored_secret(data_dir: Path) -> str:
    """A random secret key kept in the data folder, made on first start."""
    path = data_dir / "secret_key"
    with startup_lock(data_dir):  # gunicorn workers start at once: one writes, all read
        if not path.exists():
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as out:
                out.write(secrets.token_urlsafe(48))
        return path.read_text().strip()


def _engine_options(url: str) -> dict[str, Any]:
    """Engine options per database: SQLite waits for locks instead of failing at once."""
    if url.startswith("sqlite"):
        return {"connect_args": {"timeout": 30, "check_same_thread": False}}
    return {"pool_pre_ping": True, "pool_size": 10, "max_overflow": 20}


def _configure_sqlite(engine: Any) -> None:
    """SQLite: WAL, foreign keys, and BEGIN IMMEDIATE so concurrent writers queue, not fail.

    With SQLite's default deferred transactions two writers that both read first deadlock
    on upgrade and one gets "database is locked"; taking the write lock at BEGIN makes
    every transaction wait its turn (up to the 30 s timeout).
    """
    if engine.dialect.name != "sqlite":
        return
    from sqlalchemy import event

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")
