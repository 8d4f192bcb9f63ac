"""The `walletpass` command: serve, up (the production set), merchants and API keys,
dev-certs, settings, db (migrations).

Commands that use the database bring it up to date first (Alembic upgrade under the data
folder's start-up lock, so processes starting at once migrate one after the other).
`walletpass --help` builds no app and so creates no folder or file.
"""

from __future__ import annotations

import functools
import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
from flask import Flask, current_app
from flask.cli import FlaskGroup, with_appcontext
from flask_migrate.cli import db as db_group

from app.config import Settings
from app.errors import DomainError


def _create_app() -> Flask:
    """App factory for the command line: start-up problems print as one clear line."""
    from app import create_app
    from app.wallet.apple.certs import CertificateError

    try:
        return create_app()
    except (CertificateError, ValueError, OSError) as exc:
        raise click.ClickException(str(exc)) from None


class WalletpassGroup(FlaskGroup):
    """Flask's command group, listing its commands without building the app."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        """The service's commands (FlaskGroup would build the app just to list them)."""
        return sorted(self.commands)

    def invoke(self, ctx: click.Context) -> Any:
        """Run a command; domain and database failures print as one line, not a traceback."""
        from sqlalchemy.exc import OperationalError

        try:
            return super().invoke(ctx)
        except DomainError as exc:
            raise click.ClickException(exc.message) from None
        except OperationalError as exc:
            raise click.ClickException(f"The database cannot be used: {exc.orig}") from None


@click.group(cls=WalletpassGroup, create_app=_create_app, add_default_commands=False,
             add_version_option=False)
def main() -> None:
    """walletpass: loyalty cards on Apple Wallet and Google Wallet."""


def ensure_schema() -> None:
    """Bring the current app's database to the newest migration, one process at a time."""
    from flask_migrate import upgrade

    from app.startup import startup_lock

    if schema_is_current():
        return
    settings = current_app.config["SETTINGS"]
    with startup_lock(Path(settings.DATA_DIR)):
        upgrade(revision="heads")


def schema_is_current() -> bool:
    """Whether the database is already at every migration head (a cheap check, no lock)."""
    from alembic.migration import MigrationContext

    from app.extensions import db

    heads = _migration_heads(current_app.extensions["migrate"].directory)
    chatty = logging.getLogger("alembic.runtime.migration")  # logs its dialect at INFO
    level = chatty.level
    chatty.setLevel(logging.WARNING)
    try:
        with db.engine.connect() as conn:
            return frozenset(MigrationContext.configure(conn).get_current_heads()) == heads
    finally:
        chatty.setLevel(level)


@functools.cache
def _migration_heads(directory: str) -> frozenset[str]:
    """The head revisions of the migration scripts in a folder (read once per process)."""
    from alembic.script import ScriptDirectory

    return frozenset(ScriptDirectory(directory).get_heads())


def with_database(command: Callable[..., Any]) -> Callable[..., Any]:
    """Run a command in the app context, on a database brought up to date first."""

    @with_appcontext
    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        ensure_schema()
        return command(*args, **kwargs)

    return wrapper


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=5000, show_default=True, type=int, help="Port to listen on.")
@with_database
def serve(host: str, port: int) -> None:
    """Migrate the database and serve the app (with the embedded worker)."""
    from werkzeug.serving import run_simple

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    settings = app.config["SETTINGS"]
    if "WALLETPASS_BASE_URL" not in os.environ:
        settings.BASE_URL = f"http://{host}:{port}"  # links point at this very server
    _start_worker(app)
    click.echo(f"walletpass listening on http://{host}:{port} (data in "
               f"{app.config['SETTINGS'].DATA_DIR})")
    run_simple(host, port, app, threaded=True, use_reloader=False,
               request_handler=_quiet_request_handler())


def _quiet_request_handler() -> Any:
    """The dev server's request handler without its access line: that line shows the raw
    path, card tokens included; the app logs each request by its route instead."""
    from werkzeug.serving import WSGIRequestHandler

    class Quiet(WSGIRequestHandler):
        def log_request(self, *_: Any) -> None:
            """No access line (app/health.py logs one per request, without tokens)."""

    return Quiet


def _start_worker(app: Flask) -> None:
    """Start the in-process background worker when no broker is configured."""
    from app.jobs import start_embedded_worker

    if start_embedded_worker(app) is not None:
        click.echo("Background jobs run in this process (no broker configured).")


@click.command("sweep")
@with_database
def sweep_cmd() -> None:
    """Run every background sweep once (pushes, deliveries, expiry) and exit."""
    from app.jobs import SWEEPS, run_sweep_now

    for name in SWEEPS:
        click.echo(f"{name}: {run_sweep_now(name)} handled")


@click.command("worker")
@with_database
def worker_cmd() -> None:
    """Run the background sweeps in this process (beside gunicorn, when there is no Celery)."""
    import signal
    import threading

    from app.jobs import start_embedded_worker

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    settings = app.config["SETTINGS"]
    if settings.CELERY_BROKER_URL:
        raise click.ClickException("A Celery broker is configured: run "
                                   "`celery -A app.celery_app worker` and `... beat` instead.")
    settings.EMBEDDED_WORKER = True
    worker = start_embedded_worker(app)
    assert worker is not None
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    click.echo("walletpass worker running the background sweeps; Ctrl+C stops it.")
    try:
        stop.wait()
    except KeyboardInterrupt:
        pass
    worker.stop()


@click.command("up")
@click.option("--web-workers", default=2, show_default=True, type=click.IntRange(1),
              help="gunicorn web processes.")
@click.option("--celery-workers", default=1, show_default=True, type=click.IntRange(1),
              help="Celery worker processes (the sweeps); beat is always exactly one.")
@click.option("--bind", default="127.0.0.1:8000", show_default=True,
              help="Address gunicorn listens on (host:port).")
@click.pass_context
def up_cmd(ctx: click.Context, web_workers: int, celery_workers: int, bind: str) -> None:
    """Start the production set: gunicorn, Celery workers and one beat, on PostgreSQL and Redis."""
    from flask.cli import ScriptInfo

    from app import production

    missing = production.missing_settings(dict(os.environ))
    if missing:
        raise click.ClickException(f"Set {' and '.join(missing)} first: the production set "
                                   "runs on PostgreSQL with Redis as the Celery broker.")
    problem = production.check_urls(os.environ["WALLETPASS_DATABASE_URL"],
                                    os.environ["WALLETPASS_CELERY_BROKER_URL"])
    if problem:
        raise click.ClickException(problem)
    app = ctx.ensure_object(ScriptInfo).load_app()
    with app.app_context():
        ensure_schema()  # once here, before the children start
    data_dir = Path(app.config["SETTINGS"].DATA_DIR)
    specs = production.children(data_dir, bind, web_workers, celery_workers)
    click.echo(f"walletpass up: {web_workers} web process(es) on {bind}, {celery_workers} "
               "Celery worker(s), one beat; Ctrl+C stops them.")
    ctx.exit(production.run(specs, Path(__file__).resolve().parent.parent, data_dir))


@click.command("create-merchant")
@click.option("--name", required=True, help="The merchant's business name.")
@click.option("--email", required=True, help="The merchant's contact email.")
@click.option("--password", is_flag=False, flag_value="", default=None,
              help="Also make the e-mail the owner's dashboard login with this password "
                   "(give --password without a value to be asked for it, hidden).")
@with_database
def create_merchant(name: str, email: str, password: str | None) -> None:
    """Create a merchant and print a new API key on the last line."""
    from app.dashboard.accounts import MIN_PASSWORD, create_owner
    from app.extensions import db
    from app.merchants import operations

    if password == "":
        password = click.prompt("Dashboard password", hide_input=True,
                                confirmation_prompt=True)
    if password is not None and len(password) < MIN_PASSWORD:
        raise click.ClickException(f"The password must be at least {MIN_PASSWORD} "
                                   "characters.")
    merchant, plain = operations.create_merchant(name, email)
    if password is not None:
        create_owner(merchant, email, password)
    db.session.commit()
    click.echo(f"Created merchant {merchant.id} ({merchant.name}). API key (shown once):")
    click.echo(plain)


@click.command("list-merchants")
@with_database
def list_merchants() -> None:
    """List every merchant: id, name, e-mail and number of active API keys."""
    from app.merchants import operations

    rows = operations.merchants_with_key_counts()
    if not rows:
        click.echo("No merchants yet: `walletpass create-merchant --name ... --email ...`.")
    for merchant, keys in rows:
        click.echo(f"{merchant.id}\t{merchant.name}\t{merchant.email}\t{keys} active key(s)")


@click.command("list-api-keys")
@click.option("--merchant", "merchant_id", required=True, type=int, help="The merchant's id.")
@with_database
def list_api_keys(merchant_id: int) -> None:
    """List a merchant's API keys: id, first characters, created, last used, revoked."""
    from app.merchants import operations

    for key in operations.merchant_keys(operations.get_merchant(merchant_id)):
        state = f"revoked {_when(key.revoked_at)}" if key.revoked_at else "active"
        click.echo(f"{key.id}\t{key.hint}...\tcreated {_when(key.created_at)}\t"
                   f"last used {_when(key.last_used_at)}\t{state}")


def _when(moment: Any) -> str:
    """A timestamp to the minute, or 'never'."""
    return moment.strftime("%Y-%m-%d %H:%M UTC") if moment is not None else "never"


@click.command("create-api-key")
@click.option("--merchant", "merchant_id", required=True, type=int, help="The merchant's id.")
@with_database
def create_api_key(merchant_id: int) -> None:
    """Issue another API key for a merchant and print it on the last line (shown once)."""
    from app.extensions import db
    from app.merchants import operations

    row, plain = operations.issue_key(operations.get_merchant(merchant_id))
    db.session.commit()
    click.echo(f"Created API key {row.id} for merchant {merchant_id} (shown once):")
    click.echo(plain)


@click.command("rotate-api-key")
@click.argument("key_id", type=int)
@with_database
def rotate_api_key(key_id: int) -> None:
    """Revoke API key KEY_ID and print its replacement on the last line (shown once)."""
    from app.extensions import db
    from app.merchants import operations

    row, plain = operations.rotate_key(key_id)
    db.session.commit()
    click.echo(f"Revoked API key {key_id}; its replacement is key {row.id} (shown once):")
    click.echo(plain)


@click.command("revoke-api-key")
@click.argument("key_id", type=int)
@with_database
def revoke_api_key(key_id: int) -> None:
    """Revoke API key KEY_ID: requests with it are refused from now on."""
    from app.extensions import db
    from app.merchants import operations

    operations.revoke_key(key_id)
    db.session.commit()
    click.echo(f"Revoked API key {key_id}.")


@click.command("dev-certs")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
def dev_certs(directory: Path) -> None:
    """Write untrusted development signing certificates into DIRECTORY."""
    from app.wallet.apple.certs import create_dev_identity

    settings = Settings.from_env()
    paths = create_dev_identity(directory, pass_type_id=settings.APPLE_DEV_PASS_TYPE_ID,
                                team_id=settings.APPLE_DEV_TEAM_ID)
    for name, path in paths.items():
        click.echo(f"{name}: {path}")


@click.command("settings")
@click.option("--markdown", is_flag=True, help="Print a Markdown table (as in the README).")
def settings_cmd(markdown: bool) -> None:
    """List every setting with its default and meaning."""
    if markdown:
        click.echo("| variable | default | meaning |\n|---|---|---|")
    for var, default, doc in Settings.documentation():
        if markdown:
            click.echo(f"| `{var}` | `{default}` | {doc} |".replace("``", "(empty)"))
        else:
            click.echo(f"{var}={default}\n    {doc}")


COMMANDS = [serve, worker_cmd, up_cmd, sweep_cmd, create_merchant, list_merchants, list_api_keys,
            create_api_key, rotate_api_key, revoke_api_key, dev_certs, settings_cmd]
for _command in COMMANDS:
    main.add_command(_command)
main.add_command(db_group)


if __name__ == "__main__":  # python -m app.cli
    main()
