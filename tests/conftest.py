"""Shared fixtures: the app on SQLite and on a real PostgreSQL server, dev certificates, API keys.

Every test that takes the `app` fixture runs twice, once per database. Set
WALLETPASS_TEST_DATABASES=sqlite to run only the SQLite leg (the PostgreSQL leg then
reports as deselected, never as passed). WALLETPASS_TEST_POSTGRES_URL points the
suite at an existing server instead of starting a throwaway one.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import create_engine, text

from app import create_app
from app.cli import main
from app.extensions import db
from tests.pg import PostgresServer, find_bindir

DATABASES = [d.strip() for d in os.environ.get("WALLETPASS_TEST_DATABASES",
                                                "sqlite,postgresql").split(",") if d.strip()]
BASE_URL = "https://wallet.example.test"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Deselect (visibly) the database legs not asked for."""
    keep, drop = [], []
    for item in items:
        callspec = getattr(item, "callspec", None)
        dbname = callspec.params.get("database") if callspec else None
        (drop if dbname and dbname not in DATABASES else keep).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


@pytest.fixture(scope="session")
def cert_paths(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Development signing certificates, made once per test session."""
    from app.wallet.apple.certs import create_dev_identity

    return create_dev_identity(tmp_path_factory.mktemp("certs"))


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A PostgreSQL server for the session: the given one, or a throwaway one on loopback."""
    given = os.environ.get("WALLETPASS_TEST_POSTGRES_URL")
    if given:
        yield given
        return
    bindir = find_bindir()
    if bindir is None:
        pytest.fail("PostgreSQL is not installed: run `bash tests/setup_services.sh` first, "
                    "or set WALLETPASS_TEST_DATABASES=sqlite to run the SQLite leg only.")
    server = PostgresServer(bindir)
    try:
        yield server.start()
    finally:
        server.stop()


def app_config(tmp_path: Path, cert_paths: dict[str, Path], url: str,
               **extra: Any) -> dict[str, Any]:
    """Settings for a test app."""
    return {
        "DATA_DIR": str(tmp_path / "data"),
        "DATABASE_URL": url,
        "BASE_URL": BASE_URL,
        "SECRET_KEY": "test-secret",
        "APPLE_CERT": str(cert_paths["cert"]),
        "APPLE_KEY": str(cert_paths["key"]),
        "APPLE_WWDR": str(cert_paths["wwdr"]),
        "APPLE_P12": "",
        "CELERY_BROKER_URL": "",
        "EMBEDDED_WORKER": False,
        **extra,
    }


def _migrate(tmp_path: Path, cert_paths: dict[str, Path], url: str) -> None:
    """Run every migration against a database."""
    from flask_migrate import upgrade

    app = create_app(app_config(tmp_path, cert_paths, url))
    with app.app_context():
        upgrade(revision="heads")
        db.engine.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory,
                    cert_paths: dict[str, Path]) -> Path:
    """A migrated SQLite file, copied for each test."""
    root = tmp_path_factory.mktemp("sqlite-template")
    path = root / "template.db"
    _migrate(root, cert_paths, f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def postgres_db(postgres_url: str, tmp_path_factory: pytest.TempPathFactory,
                cert_paths: dict[str, Path]) -> str:
    """A migrated PostgreSQL database, emptied after each test."""
    admin = create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text("DROP DATABASE IF EXISTS walletpass_test"))
        conn.execute(text("CREATE DATABASE walletpass_test"))
    admin.dispose()
    url = postgres_url.rsplit("/", 1)[0] + "/walletpass_test"
    _migrate(tmp_path_factory.mktemp("pg-migrate"), cert_paths, url)
    return url


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest) -> str:
    """Which database this test runs on."""
    return str(request.param)


@pytest.fixture
def database_url(database: str, request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, migrated database for one test."""
    if database == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        path = tmp_path / "walletpass.db"
        shutil.copyfile(template, path)
        return f"sqlite:///{path}"
    return str(request.getfixturevalue("postgres_db"))


@pytest.fixture
def make_app(database_url: str, tmp_path: Path,
             cert_paths: dict[str, Path]) -> Iterator[Any]:
    """A factory for apps on this test's database (extra settings as keyword arguments)."""
    apps: list[Flask] = []

    def factory(**extra: Any) -> Flask:
        app = create_app(app_config(tmp_path, cert_paths, database_url, **extra))
        app.config["TESTING"] = True
        apps.append(app)
        return app

    yield factory
    for app in apps:
        with app.app_context():
            db.session.remove()
            if db.engine.dialect.name == "postgresql":
                _truncate_all()
            db.engine.dispose()


def _truncate_all() -> None:
    """Empty every table (PostgreSQL), so the next test starts clean."""
    names = ", ".join(f'"{t.name}"' for t in db.metadata.sorted_tables)
    with db.engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))


@pytest.fixture
def app(make_app: Any) -> Flask:
    """The app on this test's database."""
    return make_app()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """A test client of the app."""
    return app.test_client()


def new_api_key(app: Flask, name: str = "Bean There", email: str = "owner@example.test") -> str:
    """Create a merchant and return its API key (through the real CLI command)."""
    result = app.test_cli_runner().invoke(main, args=["create-merchant", "--name", name,
                                                "--email", email])
    assert result.exit_code == 0, result.output
    return result.output.strip().splitlines()[-1]


class Api:
    """A JSON API client for one merchant's key."""

    def __init__(self, client: FlaskClient, key: str) -> None:
        self.client = client
        self.headers = {"Authorization": f"Bearer {key}"}

    def get(self, path: str, **kw: Any) -> Any:
        """GET /api/v1 + path."""
        return self.client.get("/api/v1" + path, headers=self.headers, **kw)

    def post(self, path: str, json: Any = None, **kw: Any) -> Any:
        """POST JSON to /api/v1 + path."""
        return self.client.post("/api/v1" + path, json=json, headers={**self.headers,
                                **kw.pop("headers", {})}, **kw)

    def patch(self, path: str, json: Any = None, **kw: Any) -> Any:
        """PATCH JSON to /api/v1 + path."""
        return self.client.patch("/api/v1" + path, json=json, headers=self.headers, **kw)

    def put(self, path: str, **kw: Any) -> Any:
        """PUT to /api/v1 + path."""
        return self.client.put("/api/v1" + path, headers=self.headers, **kw)


@pytest.fixture
def api(app: Flask, client: FlaskClient) -> Api:
    """An API client for a fresh merchant."""
    return Api(client, new_api_key(app))


@pytest.fixture
def other_api(app: Flask, client: FlaskClient) -> Api:
    """An API client for a second, unrelated merchant."""
    return Api(client, new_api_key(app, "Other Shop", "other@example.test"))


@pytest.fixture
def program(api: Api) -> dict[str, Any]:
    """A cafe program of the merchant."""
    resp = api.post("/programs", {"name": "Bean There Rewards", "template": "cafe"})
    assert resp.status_code == 201, resp.get_json()
    return dict(resp.get_json())


@pytest.fixture
def member(api: Api, program: dict[str, Any]) -> dict[str, Any]:
    """A member of the cafe program."""
    resp = api.post(f"/programs/{program['id']}/members",
                    {"email": "ann@example.test", "name": "Ann Lee"})
    assert resp.status_code == 201, resp.get_json()
    return dict(resp.get_json())


# --- APNs stand-in (issue 4) -------------------------------------------------------------


@pytest.fixture(scope="session")
def apns_tls(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A test CA and the stand-in's server certificate, made once per session."""
    from tests.apns_standin import make_server_tls

    return make_server_tls(tmp_path_factory.mktemp("apns-tls"))


@pytest.fixture
def apns(apns_tls: dict[str, Path], cert_paths: dict[str, Path]) -> Iterator[Any]:
    """A running APNs stand-in that requires a client certificate from the dev chain."""
    from app.wallet.apple.apns import ApnsClient
    from tests.apns_standin import ApnsStandIn

    server = ApnsStandIn(apns_tls, client_ca=cert_paths["root"])
    server.start()
    try:
        yield server
    finally:
        ApnsClient.close_all()  # the server waits for open connections when it stops
        server.stop()


def apns_settings(apns: Any, apns_tls: dict[str, Path], **extra: Any) -> dict[str, Any]:
    """App settings pointing pushes at the stand-in."""
    return {"APNS_URL": apns.url, "APNS_CA_FILE": str(apns_tls["ca"]), "APNS_TIMEOUT": 5.0,
            **extra}


# --- Google stand-in ---------------------------------------------------------------------


@pytest.fixture
def google() -> Iterator[Any]:
    """The Google stand-in on loopback, enforcing Google's 20 requests per second (a test
    module may override it with its own)."""
    from tests.google_standin import Server

    server = Server()
    state = server.start()
    state.rate_limit = 20
    yield state
    server.stop()
