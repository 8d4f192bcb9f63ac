"""Helpers of the dashboard tests: owners made by the CLI, logging in with the CSRF token."""

from __future__ import annotations

import re
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default
from pathlib import Path
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from app.cli import main

PASSWORD = "correct horse battery"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def new_owner(app: Flask, name: str = "Bean There", email: str = "owner@example.test",
              password: str = PASSWORD) -> str:
    """A merchant whose owner logs in with this e-mail and password (the real CLI command);
    returns its API key."""
    args = ["create-merchant", "--name", name, "--email", email, "--password", password]
    result = app.test_cli_runner().invoke(main, args=args)
    assert result.exit_code == 0, result.output
    return result.output.strip().splitlines()[-1]


def csrf_of(client: FlaskClient, path: str = "/login") -> str:
    """The CSRF token the page at `path` puts in its forms."""
    page = client.get(path)
    found = CSRF.search(page.get_data(as_text=True))
    assert found, f"no CSRF token on {path} ({page.status_code})"
    return found.group(1)


def log_in(client: FlaskClient, email: str = "owner@example.test",
           password: str = PASSWORD) -> Any:
    """Log in through the login form; returns the answer."""
    token = csrf_of(client)
    return client.post("/login", data={"csrf_token": token, "email": email,
                                       "password": password})


def post(client: FlaskClient, path: str, data: dict[str, Any] | None = None,
         page: str = "/") -> Any:
    """POST a dashboard form with the session's CSRF token."""
    return client.post(path, data={"csrf_token": csrf_of(client, page), **(data or {})})


def mails(app: Flask) -> list[EmailMessage]:
    """The mails written to the data folder (no SMTP configured), oldest first."""
    folder = Path(app.config["SETTINGS"].DATA_DIR) / "mail"
    files = sorted(folder.glob("*.eml"), key=lambda p: p.stat().st_mtime_ns)
    return [message_from_bytes(p.read_bytes(), policy=default)  # type: ignore[misc]
            for p in files]


def link_in(message: EmailMessage, base_url: str) -> str:
    """The path of the first link to this service in a mail."""
    body = message.get_body(("plain",))
    assert body is not None
    found = re.search(re.escape(base_url) + r"(/\S+)", body.get_content())
    assert found, body.get_content()
    return found.group(1)
