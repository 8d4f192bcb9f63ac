"""JSON shapes of the API's objects."""

from __future__ import annotations

from typing import Any

from app import links
from app.loyalty.summary import member_loyalty
from app.models import Member, Program
from app.programs.schemas import DESIGN_FIELDS, signup_fields


def program_json(program: Program) -> dict[str, Any]:
    """A program and its design."""
    out: dict[str, Any] = {"id": program.id, "template": program.template}
    out.update({k: getattr(program, k) for k in DESIGN_FIELDS})
    out["locations"] = [{"id": loc.id, "name": loc.name, "latitude": loc.latitude,
                         "longitude": loc.longitude, "relevant_text": loc.relevant_text}
                        for loc in program.store_locations]
    out["signup_fields"] = signup_fields(program)
    out["timezone"] = program.timezone
    out["design_version"] = program.design_version
    out["images"] = sorted(img.filename for img in program.images)
    out["created_at"] = program.created_at.isoformat()
    out["updated_at"] = program.updated_at.isoformat()
    out["links"] = links.program_links(program.id)
    return out


def member_json(member: Member) -> dict[str, Any]:
    """A member, their balance and the links to their card."""
    return {
        "id": member.id,
        "program_id": member.program_id,
        "serial_number": member.serial_number,
        "name": member.name,
        "email": member.email,
        "external_id": member.external_id,
        "language": member.language,
        "points": member.points,
        "pass_version": member.pass_version,
        "pass_updated_at": member.pass_updated_at.isoformat(),
        "created_at": member.created_at.isoformat(),
        "phone": member.phone,
        "source": member.source,
        "location_id": member.location_id,
        "marketing_consent": member.marketing_consent,
        **member_loyalty(member),
        "links": member_links(member),
    }


def member_links(member: Member) -> dict[str, str]:
    """Public links to a member's card (no API key needed; guarded by the download token)."""
    return links.member_links(member)
