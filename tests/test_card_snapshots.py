"""The card model: snapshot -> pure content -> Apple pass.json, against golden files.

The golden files in tests/snapshots/ were written by the code before the wallet-neutral
card model (see tests/card_golden.py), so equal bytes mean Apple passes did not change.
"""

from __future__ import annotations

import dataclasses
import io
import json
import zipfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from flask import Flask

from app.config import Settings
from app.extensions import db
from app.loyalty.expiry import next_expiry
from app.wallet import i18n
from app.wallet.apple.certs import load_identity
from app.wallet.apple.issuer import PassIssuer
from app.wallet.apple.signing import encode_pass_json
from app.wallet.content import CardContent, Line, card_content
from app.wallet.snapshot import CardSnapshot, ExpiringPoints, load_snapshot
from app.wallet.stamps import StampRow
from tests import card_fixtures
from tests.card_golden import SNAPSHOTS, render

NAMES = list(card_fixtures.FIXTURES)


def golden(name: str) -> dict[str, Any]:
    """A fixture's golden pass.json and pass.strings."""
    return dict(json.loads((SNAPSHOTS / f"{name}.json").read_text(encoding="utf-8")))


def assert_same_bytes(name: str, rendered: dict[str, Any]) -> None:
    """pass.json and every pass.strings of `rendered` equal the golden file byte for byte."""
    expected = golden(name)
    assert encode_pass_json(rendered["pass.json"]) == encode_pass_json(expected["pass.json"])
    assert rendered["pass.strings"].keys() == expected["pass.strings"].keys()
    for file, text in expected["pass.strings"].items():
        want = b"\xff\xfe" + text.encode("utf-16-le")
        got = b"\xff\xfe" + rendered["pass.strings"][file].encode("utf-16-le")
        assert got == want, file
        assert i18n.parse_strings(got) == i18n.parse_strings(want)


def same_but_ids(snapshot: CardSnapshot) -> CardSnapshot:
    """The snapshot with database ids and the design version set as the hand-built ones."""
    return dataclasses.replace(
        snapshot,
        member=dataclasses.replace(snapshot.member, id=1),
        design=dataclasses.replace(snapshot.design, program_id=1, design_version=1),
        rewards=tuple(dataclasses.replace(r, id=i) for i, r in enumerate(snapshot.rewards, 1)))


@pytest.mark.parametrize("name", NAMES)
def test_pass_json_from_a_hand_built_snapshot(name: str) -> None:
    """No app, database, certificate or network: the pure path alone."""
    assert_same_bytes(name, render(card_fixtures.snapshot(name)))


@pytest.mark.parametrize("name", NAMES)
def test_loaded_snapshot_renders_the_golden_pass(app: Flask, name: str) -> None:
    with app.app_context():
        snapshot = load_snapshot(card_fixtures.create(name))
        db.session.rollback()
    assert same_but_ids(snapshot) == card_fixtures.snapshot(name)
    assert_same_bytes(name, render(snapshot))


def test_goldens_cover_every_kind_of_card() -> None:
    cards = {name: golden(name)["pass.json"] for name in NAMES}
    assert cards["tier"]["backgroundColor"] == "rgb(26, 26, 26)"  # the tier's colour
    assert [f["key"] for f in cards["tier"]["storeCard"]["backFields"]] == [
        "member_since", "perks", "about", "terms"]
    assert cards["stamps"]["storeCard"]["primaryFields"][0]["value"] == "7/10"
    assert cards["expiring"]["storeCard"]["auxiliaryFields"][0]["value"] == "50 · 2025-06-30"
    assert len(cards["locations"]["locations"]) == 10
    th = golden("translations")["pass.strings"]["th.lproj/pass.strings"]
    assert '"Washes" = "ซัก";' in th


def test_content_is_named_by_meaning_without_apple_terms() -> None:
    content = card_content(card_fixtures.snapshot("tier"))
    assert content.balance == Line("Points", 640)
    assert content.member_name == Line("Member", "gold@example.test")
    assert content.tier == Line("Tier", "Gold")
    assert content.available_reward == Line("Rewards", "Free coffee")
    assert content.next_reward == Line("Next reward", "Espresso machine")
    assert content.perks == Line("Perks", "Free refills\nPriority pickup")
    assert (content.style.background_color, content.style.foreground_color,
            content.style.label_color) == ("#1A1A1A", "#FFD700", "#FFFFFF")
    assert content.program_texts() == ["Open daily from 7 to 19.", "Points have no cash value."]
    assert [meaning for meaning, _ in content.lines()] == [
        "balance", "member_name", "tier", "available_reward", "next_reward", "member_since",
        "perks", "about", "terms"]
    words = json.dumps(dataclasses.asdict(content), default=str)
    for apple in ("%@", "header", "primary", "secondary", "auxiliary", "changeMessage"):
        assert apple not in words
    assert {f.name for f in dataclasses.fields(CardContent)} >= {
        "balance", "tier", "member_name", "next_reward", "expiring_points", "perks", "terms",
        "about", "member_since", "style", "barcode"}


def test_stamp_card_content() -> None:
    content = card_content(card_fixtures.snapshot("stamps"))
    assert content.is_stamp_card and content.balance == Line("Stamps", "7/10")
    assert content.style.stamps is not None
    assert content.style.stamps.row == StampRow(7, 10, (5, 10))  # the 12-stamp mug is off
    assert content.style.strip is None  # the drawn stamps replace the design's strip
    assert content.barcode.format == "pdf417"


def test_dates_are_days_in_the_programs_time_zone() -> None:
    late = ExpiringPoints(20, datetime(2025, 6, 30, 22, 0, tzinfo=UTC))
    utc, bangkok = (card_content(dataclasses.replace(card_fixtures.snapshot("expiring", zone),
                                                     expiring=late))
                    for zone in ("UTC", "Asia/Bangkok"))
    assert utc.member_since.value == "2024-03-05"  # joined 23:30 UTC
    assert bangkok.member_since.value == "2024-03-06"  # 06:30 in Bangkok
    assert utc.expiring_points == Line("Points expiring", "20 · 2025-06-30")
    assert bangkok.expiring_points == Line("Points expiring", "20 · 2025-07-01")


def test_next_expiry_groups_lots_by_the_zones_day(app: Flask) -> None:
    with app.app_context():
        member = card_fixtures.create("expiring")
        first = datetime(2025, 6, 30, 10, 0, tzinfo=UTC)
        assert next_expiry(member.id) == (50, first)  # 10:00 and 22:00 UTC: one day
        assert next_expiry(member.id, ZoneInfo("Asia/Bangkok")) == (30, first)  # 22:00 UTC
        # is already 1 July in Bangkok
        assert next_expiry(member.id, ZoneInfo("America/Los_Angeles")) == (50, first)
        db.session.rollback()


def test_a_whole_pass_builds_without_a_database(cert_paths: dict[str, Path]) -> None:
    """The issuer signs a snapshot's pass outside any app, with image files from a fake."""
    identity = load_identity(cert_path=cert_paths["cert"], key_path=cert_paths["key"],
                             wwdr_path=cert_paths["wwdr"])
    asked: list[int] = []

    def design_files(program_id: int) -> dict[str, bytes]:
        asked.append(program_id)
        return {"icon.png": b"icon", "stamp-art.png": b"not shipped"}

    issuer = PassIssuer(identity, Settings(BASE_URL="https://cards.example.test"),
                        design_files=design_files)
    snapshot = dataclasses.replace(
        card_fixtures.snapshot("translations"),
        design=dataclasses.replace(card_fixtures.snapshot("translations").design,
                                   program_id=7))
    archive = zipfile.ZipFile(io.BytesIO(issuer.pkpass_of(snapshot)))
    data = json.loads(archive.read("pass.json"))
    assert data["passTypeIdentifier"] == identity.pass_type_id
    assert data["webServiceURL"] == "https://cards.example.test/wallet"
    assert data["storeCard"]["primaryFields"][0]["label"] == "Washes"
    assert archive.read("icon.png") == b"icon" and "stamp-art.png" not in archive.namelist()
    assert archive.read("th.lproj/pass.strings") == b"\xff\xfe" + golden("translations")[
        "pass.strings"]["th.lproj/pass.strings"].encode("utf-16-le")
    issuer.pkpass_of(snapshot)
    assert asked == [7]  # the design's files are read once per design version
