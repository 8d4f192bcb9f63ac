"""Which design changes leave every Google object as it was, decided once per change.

Google shows a program's name, colours, logo, texts and store locations on the class, so
most design changes need one class PATCH and no object call at all. Without help the
Google channel would still rebuild every member's object body to find it unchanged (a card
content query and a hash per member). Instead, each delivered object remembers the
program's *object design key* its body was built with: a digest of every design input an
object body reads (all of the program's design columns but the class-only ones, the
loyalty rules, tiers, rewards, the strip artwork's tag and the built-in labels' texts).
When a design change keeps that key, the objects that were up to date before it are
marked delivered at the new version in one UPDATE: no call, no body built.

Anything not known to be class-only is part of the key, so a new design column makes
objects be re-checked (the old behaviour) until it is listed here;
tests/test_google_wallet.py shows that changing each class-only column leaves every object
body as it was.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from sqlalchemy import exists, select, update

from app.extensions import db
from app.models import GoogleClass, GoogleObject, LoyaltyRules, Member, Program, Reward, Tier
from app.wallet import i18n
from app.wallet.google import mapping
from app.wallet.google.savelink import art_tag, strip_art
from app.wallet.snapshot import DESIGN_COLUMNS

CLASS_ONLY = frozenset({"design_version", "name", "organization_name", "description",
                        "logo_text", "background_color", "foreground_color", "label_color",
                        "back_text", "terms"})
"""Design columns no object body reads: Google shows them on the class, or not at all
(store locations, in their own table, are class-only too)."""
OBJECT_COLUMNS = tuple(c for c in DESIGN_COLUMNS if c not in CLASS_ONLY)
OBJECT_LABELS = ("Points", "Stamps", "Tier", "Perks", "Rewards", "Points expiring")
"""Built-in labels of an object body: their texts in every language are part of the key,
so a new translation reaches the objects with the next design change."""


def object_design_key(program: Program) -> str:
    """A digest of every design input a Google object body of this program reads."""
    pid = program.id
    parts: list[Any] = [list(db.session.execute(
        select(*(Program.__table__.c[n] for n in OBJECT_COLUMNS)).where(Program.id == pid)
    ).one())]
    for model in (LoyaltyRules, Tier, Reward):
        table = model.__table__
        parts.append([list(row) for row in db.session.execute(
            select(table).where(table.c.program_id == pid)
            .order_by(*table.primary_key.columns))])
    lang = program.language or i18n.DEFAULT_LANGUAGE
    parts.append([mapping.localized(label, lang, program.translations or None)
                  for label in OBJECT_LABELS])
    parts.append(art_tag(strip_art(program)))
    text = json.dumps(parts, sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


def keep_unchanged_objects(program: Program) -> int:
    """After a design change's version bump (same transaction): mark delivered, at the new
    version, every object that was up to date and whose body the change leaves as it was.

    An object qualifies when its stored design key is the program's key now and its
    member's pass is exactly one version past it (this change's bump, nothing else).
    Another change of the member (an earn) bumps the pass again, so that object is still
    re-checked. Returns how many objects were marked.
    """
    if db.session.get(GoogleClass, program.id) is None:
        return 0  # Google Wallet never reached this program
    key = object_design_key(program)
    result = db.session.execute(
        update(GoogleObject)
        .where(GoogleObject.design_key == key, GoogleObject.inserted.is_(True),
               exists().where(Member.id == GoogleObject.member_id,
                              Member.program_id == program.id,
                              Member.pass_version == GoogleObject.delivered_version + 1))
        .values(delivered_version=GoogleObject.delivered_version + 1)
        .execution_options(synchronize_session=False))
    return int(getattr(result, "rowcount", 0) or 0)
