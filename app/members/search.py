"""Finding members by any part of their name, e-mail or phone (and the start of a serial).

A substring search needs more than a b-tree. Each database has its own index for it,
created by migration 0015 when the database can have it, with a plain scan as the
fallback (still well under a second at 100,000 members, see README):

- PostgreSQL: one GIN index of trigrams (pg_trgm) over name, email and phone; the search
  is ``ILIKE '%text%'`` on each column, which the index answers for three letters or more.
- SQLite (3.34 and later): an FTS5 table with the trigram tokenizer, `member_search`,
  whose content is the members table itself (only the trigram index is stored), kept in
  step by triggers. A search of three letters or more is a phrase MATCH on it (case-
  insensitive substring); shorter ones are a LIKE scan.

Neither index is in the models' metadata (SQLAlchemy has no word for them):
`include_name` keeps them out of schema comparisons. A migration that rebuilds the members
table on SQLite (a batch "move and copy") drops the triggers: call `uninstall` before it
and `install` after.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Select,
    literal_column,
    or_,
    select,
    text,
    union_all,
)

from app.extensions import db
from app.models import Member

FTS_TABLE = "member_search"
TRGM_INDEX = "ix_members_search_trgm"
MIN_INDEXED = 3
"""Trigram indexes answer searches of this many characters or more."""
COLUMNS = ("name", "email", "phone")

_SQLITE_TRIGGERS = {
    "member_search_ai": "AFTER INSERT ON members BEGIN "
    "INSERT INTO member_search(rowid, name, email, phone) "
    "VALUES (new.id, new.name, new.email, new.phone); END",
    "member_search_ad": "AFTER DELETE ON members BEGIN "
    "INSERT INTO member_search(member_search, rowid, name, email, phone) "
    "VALUES ('delete', old.id, old.name, old.email, old.phone); END",
    "member_search_au": "AFTER UPDATE OF name, email, phone ON members BEGIN "
    "INSERT INTO member_search(member_search, rowid, name, email, phone) "
    "VALUES ('delete', old.id, old.name, old.email, old.phone); "
    "INSERT INTO member_search(rowid, name, email, phone) "
    "VALUES (new.id, new.name, new.email, new.phone); END",
}


def _sqlite_has_trigram(conn: Connection) -> bool:
    """Whether this SQLite has FTS5 with the trigram tokenizer (3.34+)."""
    version = tuple(int(p) for p in conn.exec_driver_sql("SELECT sqlite_version()")
                    .scalar_one().split("."))
    options = set(conn.exec_driver_sql("PRAGMA compile_options").scalars())
    return version >= (3, 34) and "ENABLE_FTS5" in options


def install(conn: Connection) -> bool:
    """Create the database's substring index over members, if it can have one (True)."""
    if conn.dialect.name == "sqlite":
        if not _sqlite_has_trigram(conn):
            return False
        conn.exec_driver_sql(
            f"CREATE VIRTUAL TABLE {FTS_TABLE} USING fts5(name, email, phone, "
            "content='members', content_rowid='id', tokenize='trigram')")
        conn.exec_driver_sql(f"INSERT INTO {FTS_TABLE}({FTS_TABLE}) VALUES ('rebuild')")
        for name, body in _SQLITE_TRIGGERS.items():
            conn.exec_driver_sql(f"CREATE TRIGGER {name} {body}")
        return True
    if conn.dialect.name == "postgresql":
        available = conn.exec_driver_sql(
            "SELECT 1 FROM pg_available_extensions WHERE name = 'pg_trgm'").first()
        if available is None:
            return False
        try:
            with conn.begin_nested():
                conn.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        except Exception:  # not allowed to (an untrusted extension, no privilege): scan
            return False
        conn.exec_driver_sql(
            f"CREATE INDEX {TRGM_INDEX} ON members USING gin "
            "(name gin_trgm_ops, email gin_trgm_ops, phone gin_trgm_ops)")
        return True
    return False


def uninstall(conn: Connection) -> None:
    """Drop the substring index (the pg_trgm extension stays: others may use it)."""
    if conn.dialect.name == "sqlite":
        for name in _SQLITE_TRIGGERS:
            conn.exec_driver_sql(f"DROP TRIGGER IF EXISTS {name}")
        conn.exec_driver_sql(f"DROP TABLE IF EXISTS {FTS_TABLE}")
    elif conn.dialect.name == "postgresql":
        conn.exec_driver_sql(f"DROP INDEX IF EXISTS {TRGM_INDEX}")


def include_name(name: str | None, type_: str, parent_names: Any) -> bool:
    """Schema comparisons leave out the search index (not in the models' metadata)."""
    if type_ == "table" and name and name.startswith(FTS_TABLE):
        return False
    return not (type_ == "index" and name == TRGM_INDEX)


def _indexed() -> bool:
    """Whether this database has the substring index (migration 0015 could make it)."""
    found = {"sqlite": "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = :n",
             "postgresql": "SELECT 1 FROM pg_indexes WHERE indexname = :n"}
    sql = found.get(db.session.get_bind().dialect.name)
    name = FTS_TABLE if db.session.get_bind().dialect.name == "sqlite" else TRGM_INDEX
    return sql is not None and db.session.execute(text(sql), {"n": name}).first() is not None


def _escaped(query: str) -> str:
    """The query as a LIKE pattern that finds it anywhere ('%' and '_' taken literally)."""
    body = query.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{body}%"


def contains(query: str, also: ColumnElement[bool]) -> ColumnElement[bool]:
    """Members whose name, e-mail or phone contains the query (any case), or who meet
    `also` (an indexed condition, such as the start of the serial).

    With the index, the matches' ids drive the query (each found through the index, then
    the page read by id), rather than a walk of every member testing each column."""
    pattern = _escaped(query)
    if len(query) < MIN_INDEXED or not _indexed():
        return or_(*(getattr(Member, c).ilike(pattern, escape="\\") for c in COLUMNS), also)
    if db.session.get_bind().dialect.name == "sqlite":
        phrase = '"' + query.replace('"', '""') + '"'
        found: list[Select[Any]] = [
            select(literal_column("rowid")).select_from(text(FTS_TABLE))
            .where(text(f"{FTS_TABLE} MATCH :phrase").bindparams(phrase=phrase))]
    else:
        found = [select(Member.id).where(getattr(Member, c).ilike(pattern, escape="\\"))
                 for c in COLUMNS]
    return Member.id.in_(union_all(*found, select(Member.id).where(also)))
