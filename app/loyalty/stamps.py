"""Stamp cards: the program's stamp artwork (the strip itself is drawn in app/wallet/stamps.py).

A stamp program (rules mode "stamps") counts stamps in the points ledger, one stamp = one
point, so stamps earn, redeem, void and expire like points; a full card holds
`stamps_required` stamps.
"""

from __future__ import annotations

from app.errors import ValidationError
from app.extensions import db
from app.models import Program, ProgramImage
from app.wallet import images
from app.wallet.stamps import ART_FILENAME, ART_KIND

__all__ = ["ART_KIND", "set_artwork"]


def set_artwork(program: Program, data: bytes) -> ProgramImage:
    """Store the program's stamp artwork (any PNG or JPEG, cut square like an icon)."""
    try:
        files = images.process_image("icon", data)
    except images.ImageError as exc:
        raise ValidationError(exc.message, code=exc.code, status=exc.status) from None
    program.images = [img for img in program.images if img.kind != ART_KIND]
    db.session.flush()
    row = ProgramImage(kind=ART_KIND, filename=ART_FILENAME, data=files["icon@3x.png"])
    program.images.append(row)
    db.session.flush()
    return row
