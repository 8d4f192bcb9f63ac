"""Distribution sweeps: processing uploaded e-mail lists."""

from __future__ import annotations

from app import jobs
from app.distribution import imports


@jobs.sweep(imports.SWEEP, every=30)
def run_imports() -> int:
    """Process every running import whose lease is free; returns the rows handled."""
    handled = 0
    for import_id in imports.claim_due():
        try:
            handled += imports.process(import_id)
        except UnicodeDecodeError as exc:  # checked at upload; a stored file never changes
            imports.fail(import_id, f"The file cannot be read as its encoding: {exc}")
    return handled
