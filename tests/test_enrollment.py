"""One enrollment function: phone numbers, sources, locations and consent records."""

from __future__ import annotations

from typing import Any

from flask import Flask
from sqlalchemy import select

from app.extensions import db
from app.members.operations import Consent, enroll_member
from app.members.schemas import MemberCreate
from app.models import ConsentRecord, Member, Program, StoreLocation
from app.validation import parse
from tests.conftest import Api


def test_phone_is_stored_in_international_form(api: Api, program: dict[str, Any]) -> None:
    r = api.post(f"/programs/{program['id']}/members",
                 {"email": "ann@example.com", "phone": "+66 81-234-5678"})
    assert r.status_code == 201, r.get_json()
    body = r.get_json()
    assert body["phone"] == "+66812345678"
    assert body["source"] == "api" and body["location_id"] is None
    assert body["marketing_consent"] is False


def test_a_local_or_malformed_phone_is_refused(api: Api, program: dict[str, Any]) -> None:
    for bad in ("081 234 5678", "+66 12", "call me", "+" + "1" * 40):
        r = api.post(f"/programs/{program['id']}/members",
                     {"email": "bob@example.com", "phone": bad})
        assert r.status_code == 422, bad
        assert "phone" in r.get_json()["error"]["message"]


def test_enrollment_records_source_location_and_consent(app: Flask, api: Api,
                                                        program: dict[str, Any]) -> None:
    text = "ยินดีรับข่าวสารและโปรโมชั่นทางอีเมล"
    with app.app_context():
        prog = db.session.get(Program, program["id"])
        shop = StoreLocation(program_id=prog.id, name="Siam", latitude=13.74,
                             longitude=100.53)
        db.session.add(shop)
        db.session.flush()
        request = parse(MemberCreate, {"email": "cee@example.com", "name": "Cee"})
        member = enroll_member(prog, request, source="poster", location_id=shop.id,
                               consents=[Consent("marketing", True, text, "th")])
        db.session.commit()
        member_id, shop_id = member.id, shop.id
    with app.app_context():
        member = db.session.get(Member, member_id)
        assert (member.source, member.location_id, member.marketing_consent) == (
            "poster", shop_id, True)
        record = db.session.scalar(select(ConsentRecord).where(
            ConsentRecord.member_id == member_id))
        assert (record.purpose, record.granted, record.text, record.language, record.source,
                record.location_id) == ("marketing", True, text, "th", "poster", shop_id)
        assert record.recorded_at is not None


def test_a_query_with_a_nul_byte_is_refused_not_a_500(api: Api) -> None:
    for path in ("/members?serial=%25%00", "/members?email=a%00b@x.test",
                 "/programs?x=%00"):
        r = api.get(path)
        assert r.status_code == 400, path
        assert r.get_json()["error"]["code"] == "invalid_query"
