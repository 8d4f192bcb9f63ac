"""Idempotency-Key for API writes, and the one place those writes commit.

A write sent with `Idempotency-Key: <up to 200 characters>` stores its first successful
answer (status and body) under (merchant, key) in the same transaction as the change. A
repeat with the same key and the same request gets that answer again and changes nothing;
the same key with a different method, path or body is refused (422
`idempotency_key_reused`). Failed requests (4xx) store nothing, so they can be retried.
The key is claimed first, with one INSERT ... ON CONFLICT DO NOTHING: two concurrent
requests with one key serialize on the key's unique index, the second waits for the first
and then replays its answer. Answers are kept 30 days (the
idempotency_cleanup sweep forgets older ones).
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Callable
from typing import Any

from flask import g, request
from sqlalchemy import select

from app.errors import ValidationError
from app.extensions import db
from app.models import IdempotencyRecord
from app.rows import insert_one_ignore, update_by_id
from app.safejson import request_json

HEADER = "Idempotency-Key"
MAX_KEY = 200
Answer = tuple[dict[str, Any], int]
View = Callable[..., Answer]


def idempotency_key() -> str | None:
    """The request's Idempotency-Key header, checked (None when absent)."""
    key = request.headers.get(HEADER)
    if key is None:
        return None
    key = key.strip()
    if not key or len(key) > MAX_KEY or not key.isprintable():
        raise ValidationError(f"'{HEADER}' must be 1 to {MAX_KEY} printable characters.",
                              code="invalid_idempotency_key")
    return key


def request_hash() -> str:
    """SHA-256 of the method, path and body (canonical JSON, else the raw bytes; a streamed
    upload sets `g.upload_digest` instead, so its body is never read into memory)."""
    streamed = g.get("upload_digest")
    if streamed is not None:
        canonical = json.dumps([request.method, request.path, streamed])
        return hashlib.sha256(canonical.encode()).hexdigest()
    raw = request.get_data(cache=True)
    body = request_json()  # a malformed or absurdly nested JSON body is a 400 here
    if body is None and raw:
        body = hashlib.sha256(raw).hexdigest()
    canonical = json.dumps([request.method, request.path, body], sort_keys=True)
    return hashlib.sha256(canonical.encode()).hexdigest()


def write(view: View) -> View:
    """Decorate a write view: replay repeated Idempotency-Keys, commit once at the end."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> tuple[dict[str, Any], int]:
        try:
            return _run(view, *args, **kwargs)
        except Exception:
            db.session.rollback()
            raise

    return wrapper


def _run(view: View, *args: Any, **kwargs: Any) -> tuple[dict[str, Any], int]:
    """Run a write view under its Idempotency-Key (if any) and commit."""
    key = idempotency_key()
    if key is None:
        return _commit(view(*args, **kwargs))
    digest = request_hash()
    claimed = insert_one_ignore(IdempotencyRecord, {
        "merchant_id": g.merchant.id, "key": key, "request_hash": digest})
    if claimed is None:  # the key was used (or its first request committed while we waited)
        return _replay(_find(key), digest)
    g.idempotency_key = key
    body, status = view(*args, **kwargs)
    db.session.execute(update_by_id(IdempotencyRecord.__table__),
                       {"_id": claimed, "status": status, "response": body})
    return _commit((body, status))


def _commit(result: tuple[dict[str, Any], int]) -> tuple[dict[str, Any], int]:
    """Commit the request's transaction and return its answer."""
    db.session.commit()
    return result


def _find(key: str) -> IdempotencyRecord | None:
    """The stored answer for this merchant's key."""
    return db.session.scalar(select(IdempotencyRecord).where(
        IdempotencyRecord.merchant_id == g.merchant.id, IdempotencyRecord.key == key))


def _replay(stored: IdempotencyRecord | None, digest: str) -> tuple[dict[str, Any], int]:
    """The first answer, when this is the same request."""
    if stored is None:
        raise ValidationError("The Idempotency-Key could not be resolved; retry.",
                              code="idempotency_conflict", status=409)
    if stored.request_hash != digest:
        raise ValidationError(f"This {HEADER} was already used for a different request; "
                              "use a new key for a new request.",
                              code="idempotency_key_reused")
    return _commit((stored.response, stored.status))


def current_key() -> str | None:
    """The Idempotency-Key of the write being handled (recorded on ledger entries)."""
    return g.get("idempotency_key")
