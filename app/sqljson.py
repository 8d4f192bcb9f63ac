"""Rows of a subquery as one JSON array, in SQLite and PostgreSQL alike.

`json_array_agg(json_row(a, b))` in a scalar subquery gives ``[[a, b], ...]`` (or NULL when
there are no rows): a whole small collection comes back in its parent's row, so a read
needs one statement (one round trip) instead of one per collection. `json_rows` turns the
value into Python lists whichever database answered (PostgreSQL's driver parses JSON
itself; SQLite's answers text). The order inside the array is not defined: sort after.
SQLite writes a real into JSON with 15 significant digits, so a float column goes in as
`exact_float(column)` (its shortest exact text) and comes out with float().
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.types import JSON, String


class json_row(FunctionElement[Any]):  # noqa: N801  (reads as a SQL function)
    """One row's values as a JSON array."""

    type = JSON()
    name = "json_row"
    inherit_cache = True


class json_array_agg(FunctionElement[Any]):  # noqa: N801
    """The JSON arrays of every row, as one JSON array."""

    type = JSON()
    name = "json_array_agg"
    inherit_cache = True


class exact_float(FunctionElement[Any]):  # noqa: N801
    """A float column as text that float() reads back to the very same value."""

    type = String()
    name = "exact_float"
    inherit_cache = True


SQL: dict[type[FunctionElement[Any]], dict[str, str]] = {
    json_row: {"sqlite": "json_array({})", "postgresql": "json_build_array({})"},
    json_array_agg: {"sqlite": "json_group_array({})", "postgresql": "json_agg({})"},
    exact_float: {"sqlite": "printf('%!.17g', {})", "postgresql": "CAST({} AS TEXT)"},
}
"""Each function's SQL per database, its arguments in place of {}."""


def _register(function: type[FunctionElement[Any]], dialect: str, template: str) -> None:
    """Compile `function` on `dialect` as `template` around its arguments."""

    @compiles(function, dialect)
    def _compile(element: FunctionElement[Any], compiler: SQLCompiler, **kw: Any) -> str:
        return template.format(compiler.process(element.clauses, **kw))


for _function, _templates in SQL.items():
    for _dialect, _template in _templates.items():
        _register(_function, _dialect, _template)


def json_rows(value: Any) -> list[list[Any]]:
    """The rows of a json_array_agg value (text or already parsed; NULL: no rows)."""
    if value is None:
        return []
    rows = json.loads(value) if isinstance(value, str | bytes) else value
    return [list(row) for row in rows]
