"""The `walletpass` command: serve, create-merchant, dev-certs, settings, db (migrations)."""

from __future__ import annotations

import os
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import FlaskGroup, with_appcontext

from app.config import Settings


def _create_app() -> Flask:
    """App factory for the command line: start-up problems print as one clear line."""
    from app import create_app
    from app.wallet.apple.certs import CertificateError

    try:
        return create_app()
    except (CertificateError, ValueError) as exc:
        raise click.ClickException(str(exc)) from None


@click.group(cls=FlaskGroup, create_app=_create_app, add_default_commands=False,
             add_version_option=False)
def main() -> None:
    """walletpass: loyalty cards on Apple Wallet and Google Wallet."""


def register_commands(app: Flask) -> None:
    """Attach the service's commands to the app's CLI."""
    app.cli.add_command(serve)
    app.cli.add_command(create_merchant)
    app.cli.add_command(dev_certs)
    app.cli.add_command(settings_cmd)
    app.cli.add_command(sweep_cmd)
    app.cli.add_command(worker_cmd)


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=5000, show_default=True, type=int, help="Port to listen on.")
@with_appcontext
def serve(host: str, port: int) -> None:
    """Migrate the database and serve the app (with the embedded worker)."""
    from flask_migrate import upgrade
    from werkzeug.serving import run_simple

    upgrade(revision="heads")
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    settings = app.config["SETTINGS"]
    if "WALLETPASS_BASE_URL" not in os.environ:
        settings.BASE_URL = f"http://{host}:{port}"  # links point at this very server
    _start_worker(app)
    click.echo(f"walletpass listening on http://{host}:{port} (data in "
               f"{app.config['SETTINGS'].DATA_DIR})")
    run_simple(host, port, app, threaded=True, use_reloader=False)


def _start_worker(app: Flask) -> None:
    """Start the in-process background worker when no broker is configured."""
    from app.jobs import start_embedded_worker

    if start_embedded_worker(app) is not None:
        click.echo("Background jobs run in this process (no broker configured).")


@click.command("sweep")
@with_appcontext
def sweep_cmd() -> None:
    """Run every background sweep once (pushes, deliveries, expiry) and exit."""
    from app.jobs import SWEEPS, import_sweeps, run_sweep_now

    import_sweeps()
    for name in SWEEPS:
        click.echo(f"{name}: {run_sweep_now(name)} handled")


@click.command("worker")
@with_appcontext
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


@click.command("create-merchant")
@click.option("--name", required=True, help="The merchant's business name.")
@click.option("--email", required=True, help="The merchant's contact email.")
@with_appcontext
def create_merchant(name: str, email: str) -> None:
    """Create a merchant and print a new API key on the last line."""
    from app.extensions import db
    from app.models import ApiKey, Merchant

    merchant = Merchant(name=name.strip(), email=email.strip().lower())
    row, plain = ApiKey.issue(merchant)
    db.session.add_all([merchant, row])
    db.session.commit()
    click.echo(f"Created merchant {merchant.id} ({merchant.name}). API key (shown once):")
    click.echo(plain)


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
