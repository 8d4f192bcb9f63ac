"""The shape of a new merchant, as the CLI (and later the dashboard's sign-up) sends it."""

from __future__ import annotations

from typing import Annotated

from app.validation import EMAIL_ADDRESS, Input, text


class MerchantCreate(Input):
    """A merchant's name and the owner's e-mail address."""

    name: Annotated[str, text(200)]
    email: Annotated[str, EMAIL_ADDRESS]
