"""INSERT ... ON CONFLICT DO NOTHING on SQLite and PostgreSQL alike."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.dialects import postgresql, sqlite

from app.extensions import db


def insert_ignore(model: Any, rows: Sequence[dict[str, Any]]) -> int:
    """Insert rows, skipping those a unique constraint already holds; returns how many went in.

    Two workers that add the same row at once both succeed and only one row exists.
    """
    if not rows:
        return 0
    dialect = db.session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    key = list(model.__table__.primary_key.columns)
    statement = insert(model).values(list(rows)).on_conflict_do_nothing().returning(*key)
    return len(db.session.execute(statement).all())  # rowcount is not reliable here
