"""Sending: the SMTP URL, and send() over SMTP (with timeouts) or to a folder of .eml files.

Every failure is translated here, in one place, into an `Outcome`:

- ``sent``;
- ``retry`` (temporary: a 4xx answer, connection refused or closed, a timeout, TLS or
  login trouble): the mail is tried again later with back-off;
- ``bounced`` (a 5xx answer to RCPT TO: the address does not exist): the address goes on
  the merchant's suppression list and the mail stops;
- ``failed`` (a 5xx answer to the message itself): the mail stops, the address stays.

`last_error` keeps a short category, never the server's full answer or a password.
"""

from __future__ import annotations

import os
import smtplib
import socket
import ssl
import tempfile
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from pathlib import Path
from types import TracebackType
from urllib.parse import parse_qs, unquote, urlsplit

SCHEMES = {"smtp": 25, "smtps": 465}
TRUE = {"1", "true", "yes", "on"}
FALSE = {"0", "false", "no", "off"}


class SmtpUrlError(ValueError):
    """WALLETPASS_SMTP_URL cannot be used (the message never shows the password)."""


@dataclass(frozen=True)
class SmtpConfig:
    """Where and how to send: host, port, implicit TLS or STARTTLS, optional login."""

    host: str
    port: int
    implicit_tls: bool = False
    starttls: bool = False
    username: str = ""
    password: str = ""

    def __repr__(self) -> str:
        """The configuration without its password."""
        tls = "smtps" if self.implicit_tls else "smtp"
        return (f"SmtpConfig({tls}://{self.username + '@' if self.username else ''}"
                f"{self.host}:{self.port}, starttls={self.starttls})")


def redact(url: str) -> str:
    """The URL with any password replaced by ***, for messages and logs."""
    scheme, sep, rest = url.partition("://")
    userinfo, at, hostpart = rest.rpartition("@")
    if not at or ":" not in userinfo:
        return url
    return f"{scheme}{sep}{userinfo.split(':', 1)[0]}:***@{hostpart}"


def parse_smtp_url(url: str) -> SmtpConfig | None:
    """Parse WALLETPASS_SMTP_URL once (None: empty, write to a folder); SmtpUrlError if bad."""
    if not url.strip():
        return None
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as exc:
        raise SmtpUrlError(f"WALLETPASS_SMTP_URL {redact(url)!r} is malformed: {exc}") from None
    if parts.scheme not in SCHEMES or not parts.hostname:
        raise SmtpUrlError(f"WALLETPASS_SMTP_URL {redact(url)!r} must look like "
                           "smtp://host:25, smtp://user:password@host:587?starttls=true or "
                           "smtps://user:password@host:465.")
    starttls = _flag(url, parse_qs(parts.query), "starttls")
    if starttls and parts.scheme == "smtps":
        raise SmtpUrlError(f"WALLETPASS_SMTP_URL {redact(url)!r}: smtps:// is TLS from the "
                           "start; starttls=true is for smtp:// only.")
    username = unquote(parts.username or "")
    password = unquote(parts.password or "")
    if password and not username:
        raise SmtpUrlError(f"WALLETPASS_SMTP_URL {redact(url)!r} has a password but no user.")
    return SmtpConfig(host=parts.hostname, port=port or SCHEMES[parts.scheme],
                      implicit_tls=parts.scheme == "smtps", starttls=starttls,
                      username=username, password=password)


def _flag(url: str, query: dict[str, list[str]], name: str) -> bool:
    """A true/false query parameter; anything but the known parameters is an error."""
    unknown = set(query) - {name}
    if unknown:
        raise SmtpUrlError(f"WALLETPASS_SMTP_URL {redact(url)!r}: unknown parameter "
                           f"{sorted(unknown)[0]!r} (only {name}=true|false).")
    value = (query.get(name) or ["false"])[-1].lower()
    if value not in TRUE | FALSE:
        raise SmtpUrlError(f"WALLETPASS_SMTP_URL {redact(url)!r}: {name} must be true or "
                           "false.")
    return value in TRUE


@dataclass(frozen=True)
class Outcome:
    """What became of one message: sent, retry, bounced or failed, and a short category."""

    status: str
    error: str = ""
    connection: bool = False
    """The server could not be reached or talked to (not an answer about this mail)."""


SENT = Outcome("sent")


@dataclass(frozen=True)
class Outgoing:
    """One message ready for the wire: its envelope and its bytes (CRLF line ends)."""

    sender: str
    recipient: str
    data: bytes

    @property
    def international(self) -> bool:
        """Whether an address needs SMTPUTF8 (as smtplib's send_message decides)."""
        return not (self.sender + self.recipient).isascii()


def outgoing(message: EmailMessage) -> Outgoing:
    """A built message ready to send, its envelope from its From and To headers."""
    sender = message["From"].addresses[0].addr_spec
    recipient = message["To"].addresses[0].addr_spec
    wire = policy.SMTP if (sender + recipient).isascii() else policy.SMTPUTF8
    return Outgoing(sender, recipient, message.as_bytes(policy=wire))


class FolderTransport:
    """The embedded default: each message becomes one .eml file, written atomically."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def send(self, item: Outgoing, name: str) -> Outcome:
        """Write the message as <name>.eml (a second send of one name replaces the file)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.folder, prefix=".", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(item.data)
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, self.folder / f"{name}.eml")
        except OSError:
            Path(tmp).unlink(missing_ok=True)
            return Outcome("retry", "could not write the mail folder", connection=True)
        return SENT

    def close(self) -> None:
        """Nothing to close."""


class SmtpTransport:
    """One SMTP connection, opened at the first message and reused for the next ones."""

    def __init__(self, config: SmtpConfig, timeout: float, ca_file: str = "") -> None:
        self.config = config
        self.timeout = timeout
        self.ca_file = ca_file
        self._smtp: smtplib.SMTP | None = None

    def _context(self) -> ssl.SSLContext:
        """TLS that verifies the server (plus the extra CA file, if any)."""
        context = ssl.create_default_context()
        if self.ca_file:
            context.load_verify_locations(self.ca_file)
        return context

    def _connect(self) -> smtplib.SMTP:
        """Connect, say EHLO, STARTTLS and log in as configured (every step under timeout)."""
        cfg = self.config
        smtp: smtplib.SMTP
        if cfg.implicit_tls:
            smtp = smtplib.SMTP_SSL(cfg.host, cfg.port, timeout=self.timeout,
                                    context=self._context())
        else:
            smtp = smtplib.SMTP(cfg.host, cfg.port, timeout=self.timeout)
        try:
            smtp.ehlo()
            if cfg.starttls:
                smtp.starttls(context=self._context())
                smtp.ehlo()
            if cfg.username:
                smtp.login(cfg.username, cfg.password)
        except BaseException:
            _quietly_close(smtp)
            raise
        return smtp

    def send(self, item: Outgoing, name: str) -> Outcome:
        """Send one message; a broken connection is closed (the next send reconnects)."""
        try:
            if self._smtp is None:
                self._smtp = self._connect()
            self._smtp.sendmail(item.sender, [item.recipient], item.data,
                                mail_options=self._options(self._smtp, item))
            return SENT
        except smtplib.SMTPRecipientsRefused as exc:
            code = next(iter(exc.recipients.values()))[0]
            return Outcome("bounced", f"recipient refused ({code})") if code >= 500 \
                else Outcome("retry", f"recipient deferred ({code})")
        except smtplib.SMTPResponseException as exc:
            self._reset_after(exc)
            return classify_response(exc)
        except Exception as exc:  # connection, TLS, timeout: drop the connection, retry
            self.close()
            return Outcome("retry", connection_error(exc), connection=True)

    @staticmethod
    def _options(smtp: smtplib.SMTP, item: Outgoing) -> list[str]:
        """MAIL FROM options: SMTPUTF8 for an international address (as send_message)."""
        if not item.international:
            return []
        if not smtp.has_extn("smtputf8"):
            raise smtplib.SMTPNotSupportedError("the server does not support SMTPUTF8")
        return ["SMTPUTF8", "BODY=8BITMIME"]

    def _reset_after(self, exc: smtplib.SMTPResponseException) -> None:
        """After a refused command, reset the session, or drop it when that fails too."""
        if isinstance(exc, smtplib.SMTPAuthenticationError) or self._smtp is None:
            self.close()
            return
        try:
            self._smtp.rset()
        except Exception:
            self.close()

    def close(self) -> None:
        """Say QUIT (bounded by the timeout) and drop the connection."""
        if self._smtp is not None:
            smtp, self._smtp = self._smtp, None
            _quietly_close(smtp)


def classify_response(exc: smtplib.SMTPResponseException) -> Outcome:
    """An SMTP error answer as an outcome: 4xx and login trouble retry, 5xx fails."""
    code = exc.smtp_code
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        return Outcome("retry", f"login refused ({code})", connection=True)
    if isinstance(exc, smtplib.SMTPSenderRefused):
        return Outcome("retry", f"sender refused ({code})")  # our setup, not the member
    if 400 <= code < 500:
        return Outcome("retry", f"deferred ({code})")
    return Outcome("failed", f"message refused ({code})")


def connection_error(exc: BaseException) -> str:
    """A short category for a failure to talk to the server."""
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, (TimeoutError, socket.timeout)):
        return "timeout"
    if isinstance(exc, ssl.SSLError):
        return "TLS error"
    if isinstance(exc, smtplib.SMTPServerDisconnected):
        return "connection closed"
    if isinstance(exc, smtplib.SMTPNotSupportedError):
        return "STARTTLS or login not supported by the server"
    if isinstance(exc, socket.gaierror):
        return "DNS lookup failed"
    return "connection failed"


def _quietly_close(smtp: smtplib.SMTP) -> None:
    """QUIT and close, ignoring a connection that is already gone."""
    try:
        smtp.quit()
    except Exception:
        try:
            smtp.close()
        except Exception:
            pass


Transport = FolderTransport | SmtpTransport


class open_transport:  # noqa: N801  (used as `with open_transport(...) as t`)
    """The configured transport as a context manager that closes it."""

    def __init__(self, config: SmtpConfig | None, folder: Path, timeout: float,
                 ca_file: str = "") -> None:
        self.transport: Transport = (FolderTransport(folder) if config is None
                                     else SmtpTransport(config, timeout, ca_file))

    def __enter__(self) -> Transport:
        return self.transport

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.transport.close()


def send(message: EmailMessage, name: str, config: SmtpConfig | None, folder: Path,
         timeout: float, ca_file: str = "") -> Outcome:
    """Send one message on its own connection (the sweep reuses one per batch instead)."""
    with open_transport(config, folder, timeout, ca_file) as transport:
        return transport.send(outgoing(message), name)
