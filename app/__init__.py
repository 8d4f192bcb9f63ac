"""walletpass: loyalty programs on Apple Wallet and Google Wallet."""

from __future__ import annotations

import importlib
import logging
import os
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask, request
from werkzeug.routing import IntegerConverter

from app import health, logs, security_headers
from app.config import Settings, legacy_data_notice
from app.errors import DomainError, register_error_handlers
from app.extensions import db, migrate
from app.startup import startup_lock
from app.transactions import begin_reads_only_request
from app.validation import storable

MIGRATIONS_DIR = str(Path(__file__).resolve().parent / "migrations")
MAX_ID = 2**31 - 1  # PostgreSQL's integer; SQLite's is 2**63 - 1


class DatabaseId(IntegerConverter):
    """`<int:...>` in every route: a number a database id column can hold, else 404.

    The bound is in the regex, not only in to_python: Werkzeug checks a rule's methods
    before converting, so a value refused late would turn into a misleading 405.
    """

    def __init__(self, map: Any, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)
        self.regex = digits_up_to(self.max if self.max is not None else MAX_ID)


def digits_up_to(limit: int) -> str:
    """A regex matching the decimal numbers 0..limit (shorter numbers may have leading zeros)."""
    text = str(limit)
    options = [rf"\d{{1,{len(text) - 1}}}"] if len(text) > 1 else []
    for i, digit in enumerate(text):
        if digit != "0":
            rest = len(text) - i - 1
            options.append(f"{text[:i]}[0-{int(digit) - 1}]" + (rf"\d{{{rest}}}" if rest else ""))
    options.append(text)
    return "(?:" + "|".join(options) + ")"


def create_app(test_config: Mapping[str, Any] | None = None) -> Flask:
    """Build the Flask app from WALLETPASS_* settings, optionally overridden by test_config."""
    settings = Settings.from_env()
    for key, value in (test_config or {}).items():
        if not hasattr(settings, key):
            raise ValueError(f"Unknown setting {key!r} (see `walletpass settings`).")
        setattr(settings, key, value)
    settings.finalize()
    Path(settings.DATA_DIR).mkdir(parents=True, exist_ok=True)
    logs.configure(settings.LOG_LEVEL, settings.LOG_FORMAT)
    notice = legacy_data_notice(settings.DATA_DIR)
    if notice:
        logging.getLogger(__name__).warning(notice)

    app = Flask(__name__)
    app.url_map.converters["int"] = DatabaseId  # before any route is added
    health.init_app(app)  # first: every request gets its id before anything can fail
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
        _configure_engine(db.engine)
    register_error_handlers(app)
    security_headers.init_app(app)
    app.before_request(refuse_unstorable_query)
    app.before_request(begin_reads_only_request)
    if settings.TRUSTED_PROXIES > 0:
        from werkzeug.middleware.proxy_fix import ProxyFix

        n = settings.TRUSTED_PROXIES
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n)  # type: ignore[method-assign]
    _init_wallet(app, settings)
    _init_mail(app, settings)
    _register_blueprints(app)
    from app import tasks  # noqa: F401  (each feature registers its sweeps with app.jobs)

    if settings.CELERY_BROKER_URL:
        from app.jobs import celery_init_app

        celery_init_app(app)
    return app


def refuse_unstorable_query() -> None:
    """Refuse a query string no database can store or compare (a NUL byte, a lone
    surrogate): one check here instead of one in every route that searches."""
    for name, value in request.args.items(multi=True):
        if not (storable(name) and storable(value)):
            raise DomainError(f"Query parameter {name[:40]!r} contains characters that are "
                              "not allowed (NUL or unpaired surrogates).",
                              code="invalid_query")


def _register_blueprints(app: Flask) -> None:
    """Attach every blueprint of the service, once the views have added their routes."""
    _import_views()
    from app import dashboard
    from app.analytics.views import bp as analytics_bp
    from app.api import bp as api_bp
    from app.mail.views import bp as mail_bp
    from app.wallet.apple.webservice import bp as apple_ws_bp
    from app.wallet.google.web import bp as google_bp
    from app.web import bp as web_bp

    app.register_blueprint(api_bp)
    app.register_blueprint(web_bp)
    app.register_blueprint(apple_ws_bp)
    app.register_blueprint(google_bp)
    app.register_blueprint(mail_bp)
    app.register_blueprint(analytics_bp)
    dashboard.init_app(app)


VIEW_MODULES = (
    *(f"app.api.{name}" for name in ("contract", "devices", "imports", "locations", "loyalty",
                                      "mail", "members", "openapi", "posters", "programs",
                                      "webhooks")),
    *(f"app.dashboard.{name}" for name in ("analytics", "auth", "design", "distribution",
                                            "home", "loyalty", "members", "scanner",
                                            "settings", "staff", "uploads")),
    "app.web.cards", "app.web.signup",
)
"""The modules whose routes register on a package's blueprint (api, dashboard, web). The
factory imports them, not the package, so no blueprint sits in an import cycle."""


def _import_views() -> None:
    """Import every view module (each adds its routes to its package's blueprint)."""
    for name in VIEW_MODULES:
        importlib.import_module(name)


def _init_wallet(app: Flask, settings: Settings) -> None:
    """Load the Apple signing identity and the Google service account once (a clear
    start-up error if either is unusable; Google is never called at start-up)."""
    from app.wallet.apple.issuer import PassIssuer, load_signing_identity
    from app.wallet.google.issuer import load_google_wallet

    identity = load_signing_identity(settings, app.logger)
    app.extensions["walletpass.apple"] = PassIssuer(identity, settings)
    app.extensions["walletpass.google"] = load_google_wallet(settings, app.logger)


def _init_mail(app: Flask, settings: Settings) -> None:
    """Parse WALLETPASS_SMTP_URL once (a clear start-up error, without the password, if bad)."""
    from app.mail.transport import parse_smtp_url

    app.extensions["walletpass.smtp"] = parse_smtp_url(settings.SMTP_URL)


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
    return {"pool_size": 10, "max_overflow": 20}  # idle connections pinged: _configure_engine


def _configure_engine(engine: Any) -> None:
    """Every database: writes in a `reads_only` view refused; PostgreSQL: idle pooled
    connections tested before use; SQLite: see _configure_sqlite."""
    from sqlalchemy import event
    from sqlalchemy.orm import Session

    from app.transactions import configure_idle_ping, refuse_writes_in_reads_only

    if not event.contains(Session, "before_flush", refuse_writes_in_reads_only):
        event.listen(Session, "before_flush", refuse_writes_in_reads_only)
    if engine.dialect.name == "sqlite":
        _configure_sqlite(engine)
    else:
        configure_idle_ping(engine)


def _configure_sqlite(engine: Any) -> None:
    """SQLite: WAL, foreign keys, and BEGIN IMMEDIATE so concurrent writers queue, not fail.

    With SQLite's default deferred transactions two writers that both read first deadlock
    on upgrade and one gets "database is locked"; taking the write lock at BEGIN makes
    every transaction that may write wait its turn (up to the 30 s timeout). Read-only
    requests begin deferred and never wait for it (app/transactions.py).
    """
    if engine.dialect.name != "sqlite":
        return
    from sqlalchemy import event

    from app.transactions import configure_sqlite_begin

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.close()

    configure_sqlite_begin(engine)  # read requests: deferred BEGIN; the rest: IMMEDIATE
