"""Parsing request JSON safely: bad syntax, bad encoding and absurd nesting are one clear 400.

Flask's `get_json(silent=True)` swallows syntax errors but lets `RecursionError` through, so
a body of a hundred thousand `[` became a 500. Every route that reads JSON goes through
`request_json` (or `loads`) instead.
"""

from __future__ import annotations

import json
from typing import Any

from flask import request

from app.errors import DomainError

MAX_DEPTH = 64  # no request of ours nests deeper than a handful of levels


class InvalidJSON(DomainError):
    """The body is not JSON we accept (syntax, encoding or nesting depth)."""

    status = 400
    code = "invalid_json"


def loads(raw: bytes | str) -> Any:
    """Parse JSON text; InvalidJSON when it is malformed or nests deeper than MAX_DEPTH."""
    try:
        value = json.loads(raw)
    except (ValueError, RecursionError):  # UnicodeDecodeError is a ValueError
        raise InvalidJSON("The body is not valid JSON.") from None
    if nesting_depth(value) > MAX_DEPTH:
        raise InvalidJSON(f"The body nests deeper than {MAX_DEPTH} levels.")
    return value


def nesting_depth(value: Any) -> int:
    """How deeply lists and objects nest in a parsed value (0 for a scalar), without recursion."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        deepest = max(deepest, level)
        if deepest > MAX_DEPTH:
            break
        stack.extend((child, level + 1) for child in children)
    return deepest


def request_json(*, force: bool = False) -> Any:
    """The request body parsed as JSON; None when empty or (unless force) not sent as JSON."""
    raw = request.get_data(cache=True)
    if not raw or not (force or request.is_json):
        return None
    return loads(raw)
