"""Which transactions take SQLite's write lock, and the small writes a read request makes.

On SQLite a transaction that may write starts with ``BEGIN IMMEDIATE``: it takes the write
lock before it reads, so two writers queue instead of deadlocking on the upgrade from a
read lock (the loser would get "database is locked" at once). A read-only request has no
such need and must not wait behind writers, so a request whose method is safe (GET, HEAD,
OPTIONS) starts a plain deferred ``BEGIN`` and reads from its snapshot while writers work.
Everything else (other methods, background jobs, the CLI, tests outside a request) keeps
``BEGIN IMMEDIATE``.

A read request may still have bookkeeping to record (an API key's last use, which pass
version a device fetched). `bookkeeping` runs it in a short transaction of its own that
takes the write lock from the start, so the request's own transaction stays read-only and
never upgrades. In a request that writes, the bookkeeping joins the request's transaction
(a second connection would wait for the lock that transaction holds).
"""

from __future__ import annotations

from flask import has_request_context, request
from sqlalchemy import Executable, event
from sqlalchemy.engine import Connection, Engine

from app.extensions import db

READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
WRITE_OPTION = "walletpass_write"
"""Execution option that makes a connection's transactions take the write lock at BEGIN."""


def read_only_request() -> bool:
    """Whether the current request's method is safe (it only reads)."""
    return has_request_context() and request.method in READ_METHODS


def takes_write_lock(conn: Connection) -> bool:
    """Whether a transaction beginning on this connection takes the write lock at BEGIN."""
    return bool(conn.get_execution_options().get(WRITE_OPTION)) or not read_only_request()


def configure_sqlite_begin(engine: Engine) -> None:
    """Begin SQLite transactions IMMEDIATE when they may write, deferred in read requests."""

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE" if takes_write_lock(conn) else "BEGIN")


def bookkeeping(*statements: Executable) -> None:
    """Record small writes of the current work: in a read request in a short transaction
    of their own (committed now), else in the session's transaction (committed with it)."""
    if not read_only_request():
        for stmt in statements:
            db.session.execute(stmt)
        return
    with db.engine.connect().execution_options(**{WRITE_OPTION: True}) as conn:
        with conn.begin():
            for stmt in statements:
                conn.execute(stmt)

