"""The Google Wallet REST client: loyalty classes and objects over walletobjects/v1.

Authentication is google-auth's service-account flow (a JWT bearer grant to the key's
``token_uri``; the access token is cached until it expires). Every call has a timeout, and
every failure (HTTP error, refused token, timeout, no connection) comes back as a
`GoogleAnswer`, classified once by `classify`; nothing here raises for Google's sake.
"""

from __future__ import annotations

import enum
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import requests
from google.auth import exceptions as auth_exceptions
from google.auth.transport.requests import AuthorizedSession, Request
from google.oauth2 import service_account

from app.metrics import GOOGLE_CALLS

log = logging.getLogger(__name__)
Pace = Callable[[], None]
"""Called before each request; blocks until the shared rate limit allows it."""
KINDS = ("loyaltyClass", "loyaltyObject")


@dataclass(frozen=True)
class GoogleAnswer:
    """What Google answered one call: status (0 when no answer), JSON body, error reason."""

    status: int
    body: dict[str, Any] = field(default_factory=dict)
    error: str | None = None

    @property
    def reason(self) -> str | None:
        """Google's error reason (e.g. quotaExceeded, rateLimitExceeded), if any."""
        err = self.body.get("error") if isinstance(self.body, dict) else None
        if isinstance(err, dict):
            for item in err.get("errors") or []:
                if isinstance(item, dict) and item.get("reason"):
                    return str(item["reason"])
            if err.get("status"):
                return str(err["status"])
        return self.error


class Outcome(enum.Enum):
    """What to do after a Google answer."""

    OK = "ok"
    NOT_FOUND = "not_found"
    CONFLICT = "conflict"
    QUOTA = "quota"
    RETRY = "retry"
    REJECTED = "rejected"


def classify(answer: GoogleAnswer) -> Outcome:
    """The one place that maps Google's answers to outcomes."""
    status = answer.status
    if 200 <= status < 300:
        return Outcome.OK
    if status == 404:
        return Outcome.NOT_FOUND
    if status == 409:
        return Outcome.CONFLICT
    if status == 403 and answer.reason == "quotaExceeded":
        return Outcome.QUOTA
    if status in (0, 401, 408, 429) or status >= 500 or (
            status == 403 and answer.reason in {"rateLimitExceeded", "userRateLimitExceeded"}):
        return Outcome.RETRY
    return Outcome.REJECTED


class GoogleClient:
    """insert / get / patch / addMessage on classes and objects, with a timeout on every call."""

    def __init__(self, account_info: dict[str, Any], api_url: str, *, timeout: float,
                 scope: str) -> None:
        self.api_url = api_url.rstrip("/")
        self.timeout = timeout
        self._credentials = service_account.Credentials.from_service_account_info(
            account_info, scopes=[scope])
        self._local = threading.local()

    def _session(self) -> AuthorizedSession:
        """One session per thread (requests sessions are not shared across threads); all
        threads share the credentials, so the token is fetched once and cached."""
        session = getattr(self._local, "session", None)
        if session is None:
            auth_request = Request(requests.Session())
            session = AuthorizedSession(self._credentials, refresh_timeout=self.timeout,
                                        auth_request=auth_request)
            self._local.session = session
        return session

    def call(self, method: str, path: str, body: dict[str, Any] | None = None,
             pace: Pace | None = None) -> GoogleAnswer:
        """One API call (after `pace()`, which holds it to the shared rate); every failure is
        returned as an answer, never raised."""
        answer = self._call(method, f"{self.api_url}/{path}", body, pace)
        GOOGLE_CALLS.labels(method, str(answer.status)).inc()
        return answer

    def _call(self, method: str, url: str, body: dict[str, Any] | None,
              pace: Pace | None) -> GoogleAnswer:
        """The call itself, its failures as answers."""
        if pace is not None:
            pace()
        try:
            resp = self._session().request(method, url, json=body, timeout=self.timeout)
        except auth_exceptions.GoogleAuthError as exc:
            return GoogleAnswer(0, error=f"token: {exc}"[:200])
        except requests.RequestException as exc:
            return GoogleAnswer(0, error=f"{type(exc).__name__}: {exc}"[:200])
        try:
            data = resp.json() if resp.content else {}
        except ValueError:
            data = {}
        return GoogleAnswer(resp.status_code, data if isinstance(data, dict) else {})

    def get(self, kind: str, resource_id: str, pace: Pace | None = None) -> GoogleAnswer:
        """GET a class or object."""
        return self.call("GET", f"{kind}/{quote(resource_id, safe='')}", pace=pace)

    def insert(self, kind: str, body: dict[str, Any], pace: Pace | None = None) -> GoogleAnswer:
        """POST a new class or object."""
        return self.call("POST", kind, body, pace)

    def patch(self, kind: str, body: dict[str, Any], pace: Pace | None = None) -> GoogleAnswer:
        """PATCH the fields in `body` (whole arrays are replaced) of an existing resource."""
        return self.call("PATCH", f"{kind}/{quote(body['id'], safe='')}", body, pace)

    def add_message(self, kind: str, resource_id: str, message: dict[str, Any],
                    pace: Pace | None = None) -> GoogleAnswer:
        """POST addMessage on a class or object."""
        return self.call("POST", f"{kind}/{quote(resource_id, safe='')}/addMessage",
                         {"message": message}, pace)

    def upsert(self, kind: str, body: dict[str, Any], *, exists: bool,
               pace: Pace | None = None) -> GoogleAnswer:
        """Make the resource match `body`: PATCH when believed to exist (404: insert),
        else insert (409: it exists after all, PATCH)."""
        if exists:
            answer = self.patch(kind, body, pace)
            if classify(answer) is Outcome.NOT_FOUND:
                answer = self.insert(kind, body, pace)
            return answer
        answer = self.insert(kind, body, pace)
        if classify(answer) is Outcome.CONFLICT:
            answer = self.patch(kind, body, pace)
        return answer
