"""Store location routes: a program's shops (on the cards, on posters, in signup counts)."""

from __future__ import annotations

from typing import Any

from flask import g

from app.api import bp
from app.api.contract import operation
from app.api.idempotency import Answer, write
from app.api.schemas import Deleted
from app.locations import operations as ops
from app.locations.schemas import (
    StoreLocation,
    StoreLocationChange,
    StoreLocationCreate,
    StoreLocationList,
)
from app.models import StoreLocation as StoreLocationRow
from app.programs.operations import get_program


def location_json(location: StoreLocationRow) -> dict[str, Any]:
    """A store location as the API answers it."""
    return {"id": location.id, "program_id": location.program_id, "name": location.name,
            "address": location.address, "latitude": location.latitude,
            "longitude": location.longitude, "timezone": location.timezone,
            "relevant_text": location.relevant_text,
            "created_at": location.created_at.isoformat()}


@bp.get("/programs/<int:program_id>/locations")
@operation("List a program's store locations", response=StoreLocationList)
def list_locations(program_id: int):  # type: ignore[no-untyped-def]
    """A program's store locations, oldest first (the wallets carry the first 10)."""
    program = get_program(g.merchant, program_id)
    return {"locations": [location_json(loc) for loc in ops.list_locations(program)]}


@bp.post("/programs/<int:program_id>/locations")
@write
@operation("Add a store location", body=StoreLocationCreate, response=StoreLocation,
           status=201, errors=(409,))
def add_location(program_id: int, body: StoreLocationCreate) -> Answer:
    """Add a store location; every card of the program updates."""
    program = get_program(g.merchant, program_id)
    return location_json(ops.add_location(program, body)), 201


@bp.get("/programs/<int:program_id>/locations/<int:location_id>")
@operation("Show a store location", response=StoreLocation)
def show_location(program_id: int, location_id: int):  # type: ignore[no-untyped-def]
    """One store location."""
    program = get_program(g.merchant, program_id)
    return location_json(ops.get_location(program, location_id))


@bp.patch("/programs/<int:program_id>/locations/<int:location_id>")
@write
@operation("Change a store location", body=StoreLocationChange, response=StoreLocation)
def change_location(program_id: int, location_id: int, body: StoreLocationChange) -> Answer:
    """Change a store location; every card of the program updates."""
    program = get_program(g.merchant, program_id)
    location = ops.change_location(program, ops.get_location(program, location_id), body)
    return location_json(location), 200


@bp.delete("/programs/<int:program_id>/locations/<int:location_id>")
@write
@operation("Remove a store location", response=Deleted)
def remove_location(program_id: int, location_id: int) -> Answer:
    """Remove a store location (members who signed up there keep no location)."""
    program = get_program(g.merchant, program_id)
    ops.remove_location(program, ops.get_location(program, location_id))
    return {"id": location_id, "deleted": True}, 200
