"""Google Wallet mapping: class and object JSON from the card content, with no app or network."""

from __future__ import annotations

import dataclasses
import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from jsonschema import ValidationError

from app.models import Program, StoreLocation
from app.wallet.content import CardContent, Line, card_content
from app.wallet.google import mapping
from app.wallet.snapshot import (
    CardDesign,
    CardMember,
    CardReward,
    CardSnapshot,
    CardTier,
    ExpiringPoints,
)
from tests import google_schema

GOLDEN = Path(__file__).parent / "golden"
ISSUER = "3388000000012345678"
BASE = "https://wallet.example.test"
IMAGES = {f"{k}{s}.png" for k in ("icon", "logo", "strip") for s in ("", "@2x", "@3x")}


def program(**overrides: Any) -> Program:
    """A transient cafe program (never added to a session)."""
    values: dict[str, Any] = dict(
        id=7, merchant_id=1, template="cafe", name="Bean Points", organization_name="Bean There",
        description="Bean There loyalty", background_color="#3B2418", foreground_color="#FFFFFF",
        label_color="#F2C48D", points_label="Points", barcode_format="qr", language="en",
        back_text="Show this card at the till.", terms="Points expire after a year.",
        store_locations=[StoreLocation(name="Silom", latitude=13.7563, longitude=100.5018,
                                       relevant_text="Hi")],
        translations={"th": {"Bean Points": "บีนพอยต์"}}, design_version=3,
        created_at=datetime(2026, 1, 1, tzinfo=UTC))
    values.update(overrides)
    return Program(**values)


def content(tier: bool = True) -> CardContent:
    """The content card_content builds for a Gold member with a reward and expiring points."""
    member = CardMember(id=1, serial_number="0f3c9a2b7d4e4c1a9b8e6d5c4b3a2f10", auth_token="t",
                        name="Ann Lee", email="ann@example.com", points=1250,
                        created_at=datetime(2026, 1, 1, 9, tzinfo=UTC))
    design = CardDesign(program_id=7, design_version=3, name="Bean Points",
                        organization_name="Bean There", description="Bean There loyalty",
                        logo_text="", background_color="#3B2418", foreground_color="#FFFFFF",
                        label_color="#F2C48D", terms="Points expire after a year.")
    gold = CardTier("Gold", perks="Free size upgrade", background_color="#C9A227")
    return card_content(CardSnapshot(
        member=member, design=design, tier=gold if tier else None,
        rewards=(CardReward(1, "Free latte", 1000),),
        expiring=ExpiringPoints(40, datetime(2026, 12, 31, 12, tzinfo=UTC))))


def check_golden(name: str, body: dict[str, Any]) -> None:
    """Compare with tests/golden/<name>.json (WALLETPASS_UPDATE_GOLDEN=1 rewrites it)."""
    path = GOLDEN / f"{name}.json"
    text = json.dumps(body, indent=2, ensure_ascii=False, sort_keys=True) + "\n"
    if os.environ.get("WALLETPASS_UPDATE_GOLDEN"):
        path.write_text(text)
    assert text == path.read_text()


def test_class_matches_golden_and_google_schema() -> None:
    body = mapping.loyalty_class(program(), issuer_id=ISSUER, base_url=BASE,
                                 image_names=IMAGES, callback_url=BASE + "/google/callback")
    google_schema.validate("LoyaltyClass", body)
    check_golden("google_class", body)
    assert body["id"] == f"{ISSUER}.walletpass-program-7"
    assert body["hexBackgroundColor"] == "#3b2418"
    assert body["programLogo"]["sourceUri"]["uri"] == f"{BASE}/google/images/7/3/icon@3x.png"
    assert body["heroImage"]["sourceUri"]["uri"].endswith("/strip@3x.png")
    assert body["merchantLocations"] == [{"latitude": 13.7563, "longitude": 100.5018}]
    names = {t["language"]: t["value"]
             for t in body["localizedProgramName"]["translatedValues"]}
    assert names == {"th": "บีนพอยต์"}
    terms = next(m for m in body["textModulesData"] if m["id"] == "terms")
    langs = {t["language"] for t in terms["localizedHeader"]["translatedValues"]}
    assert langs == {"th", "zh-Hant", "vi", "ms"}


def test_object_matches_golden_and_google_schema() -> None:
    body = mapping.loyalty_object(program(), content(), issuer_id=ISSUER,
                                  serial_number="0f3c9a2b7d4e4c1a9b8e6d5c4b3a2f10", base_url=BASE,
                                  art_tag="5d41402a")
    google_schema.validate("LoyaltyObject", body)
    check_golden("google_object", body)
    assert body["loyaltyPoints"]["balance"] == {"int": 1250}
    assert body["barcode"] == {"type": "QR_CODE", "value": "0f3c9a2b7d4e4c1a9b8e6d5c4b3a2f10",
                               "alternateText": "0F3C9A2B7D4E"}
    modules = {m["id"]: m["body"] for m in body["textModulesData"]}
    assert modules == {"tier": "Gold", "perks": "Free size upgrade", "reward": "Free latte",
                       "expiring": "40 · 2026-12-31"}
    assert body["heroImage"]["sourceUri"]["uri"] == f"{BASE}/google/hero/7/c9a227-5d41402a.png"


def test_object_without_tier_has_no_hero_and_no_tier_module() -> None:
    body = mapping.loyalty_object(program(barcode_format="code128"), content(tier=False),
                                  issuer_id=ISSUER, serial_number="abc", base_url=BASE)
    google_schema.validate("LoyaltyObject", body)
    assert "heroImage" not in body
    assert {m["id"] for m in body["textModulesData"]} == {"reward", "expiring"}
    assert body["barcode"]["type"] == "CODE_128"


def test_stamp_balance_is_a_string() -> None:
    stamps = content(tier=False)
    stamps = dataclasses.replace(stamps, balance=Line("Stamps", "3/10"))
    body = mapping.loyalty_object(program(), stamps, issuer_id=ISSUER, serial_number="abc",
                                  base_url=BASE)
    google_schema.validate("LoyaltyObject", body)
    assert body["loyaltyPoints"]["balance"] == {"string": "3/10"}
    assert body["loyaltyPoints"]["localizedLabel"]["translatedValues"][0] == {
        "language": "th", "value": "แสตมป์"}


def test_minimal_object_is_small_and_valid() -> None:
    body = mapping.minimal_object(program(), content(), issuer_id=ISSUER,
                                  serial_number="0f3c9a2b7d4e4c1a9b8e6d5c4b3a2f10")
    google_schema.validate("LoyaltyObject", body)
    assert len(json.dumps(body)) < 400


def test_schema_rejects_unknown_fields() -> None:
    with pytest.raises(ValidationError):
        google_schema.validate("LoyaltyObject", {"id": "x", "tier": "Gold"})
    with pytest.raises(ValidationError):
        google_schema.validate("LoyaltyClass", {"id": "x", "hexBackgroundColour": "#000000"})


def test_notifications_stay_within_three_per_day_and_messages_within_ten() -> None:
    from datetime import timedelta

    from app.wallet.google import messages

    now = datetime(2026, 11, 29, 12, tzinfo=UTC)
    spent = [(now - timedelta(hours=h)).isoformat() for h in (30, 5, 1)]  # 2 in the window
    new = messages.milestone_messages({"tier": "Silver", "reward": None, "expiring": None},
                                      {"tier": "Gold", "reward": "Free latte",
                                       "expiring": None}, lang="en", overrides=None,
                                      message_id="v9")
    typed, kept = messages.plan_messages(new, spent, now)
    assert [m["messageType"] for m in typed] == ["TEXT_AND_NOTIFY", "TEXT"]
    assert len(kept) == 3 and spent[0] not in kept
    for message in typed:
        google_schema.validate("Message", message)
    assert messages.milestone_messages(None, {"tier": "Gold"}, lang="en", overrides=None,
                                       message_id="v1") == []
    old = [{"id": f"m{i}"} for i in range(9)]
    assert messages.kept_messages(old, 1) is None
    assert [m["id"] for m in messages.kept_messages(old, 2) or []] == [f"m{i}" for i in
                                                                        range(1, 9)]
