"""The shapes of a store location: as sent (create, change) and as answered."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel

from app.validation import LATITUDE, LONGITUDE, OMIT, TIMEZONE, Input, text

MAX_PER_PROGRAM = 100
"""Store locations a program may have; the Apple pass and Google class carry the first 10."""


class StoreLocationChange(Input):
    """A change of a store location: only the fields sent change."""

    name: Annotated[str, text(200)] = OMIT
    address: Annotated[str, text(500, required=False)] = OMIT
    latitude: Annotated[float, LATITUDE] = OMIT
    longitude: Annotated[float, LONGITUDE] = OMIT
    timezone: Annotated[str | None, TIMEZONE.or_null()] = None
    relevant_text: Annotated[str, text(200, required=False)] = OMIT
    """The lock-screen text Apple Wallet shows near the shop (e.g. "Your card for Bean
    There Silom")."""


class StoreLocationCreate(StoreLocationChange):
    """A new store location: its name and coordinates at least."""

    name: Annotated[str, text(200)]
    latitude: Annotated[float, LATITUDE]
    longitude: Annotated[float, LONGITUDE]


class StoreLocation(BaseModel):
    """A store location as stored."""

    id: int
    program_id: int
    name: str
    address: str
    latitude: float
    longitude: float
    timezone: str | None
    relevant_text: str
    created_at: datetime


class StoreLocationList(BaseModel):
    """A program's store locations, oldest first (the wallets carry the first 10)."""

    locations: list[StoreLocation]
