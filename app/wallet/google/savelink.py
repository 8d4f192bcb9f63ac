"""Save links: where the service's own /g/<token> link sends a member, signed fresh each time."""

from __future__ import annotations

import hashlib
import io
from functools import lru_cache

from PIL import Image
from sqlalchemy import select

from app.extensions import db
from app.models import GoogleClass, GoogleObject, Member, Program, ProgramImage
from app.wallet.content import card_content
from app.wallet.google import mapping
from app.wallet.google.issuer import GoogleWallet
from app.wallet.snapshot import load_snapshot

HERO_SIZE = (1032, 336)
"""Google's recommended hero image size."""
HERO_TINT = 0.55


def save_url(wallet: GoogleWallet, member: Member) -> str | None:
    """The pay.google.com save link for a member, or None while the class is not at Google.

    A skinny JWT (ids only) once the object exists at Google; before that, a minimal
    object Google creates on save (the pipeline PATCHes the rest once the API answers).
    """
    program = member.program
    cls = db.session.get(GoogleClass, program.id)
    if cls is None or not cls.inserted:
        return None
    inserted = db.session.scalar(select(GoogleObject.inserted)
                                 .where(GoogleObject.member_id == member.id))
    if inserted:
        obj = {"id": mapping.object_id(wallet.issuer_id, member.serial_number),
               "classId": mapping.class_id(wallet.issuer_id, program.id)}
    else:
        obj = mapping.minimal_object(program, card_content(load_snapshot(member)),
                                     issuer_id=wallet.issuer_id,
                                     serial_number=member.serial_number)
    return wallet.save_url([obj])


def program_image(program_id: int, filename: str) -> bytes | None:
    """One of a program's card images, by file name."""
    return db.session.scalar(select(ProgramImage.data).where(
        ProgramImage.program_id == program_id, ProgramImage.filename == filename))


def strip_art(program: Program) -> bytes | None:
    """The program's largest strip image, the source of hero images."""
    for name in ("strip@3x.png", "strip.png"):
        data = program_image(program.id, name)
        if data is not None:
            return data
    return None


def art_tag(strip: bytes | None) -> str:
    """A short digest naming the strip artwork (stable across design changes)."""
    return hashlib.sha256(strip).hexdigest()[:10] if strip else "none"


@lru_cache(maxsize=64)
def tinted_hero(strip: bytes | None, color: str) -> bytes:
    """The strip, covered to Google's hero size and tinted with a tier colour (PNG)."""
    rgb = tuple(int(color.lstrip("#")[i:i + 2], 16) for i in (0, 2, 4))
    tint = Image.new("RGB", HERO_SIZE, rgb)  # type: ignore[arg-type]
    if strip:
        with Image.open(io.BytesIO(strip)) as src:
            base = src.convert("RGB")
        scale = max(HERO_SIZE[0] / base.width, HERO_SIZE[1] / base.height)
        base = base.resize((round(base.width * scale), round(base.height * scale)))
        left, top = (base.width - HERO_SIZE[0]) // 2, (base.height - HERO_SIZE[1]) // 2
        base = base.crop((left, top, left + HERO_SIZE[0], top + HERO_SIZE[1]))
        tint = Image.blend(base, tint, HERO_TINT)
    out = io.BytesIO()
    tint.save(out, "PNG", optimize=True)
    return out.getvalue()
