"""Card fixtures: one spec per kind of card, as database rows or as a hand-built snapshot.

Each spec is plain data (program design, rules, tiers, rewards, member, ledger lots) with
every random or time-dependent value fixed, so the same spec always renders the same pass.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from app.extensions import db
from app.models import (
    LedgerEntry,
    LoyaltyRules,
    Member,
    Merchant,
    Program,
    Reward,
    StoreLocation,
    Tier,
)
from app.wallet.snapshot import (
    CardDesign,
    CardMember,
    CardReward,
    CardSnapshot,
    CardTier,
    ExpiringPoints,
    Location,
)

PASS_TYPE_ID = "pass.test.walletpass"
TEAM_ID = "TEAM123456"
WEB_SERVICE_URL = "https://wallet.example.test/wallet"


def _t(*parts: int) -> datetime:
    """An aware UTC datetime."""
    return datetime(*parts, tzinfo=UTC)  # type: ignore[misc]


DESIGN: dict[str, Any] = {
    "name": "Bean There Rewards", "organization_name": "Bean There Coffee",
    "description": "Bean There loyalty card", "logo_text": "", "background_color": "#4B2E1E",
    "foreground_color": "#FFF8F0", "label_color": "#D6AA78", "points_label": "Points",
    "barcode_format": "qr", "language": "en", "back_text": "", "terms": "", "locations": [],
    "translations": {},
}  # fmt: skip

MEMBER: dict[str, Any] = {
    "name": "Ann Lee", "email": "ann@example.test", "points": 120, "language": None,
    "created_at": _t(2024, 3, 5, 23, 30),
}  # fmt: skip

FIXTURES: dict[str, dict[str, Any]] = {
    "points": {"design": {}, "member": {}},
    "tier": {
        "design": {"back_text": "Open daily from 7 to 19.", "terms": "Points have no cash value."},
        "tiers": [
            {"name": "Silver", "threshold": 100, "perks": "Free refills",
             "background_color": "#C0C0C0"},
            {"name": "Gold", "threshold": 500, "perks": "Free refills\nPriority pickup",
             "background_color": "#1A1A1A", "foreground_color": "#FFD700",
             "label_color": "#FFFFFF"},
        ],
        "rewards": [("Cookie", 50), ("Free coffee", 100), ("Espresso machine", 5000)],
        "member": {"name": "", "email": "gold@example.test", "points": 640, "tier": "Gold"},
    },
    "stamps": {
        "design": {"barcode_format": "pdf417", "logo_text": "Stamps & Co"},
        "rules": {"mode": "stamps", "stamps_required": 10},
        "rewards": [("Cookie", 5), ("Free coffee", 10), ("Mug", 12)],
        "member": {"points": 7},
    },
    "expiring": {
        "rules": {"expiry_days": 365},
        "member": {"points": 150},
        "lots": [  # (points, remaining, expires_at)
            (40, 30, _t(2025, 6, 30, 10, 0)), (20, 20, _t(2025, 6, 30, 22, 0)),
            (10, 0, _t(2025, 6, 1, 9, 0)), (50, 50, _t(2025, 7, 15, 8, 0)), (50, 50, None),
        ],
    },
    "locations": {
        "design": {"barcode_format": "aztec", "locations": [
            {"latitude": 13.7563 + i / 100, "longitude": 100.5018,
             **({"relevant_text": f"Branch {i} is near"} if i % 2 else {})}
            for i in range(10)] + [{"latitude": 13, "longitude": 100, "relevant_text": "11th"}]},
    },
    "translations": {
        "design": {
            "name": "Suds Laundry", "organization_name": "Suds Laundry Co.",
            "description": "Suds washes card", "logo_text": "Suds", "points_label": "Washes",
            "barcode_format": "code128", "language": "vi",
            "back_text": "We wash, you relax.", "terms": "One free wash per full card.",
            "translations": {"th": {"Washes": "ซัก", "We wash, you relax.": "เราซัก คุณพัก"},
                             "vi": {"About": "Về chúng tôi"},
                             "zh-Hant": {"You now have %@ points": "您有 %@ 點"}},
        },
        "member": {"name": "Nguyễn Văn \"A\"", "language": "vi", "points": 3},
    },
}  # fmt: skip
"""name -> spec; missing design and member keys take DESIGN's and MEMBER's values."""


def serial_of(name: str) -> str:
    """The fixed serial number of a fixture's member."""
    return hashlib.sha256(name.encode()).hexdigest()[:32]


def token_of(name: str) -> str:
    """The fixed authentication token of a fixture's member."""
    return f"token-{name}-0123456789abcdefghij"


def create(name: str) -> Member:
    """Store a fixture's merchant, program, rules, tiers, rewards, member and lots; flush."""
    spec = FIXTURES[name]
    merchant = Merchant(name=f"Merchant {name}", email=f"{name}@example.test")
    design = {**DESIGN, **spec.get("design", {})}
    places = design.pop("locations")
    program = Program(merchant=merchant, template="cafe", **design)
    program.store_locations = [StoreLocation(name=f"Shop {i}", **place)
                               for i, place in enumerate(places)]
    db.session.add(program)
    db.session.flush()
    if "rules" in spec:
        db.session.add(LoyaltyRules(program_id=program.id, **spec["rules"]))
    tiers = {t["name"]: Tier(program_id=program.id, **{**t, "threshold": Decimal(t["threshold"])})
             for t in spec.get("tiers", [])}
    db.session.add_all(tiers.values())
    for reward, cost in spec.get("rewards", []):
        db.session.add(Reward(program_id=program.id, name=reward, kind="free_item",
                              points_cost=cost))
    fields = {**MEMBER, **spec.get("member", {})}
    tier = tiers.get(fields.pop("tier", None) or "")
    member = Member(program=program, serial_number=serial_of(name), auth_token=token_of(name),
                    tier=tier, **fields)
    db.session.add(member)
    db.session.flush()
    for points, remaining, expires_at in spec.get("lots", []):
        db.session.add(LedgerEntry(member_id=member.id, kind="earn", points=points,
                                   remaining=remaining, expires_at=expires_at,
                                   created_at=_t(2024, 7, 1)))
    db.session.flush()
    db.session.expire_all()  # read back as stored, like a request would
    return db.session.get(Member, member.id)


EXPIRING = {"expiring": (50, _t(2025, 6, 30, 10, 0))}
"""What each fixture's snapshot says about expiring points (from its lots)."""


def snapshot(name: str, timezone: str = "UTC") -> CardSnapshot:
    """The fixture's card snapshot built by hand from its spec: no database."""
    spec = FIXTURES[name]
    design = {**DESIGN, **spec.get("design", {})}
    rules = spec.get("rules", {})
    fields = {**MEMBER, **spec.get("member", {})}
    tier_name = fields.pop("tier", None)
    tier = next((t for t in spec.get("tiers", []) if t["name"] == tier_name), None)
    soonest = EXPIRING.get(name)
    return CardSnapshot(
        member=CardMember(id=1, serial_number=serial_of(name), auth_token=token_of(name),
                          **fields),
        design=CardDesign(
            program_id=1, design_version=1,
            **{k: v for k, v in design.items() if k != "locations"},
            locations=tuple(Location(**loc) for loc in design["locations"]),
            stamps_required=rules["stamps_required"] if rules.get("mode") == "stamps" else None),
        tier=CardTier(**{k: v for k, v in tier.items() if k != "threshold"}) if tier else None,
        rewards=tuple(CardReward(i, reward, cost)
                      for i, (reward, cost) in enumerate(spec.get("rewards", []), 1)),
        expiring=ExpiringPoints(*soonest) if soonest else None,
        timezone=timezone,
    )
