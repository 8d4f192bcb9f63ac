"""A real SMTP server on loopback (aiosmtpd) that records what it receives and can refuse."""

from __future__ import annotations

import ssl
import threading
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from tests.net import free_port


class SmtpStandIn:
    """aiosmtpd in a thread: plain, STARTTLS or implicit TLS, with or without a login.

    `refuse` maps an address (or "*") to the answer its RCPT TO gets ("550 5.1.1 ...");
    `refuse_data` maps the first recipient (or "*") to the answer DATA gets instead of 250;
    `down()` / `up()` stop and start it on the same port.
    """

    def __init__(self, tls: dict[str, Path] | None = None, *, starttls: bool = False,
                 implicit_tls: bool = False, login: tuple[str, str] | None = None,
                 port: int | None = None) -> None:
        self.tls, self.starttls, self.implicit_tls, self.login = tls, starttls, implicit_tls, login
        self.port = port or free_port()
        self.received: list[EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self.refuse: dict[str, str] = {}
        self.refuse_data: dict[str, str] = {}
        self.logins = 0
        self.lock = threading.Lock()
        self.controller: Controller | None = None

    def _context(self) -> ssl.SSLContext:
        """The server's TLS context (its certificate signed by the test CA)."""
        assert self.tls is not None
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.tls["cert"], self.tls["key"])
        return context

    def _authenticate(self, server: Any, session: Any, envelope: Any, mechanism: str,
                      data: Any) -> AuthResult:
        """Accept exactly the configured user and password."""
        ok = (isinstance(data, LoginPassword) and self.login is not None
              and (data.login.decode(), data.password.decode()) == self.login)
        if ok:
            with self.lock:
                self.logins += 1
        return AuthResult(success=ok)

    def up(self) -> SmtpStandIn:
        """Start listening on 127.0.0.1:port."""
        kwargs: dict[str, Any] = {}
        if self.implicit_tls:
            kwargs["ssl_context"] = self._context()
        if self.starttls:
            kwargs.update(tls_context=self._context(), require_starttls=True)
        if self.login:
            # aiosmtpd only counts STARTTLS as TLS for auth_require_tls (it hides AUTH on
            # an implicit TLS connection otherwise), so that one is checked for STARTTLS
            kwargs.update(authenticator=self._authenticate, auth_required=True,
                          auth_require_tls=self.starttls)
        self.controller = Controller(_Handler(self), hostname="127.0.0.1", port=self.port,
                                     ready_timeout=10, **kwargs)
        self.controller.start()
        return self

    def down(self) -> None:
        """Stop listening (connections are refused until up() again)."""
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    @property
    def url(self) -> str:
        """The WALLETPASS_SMTP_URL of this server."""
        user = f"{self.login[0]}:{self.login[1]}@" if self.login else ""
        scheme = "smtps" if self.implicit_tls else "smtp"
        query = "?starttls=true" if self.starttls else ""
        return f"{scheme}://{user}127.0.0.1:{self.port}{query}"

    def messages(self) -> list[EmailMessage]:
        """Messages received so far."""
        with self.lock:
            return list(self.received)


class _Handler:
    """aiosmtpd hooks: refuse configured recipients, keep every accepted message."""

    def __init__(self, server: SmtpStandIn) -> None:
        self.server = server

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str,  # noqa: N802
                          rcpt_options: list[str]) -> str:
        answer = self.server.refuse.get(address) or self.server.refuse.get("*")
        if answer:
            return answer
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        first = envelope.rcpt_tos[0] if envelope.rcpt_tos else ""
        refused = self.server.refuse_data.get(first) or self.server.refuse_data.get("*")
        if refused:
            return refused
        message = message_from_bytes(envelope.original_content or envelope.content,
                                     policy=policy.default)
        with self.server.lock:
            self.server.received.append(message)  # type: ignore[arg-type]
            self.server.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        return "250 Message accepted"
