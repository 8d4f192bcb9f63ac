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

from app import i18n
from app.cli_i18n import CliError, Localized, cli_language, t, tn
from app.config import Settings
from app.errors import DomainError
from app.i18n import gettext_noop
from app.production import WEB_THREADS, WEB_WORKERS


def _create_app() -> Flask:
    """App factory for the command line: start-up problems print as one clear line."""
    from app import create_app
    from app.wallet.apple.certs import CertificateError

    try:
        return create_app()
    except (CertificateError, ValueError, OSError) as exc:
        raise CliError(str(exc)) from None


class WalletpassGroup(Localized, FlaskGroup):
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
            raise CliError(domain_message(exc)) from None
        except OperationalError as exc:
            raise CliError(t("The database cannot be used: {reason}", reason=exc.orig)) from None


def domain_message(exc: DomainError) -> str:
    """A refusal of the service in the command line's language (a field's problem named by
    its field, as the API names it in English)."""
    from app.dashboard.i18n import rule_message
    from app.validation import FieldErrors

    lang = cli_language()
    if lang == "en" or not isinstance(exc, FieldErrors) or not exc.problems:
        return i18n.error_message(lang, exc)
    problem = exc.problems[0]
    sentence = rule_message(problem.template, problem.values, lang)
    return f"{problem.field}: {sentence}" if problem.field else sentence


@click.group(cls=WalletpassGroup, create_app=_create_app, add_default_commands=False,
             add_version_option=False,
             help=gettext_noop("walletpass: loyalty cards on Apple Wallet and Google Wallet."))
def main() -> None:
    """The `walletpass` command group."""


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


command = functools.partial(click.command, cls=Localized)
"""A `walletpass` subcommand (its help texts translated when shown)."""


@command("serve", help=gettext_noop(
    "Migrate the database and serve the app (with the embedded worker)."))
@click.option("--host", default="127.0.0.1", show_default=True,
              help=gettext_noop("Address to listen on."))
@click.option("--port", default=5000, show_default=True, type=int,
              help=gettext_noop("Port to listen on."))
@with_database
def serve(host: str, port: int) -> None:
    """Serve the app with werkzeug's threaded server, links pointing at it."""
    from werkzeug.serving import run_simple

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    settings = app.config["SETTINGS"]
    if "WALLETPASS_BASE_URL" not in os.environ:
        settings.BASE_URL = f"http://{host}:{port}"  # links point at this very server
    _start_worker(app)
    click.echo(t("walletpass listening on {url} (data in {folder})",
                 url=f"http://{host}:{port}", folder=settings.DATA_DIR))
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
        click.echo(t("Background jobs run in this process (no broker configured)."))


@command("sweep", help=gettext_noop(
    "Run every background sweep once (pushes, deliveries, expiry) and exit."))
@with_database
def sweep_cmd() -> None:
    """Run each sweep of app.jobs once, printing what it handled."""
    from app.jobs import SWEEPS, run_sweep_now

    for name in SWEEPS:
        click.echo(tn("{sweep}: {n} handled", "{sweep}: {n} handled", run_sweep_now(name),
                      sweep=name))


@command("worker", help=gettext_noop(
    "Run the background sweeps in this process (beside gunicorn, when there is no Celery)."))
@with_database
def worker_cmd() -> None:
    """Run the embedded worker until SIGTERM or Ctrl+C."""
    import signal
    import threading

    from app.jobs import start_embedded_worker

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    settings = app.config["SETTINGS"]
    if settings.CELERY_BROKER_URL:
        raise CliError(t("A Celery broker is configured: run `celery -A app.celery_app worker` "
                         "and `... beat` instead."))
    settings.EMBEDDED_WORKER = True
    worker = start_embedded_worker(app)
    assert worker is not None
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    click.echo(t("walletpass worker running the background sweeps; Ctrl+C stops it."))
    try:
        stop.wait()
    except KeyboardInterrupt:
        pass
    worker.stop()


@command("up", help=gettext_noop(
    "Start the production set: gunicorn, Celery workers and one beat, on PostgreSQL and Redis."))
@click.option("--web-workers", default=WEB_WORKERS, show_default=True, type=click.IntRange(1),
              help=gettext_noop("gunicorn web processes (one per core)."))
@click.option("--web-threads", default=WEB_THREADS, show_default=True, type=click.IntRange(1),
              help=gettext_noop("Threads per web process (gthread workers)."))
@click.option("--celery-workers", default=1, show_default=True, type=click.IntRange(1),
              help=gettext_noop("Celery worker processes (the sweeps); beat is always exactly "
                                "one."))
@click.option("--bind", default="127.0.0.1:8000", show_default=True,
              help=gettext_noop("Address gunicorn listens on (host:port)."))
@click.pass_context
def up_cmd(ctx: click.Context, web_workers: int, web_threads: int, celery_workers: int,
           bind: str) -> None:
    """Check the production settings, migrate once, then supervise the children."""
    from flask.cli import ScriptInfo

    from app import production

    missing = production.missing_settings(dict(os.environ))
    if missing:
        named = (t("{first} and {second}", first=missing[0], second=missing[1])
                 if len(missing) == 2 else ", ".join(missing))
        raise CliError(t("Set {settings} first: the production set runs on PostgreSQL with "
                         "Redis as the Celery broker.", settings=named))
    problem = production.check_urls(os.environ["WALLETPASS_DATABASE_URL"],
                                    os.environ["WALLETPASS_CELERY_BROKER_URL"])
    if problem:
        raise CliError(t(problem))
    app = ctx.ensure_object(ScriptInfo).load_app()
    with app.app_context():
        ensure_schema()  # once here, before the children start
    data_dir = Path(app.config["SETTINGS"].DATA_DIR)
    specs = production.children(data_dir, bind, (web_workers, web_threads), celery_workers)
    click.echo(t("walletpass up: {web} x {threads} on {bind}, {workers}, one beat; Ctrl+C "
                 "stops them.",
                 web=tn("{n} web process", "{n} web processes", web_workers),
                 threads=tn("{n} thread", "{n} threads", web_threads), bind=bind,
                 workers=tn("{n} Celery worker", "{n} Celery workers", celery_workers)))
    ctx.exit(production.run(specs, Path(__file__).resolve().parent.parent, data_dir))


@command("create-merchant", help=gettext_noop(
    "Create a merchant and print a new API key on the last line."))
@click.option("--name", required=True, help=gettext_noop("The merchant's business name."))
@click.option("--email", required=True, help=gettext_noop("The merchant's contact email."))
@click.option("--password", is_flag=False, flag_value="", default=None,
              help=gettext_noop("Also make the e-mail the owner's dashboard login with this "
                                "password (give --password without a value to be asked for "
                                "it, hidden)."))
@with_database
def create_merchant(name: str, email: str, password: str | None) -> None:
    """Create the merchant (and its owner's login), then print its first key."""
    from app.dashboard.accounts import MIN_PASSWORD, create_owner
    from app.extensions import db
    from app.merchants import operations

    if password == "":
        password = click.prompt(t("Dashboard password"), hide_input=True,
                                confirmation_prompt=t("Repeat the password"))
    if password is not None and len(password) < MIN_PASSWORD:
        raise CliError(tn("The password must be at least {n} character.",
                          "The password must be at least {n} characters.", MIN_PASSWORD))
    merchant, plain = operations.create_merchant(name, email)
    if password is not None:
        create_owner(merchant, email, password)
    db.session.commit()
    click.echo(t("Created merchant {id} ({name}). API key (shown once):", id=merchant.id,
                 name=merchant.name))
    click.echo(plain)


@command("list-merchants", help=gettext_noop(
    "List every merchant: id, name, e-mail and number of active API keys."))
@with_database
def list_merchants() -> None:
    """Print one tab-separated line per merchant."""
    from app.merchants import operations

    rows = operations.merchants_with_key_counts()
    if not rows:
        click.echo(t("No merchants yet: `walletpass create-merchant --name ... --email ...`."))
    for merchant, keys in rows:
        click.echo(f"{merchant.id}\t{merchant.name}\t{merchant.email}\t"
                   + tn("{n} active key", "{n} active keys", keys))


MERCHANT_OPTION = click.option("--merchant", "merchant_id", required=True, type=int,
                               help=gettext_noop("The merchant's id."))


@command("list-api-keys", help=gettext_noop(
    "List a merchant's API keys: id, first characters, created, last used, revoked."))
@MERCHANT_OPTION
@with_database
def list_api_keys(merchant_id: int) -> None:
    """Print one tab-separated line per key of the merchant."""
    from app.merchants import operations

    for key in operations.merchant_keys(operations.get_merchant(merchant_id)):
        state = (t("revoked {when}", when=_when(key.revoked_at)) if key.revoked_at
                 else t("active"))
        click.echo(f"{key.id}\t{key.hint}...\t" + t("created {when}", when=_when(key.created_at))
                   + "\t" + t("last used {when}", when=_when(key.last_used_at)) + f"\t{state}")


def _when(moment: Any) -> str:
    """A timestamp to the minute, or 'never'."""
    return moment.strftime("%Y-%m-%d %H:%M UTC") if moment is not None else t("never")


@command("create-api-key", help=gettext_noop(
    "Issue another API key for a merchant and print it on the last line (shown once)."))
@MERCHANT_OPTION
@with_database
def create_api_key(merchant_id: int) -> None:
    """Issue a key and print it."""
    from app.extensions import db
    from app.merchants import operations

    row, plain = operations.issue_key(operations.get_merchant(merchant_id))
    db.session.commit()
    click.echo(t("Created API key {key} for merchant {merchant} (shown once):", key=row.id,
                 merchant=merchant_id))
    click.echo(plain)


@command("rotate-api-key", help=gettext_noop(
    "Revoke API key KEY_ID and print its replacement on the last line (shown once)."))
@click.argument("key_id", type=int)
@with_database
def rotate_api_key(key_id: int) -> None:
    """Replace a key and print the new one."""
    from app.extensions import db
    from app.merchants import operations

    row, plain = operations.rotate_key(key_id)
    db.session.commit()
    click.echo(t("Revoked API key {old}; its replacement is key {new} (shown once):",
                 old=key_id, new=row.id))
    click.echo(plain)


@command("revoke-api-key", help=gettext_noop(
    "Revoke API key KEY_ID: requests with it are refused from now on."))
@click.argument("key_id", type=int)
@with_database
def revoke_api_key(key_id: int) -> None:
    """Revoke a key."""
    from app.extensions import db
    from app.merchants import operations

    operations.revoke_key(key_id)
    db.session.commit()
    click.echo(t("Revoked API key {key}.", key=key_id))


@command("dev-certs", help=gettext_noop(
    "Write untrusted development signing certificates into DIRECTORY."))
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
def dev_certs(directory: Path) -> None:
    """Create the development identity and print where each file went."""
    from app.wallet.apple.certs import create_dev_identity

    settings = Settings.from_env()
    paths = create_dev_identity(directory, pass_type_id=settings.APPLE_DEV_PASS_TYPE_ID,
                                team_id=settings.APPLE_DEV_TEAM_ID)
    for name, path in paths.items():
        click.echo(f"{name}: {path}")


@command("settings", help=gettext_noop("List every setting with its default and meaning."))
@click.option("--markdown", is_flag=True,
              help=gettext_noop("Print a Markdown table (as in the README)."))
def settings_cmd(markdown: bool) -> None:
    """Print Settings.documentation(), plain or as the README's table (always English)."""
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
