"""What the API tells about a member's loyalty standing."""

from __future__ import annotations

from typing import Any

from app.loyalty import expiry, tiers
from app.loyalty.rules import rules_of
from app.models import Member


def member_loyalty(member: Member) -> dict[str, Any]:
    """Tier, next tier and what it takes, points expiring soon, referral code, stamps."""
    rules = rules_of(member.program)
    out: dict[str, Any] = {"tier": _tier(member)}
    out["next_tier"] = tiers.next_tier(member) if member.program.tiers else None
    out["expiring_points"] = expiry.expiring_soon(member)
    out["referral_code"] = member.referral_code
    out["birthday"] = member.birthday.isoformat() if member.birthday else None
    if rules.mode == "stamps":
        out["stamps"] = {"count": member.points, "required": rules.stamps_required}
    return out


def _tier(member: Member) -> dict[str, Any] | None:
    """The member's tier and until when it is held (None: lifetime)."""
    tier = member.tier
    if tier is None:
        return None
    until = member.tier_expires_at.isoformat() if member.tier_expires_at else None
    return {"id": tier.id, "name": tier.name, "perks": tier.perks, "until": until}
