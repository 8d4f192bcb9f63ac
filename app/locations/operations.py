"""Adding, changing and removing store locations: plain functions that raise domain errors.

A change to a program's locations changes every card of the program (the Apple pass's
`locations`, Google's `merchantLocations`), so each one bumps the program's design.
"""

from __future__ import annotations

from sqlalchemy import select

from app.errors import Conflict, NotFound
from app.extensions import db
from app.locations.schemas import MAX_PER_PROGRAM, StoreLocationChange, StoreLocationCreate
from app.models import Program, StoreLocation
from app.programs.operations import design_changed


def list_locations(program: Program) -> list[StoreLocation]:
    """A program's store locations, oldest first."""
    return list(program.store_locations)


def get_location(program: Program, location_id: int) -> StoreLocation:
    """One of the program's locations, or NotFound (also for another program's)."""
    location = db.session.scalar(select(StoreLocation).where(
        StoreLocation.id == location_id, StoreLocation.program_id == program.id))
    if location is None:
        raise NotFound(f"Location {location_id} not found.")
    return location


def add_location(program: Program, request: StoreLocationCreate) -> StoreLocation:
    """Add a store location to a program (at most MAX_PER_PROGRAM)."""
    if len(program.store_locations) >= MAX_PER_PROGRAM:
        raise Conflict(f"A program has at most {MAX_PER_PROGRAM} store locations.",
                       code="too_many_locations")
    data = request.given()
    location = StoreLocation(**data)
    program.store_locations.append(location)
    design_changed(program)
    db.session.flush()
    return location


def change_location(program: Program, location: StoreLocation,
                    changes: StoreLocationChange) -> StoreLocation:
    """Change a store location; the program's cards change with it."""
    data = changes.given()
    for key, value in data.items():
        setattr(location, key, value)
    if data:
        design_changed(program)
    db.session.flush()
    return location


def remove_location(program: Program, location: StoreLocation) -> None:
    """Remove a store location (members who signed up there keep no location)."""
    program.store_locations.remove(location)  # delete-orphan: the row goes
    design_changed(program)
    db.session.flush()
