"""Logging: readable text or one JSON object per line, a request id on every line, and
no secret in any line.

`configure(level, fmt)` installs one handler on the root logger (stderr). Each record gets
the current request id (`request_id`, empty outside a request or a job a request queued),
and passes `redact` before it is written: passwords in URLs, bearer and ApplePass
credentials, API keys, long hex push tokens, `...token=`/`password=` values and PEM
private keys come out as ``[redacted]``.

The request id lives in a context variable: set for each request (app/health.py), and for
the run of a job a request queued (app/jobs.py carries it with the wake-up), so the lines
of that job name the same id.
"""

from __future__ import annotations

import contextvars
import json
import logging
import re
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

REDACTED = "[redacted]"
REQUEST_ID: contextvars.ContextVar[str] = contextvars.ContextVar("walletpass_request_id",
                                                                 default="")
SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{8,128}")
"""An incoming X-Request-ID is kept only when it looks like this (else one is made)."""

_SECRET_NAME = r"[\w-]*(?:password|passwd|secret|token|api[_-]?key|private[_-]?key)"
PATTERNS: list[tuple[re.Pattern[str], str]] = [
    # PEM private keys, also with JSON-escaped newlines, also cut short.
    (re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?(?:-----END [A-Z ]*PRIVATE KEY-----"
                r"|$)", re.S), REDACTED),
    # The password of a URL: scheme://user:password@host.
    (re.compile(r"(\b[a-zA-Z][\w+.-]*://[^:/@\s'\"]*:)[^@\s'\"/]+@"), rf"\1{REDACTED}@"),
    # Authorization header values.
    (re.compile(r"(?i)\b(Bearer|ApplePass|Basic|Token)(\s+)[^\s'\",;]+"),
     rf"\1\2{REDACTED}"),
    # walletpass API keys, wherever they appear.
    (re.compile(r"\bwp_[A-Za-z0-9_-]{16,}"), REDACTED),
    # Webhook signing secrets.
    (re.compile(r"\bwhsec_[0-9a-f]{16,}"), REDACTED),
    # name=value, "name": "value" for secret-sounding names (pushToken, password...).
    (re.compile(rf"(?i)(\b{_SECRET_NAME}['\"]?\s*[:=]\s*)(['\"]?)[^'\"\s,;&)}}]+"),
     rf"\1\2{REDACTED}"),
    # APNs device tokens (64+ hex digits) and other long hex secrets.
    (re.compile(r"\b[0-9a-fA-F]{64,}\b"), REDACTED),
]
"""What `redact` replaces, in order."""

STANDARD_ATTRS = frozenset(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {
    "message", "asctime", "request_id"}
"""LogRecord attributes that are not extras given by the caller."""
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"


def redact(text: str) -> str:
    """The text with every secret it contains replaced by [redacted]."""
    for pattern, replacement in PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def new_request_id() -> str:
    """A fresh request id (32 hex digits)."""
    return uuid.uuid4().hex


def accept_request_id(given: str | None) -> str:
    """The incoming X-Request-ID when it is sane (and holds no secret), else a fresh one."""
    if given and SANE_REQUEST_ID.fullmatch(given) and redact(given) == given:
        return given
    return new_request_id()


def current_request_id() -> str:
    """The request id of the current request or job ('' when there is none)."""
    return REQUEST_ID.get()


@contextmanager
def request_id_context(request_id: str) -> Iterator[None]:
    """Run a block (a job) with this request id on its log lines."""
    token = REQUEST_ID.set(request_id)
    try:
        yield
    finally:
        REQUEST_ID.reset(token)


class RequestIdFilter(logging.Filter):
    """Puts the current request id on every record (as `request_id`)."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Add the id; never drops a record."""
        if not getattr(record, "request_id", ""):
            record.request_id = REQUEST_ID.get()
        return True


class RedactingFilter(logging.Filter):
    """Rewrites each record so that its message, traceback and extras hold no secret."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Redact the record in place (formatted once here); never drops a record."""
        record.msg = redact(record.getMessage())
        record.args = None
        if record.exc_info:
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        elif record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        for name, value in list(vars(record).items()):
            if name not in STANDARD_ATTRS and isinstance(value, str):
                setattr(record, name, redact(value))
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request_id, then extras."""

    def format(self, record: logging.LogRecord) -> str:
        """The record as a JSON line (exc holds the traceback, when there is one)."""
        out: dict[str, Any] = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
                    + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", ""),
        }
        for name, value in vars(record).items():
            if name not in STANDARD_ATTRS and not name.startswith("_"):
                out[name] = value
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            out["exc"] = record.exc_text
        if record.stack_info:
            out["stack"] = record.stack_info
        return json.dumps(out, default=str, ensure_ascii=False)


class StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever sys.stderr is at the time (so a replaced stderr is followed)."""

    def __init__(self) -> None:
        super().__init__()

    @property  # type: ignore[override]
    def stream(self) -> Any:
        """The current sys.stderr."""
        return sys.stderr

    @stream.setter
    def stream(self, _value: Any) -> None:
        """Ignored: the stream is always the current sys.stderr."""


def make_handler(fmt: str) -> logging.Handler:
    """A stderr handler writing `fmt` ("json" or "text"), with the request id and redaction."""
    handler = StderrHandler()
    handler.setFormatter(JsonFormatter() if fmt == "json" else logging.Formatter(TEXT_FORMAT))
    handler.addFilter(RequestIdFilter())
    handler.addFilter(RedactingFilter())
    handler.walletpass = True  # type: ignore[attr-defined]
    return handler


def configure(level: str, fmt: str) -> None:
    """Send the root logger's records through one walletpass handler (replacing an earlier
    one), at this level; other handlers (a test's capture) get the redaction too."""
    if fmt not in ("json", "text"):
        raise ValueError(f"WALLETPASS_LOG_FORMAT must be json or text, got {fmt!r}")
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, "walletpass", False)]:
        root.removeHandler(old)
    root.addHandler(make_handler(fmt))
    for other in root.handlers:
        if not any(isinstance(f, RedactingFilter) for f in other.filters):
            other.addFilter(RequestIdFilter())
            other.addFilter(RedactingFilter())
    root.setLevel(level)
