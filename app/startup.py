"""First-start work shared by many processes (gunicorn workers start at once)."""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def startup_lock(data_dir: Path) -> Iterator[None]:
    """An exclusive lock on the data folder, for first-start work done by many processes."""
    with open(data_dir / ".startup.lock", "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
