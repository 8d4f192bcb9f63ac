"""Google Wallet end to end: enrollment, save links, live updates through the loopback stand-in."""

from __future__ import annotations

import base64
import json
import logging
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from flask import Flask
from sqlalchemy import select

from app import create_app
from app.extensions import db
from app.jobs import PASS_UPDATES, run_sweep_now
from app.models import GoogleObject, Member, Program
from app.updates.google_design import CLASS_ONLY, object_design_key
from app.wallet.content import card_content
from app.wallet.google import mapping
from app.wallet.google.issuer import GoogleConfigError
from app.wallet.snapshot import load_snapshot
from tests.conftest import Api, app_config
from tests.google_standin import GoogleStandIn, Server, service_account_info

ISSUER = "3388000000012345678"


@pytest.fixture
def google() -> Iterator[GoogleStandIn]:
    """The Google stand-in, running on loopback."""
    server = Server()
    yield server.start()
    server.stop()


@pytest.fixture
def key_file(tmp_path: Path, google: GoogleStandIn) -> tuple[Path, Any]:
    """A service account key file whose token_uri is the stand-in; and its private key."""
    info, key = service_account_info(google.token_uri)
    path = tmp_path / "google-sa.json"
    path.write_text(json.dumps(info))
    return path, key


@pytest.fixture
def app(make_app: Any, google: GoogleStandIn, key_file: tuple[Path, Any]) -> Flask:
    """The app with Google Wallet on, talking to the stand-in."""
    return make_app(GOOGLE_SERVICE_ACCOUNT_FILE=str(key_file[0]), GOOGLE_ISSUER_ID=ISSUER,
                    GOOGLE_API_URL=google.url, GOOGLE_TIMEOUT=3.0)


def sweep(app: Flask) -> int:
    """Run the pass_updates sweep once (Apple and Google channels)."""
    with app.app_context():
        return run_sweep_now(PASS_UPDATES)


def decode_save_link(location: str, key: Any) -> dict[str, Any]:
    """Verify a save link's JWT with the service account's public key; return its claims."""
    assert location.startswith("https://pay.google.com/gp/v/save/")
    token = location.rsplit("/", 1)[1]
    assert len(token) < 1800
    head, body, sig = token.split(".")
    key.public_key().verify(_b64(sig), f"{head}.{body}".encode(), padding.PKCS1v15(),
                            hashes.SHA256())  # raises InvalidSignature if forged
    assert json.loads(_b64(head)) == {"alg": "RS256", "typ": "JWT",
                                      "kid": json.loads(_b64(head))["kid"]}
    claims = json.loads(_b64(body))
    assert claims["aud"] == "google" and abs(claims["iat"] - time.time()) < 60
    return dict(claims)


def _b64(part: str) -> bytes:
    """Decode one base64url JWT segment."""
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def test_enroll_save_link_and_live_updates(app: Flask, api: Api, program: dict[str, Any],
                                           google: GoogleStandIn,
                                           key_file: tuple[Path, Any]) -> None:
    member = api.post(f"/programs/{program['id']}/members",
                      {"email": "ann@example.test", "name": "Ann Lee"}).get_json()
    link = member["links"]["google"]
    assert link == f"https://wallet.example.test/g/{urlsplit(link).path.rsplit('/', 1)[1]}"
    assert google.calls() == []  # no Google call inside the customer's request
    page = api.client.get(urlsplit(link).path)
    assert page.status_code == 503 and b"ready in a moment" in page.data

    sweep(app)
    class_id = f"{ISSUER}.walletpass-program-{program['id']}"
    object_id = f"{ISSUER}.{member['serial_number']}"
    assert google.resources["loyaltyClass"][class_id]["programName"] == program["name"]
    stored = google.resources["loyaltyObject"][object_id]
    assert stored["barcode"]["value"] == member["serial_number"]
    assert stored["loyaltyPoints"]["balance"] == {"int": member["points"]}
    assert google.schema_errors == []

    resp = api.client.get(urlsplit(link).path)
    assert resp.status_code == 303
    claims = decode_save_link(resp.headers["Location"], key_file[1])
    assert claims["typ"] == "savetowallet" and claims["origins"] == ["https://wallet.example.test"]
    assert claims["iss"] == "issuer@walletpass-test.iam.gserviceaccount.com"
    assert claims["payload"] == {"loyaltyObjects": [{"id": object_id, "classId": class_id}]}

    before = len(google.calls())
    assert api.post(f"/members/{member['id']}/earn", {"points": 40}).status_code == 201
    sweep(app)
    patches = google.calls("PATCH", "loyaltyObject")[-1:]
    assert patches and patches[0].body["loyaltyPoints"]["balance"] == {"int": member["points"] + 40}
    assert google.resources["loyaltyObject"][object_id]["loyaltyPoints"]["balance"] == {
        "int": member["points"] + 40}
    assert len(google.calls()) == before + 1
    assert google.schema_errors == []


def test_design_change_is_one_class_patch(app: Flask, api: Api, program: dict[str, Any],
                                          google: GoogleStandIn) -> None:
    for i in range(5):
        api.post(f"/programs/{program['id']}/members", {"email": f"m{i}@example.test"})
    sweep(app)
    assert len(google.resources["loyaltyObject"]) == 5
    before = len(google.calls())
    assert api.patch(f"/programs/{program['id']}", {"background_color": "#112233",
                                                    "terms": "New terms."}).status_code == 200
    sweep(app)
    new = google.calls()[before:]
    assert [(r.method, r.path.split("/")[3]) for r in new] == [("PATCH", "loyaltyClass")]
    assert new[0].body["hexBackgroundColor"] == "#112233"
    assert new[0].body["reviewStatus"] == "UNDER_REVIEW"
    with app.app_context():
        versions = db.session.execute(select(GoogleObject.delivered_version)).scalars().all()
    assert versions and min(versions) >= 2  # delivered without a call: nothing changed


def test_google_failures_never_fail_the_till_and_updates_land_later(
        app: Flask, api: Api, program: dict[str, Any], google: GoogleStandIn) -> None:
    member = api.post(f"/programs/{program['id']}/members",
                      {"email": "ann@example.test"}).get_json()
    sweep(app)
    google.fail_next(500)
    assert api.post(f"/members/{member['id']}/earn", {"points": 7}).status_code == 201
    sweep(app)
    object_id = f"{ISSUER}.{member['serial_number']}"
    assert google.resources["loyaltyObject"][object_id]["loyaltyPoints"]["balance"] == {
        "int": member["points"]}
    with app.app_context():
        row = db.session.scalar(select(GoogleObject))
        assert (row.status, row.attempts) == (500, 1)
        row.next_attempt_at = None  # the back-off has passed
        db.session.commit()
    sweep(app)
    assert google.resources["loyaltyObject"][object_id]["loyaltyPoints"]["balance"] == {
        "int": member["points"] + 7}


def test_object_not_yet_at_google_gets_a_minimal_object_in_the_jwt(
        app: Flask, api: Api, program: dict[str, Any], google: GoogleStandIn,
        key_file: tuple[Path, Any]) -> None:
    api.post(f"/programs/{program['id']}/members", {"email": "first@example.test"})
    sweep(app)  # the class is inserted
    member = api.post(f"/programs/{program['id']}/members",
                      {"email": "ann@example.test"}).get_json()
    google.fail_next(503, count=5)
    sweep(app)  # Google is failing: the object is not inserted yet
    resp = api.client.get(urlsplit(member["links"]["google"]).path)
    assert resp.status_code == 303
    objects = decode_save_link(resp.headers["Location"], key_file[1])["payload"]["loyaltyObjects"]
    assert objects[0]["barcode"]["value"] == member["serial_number"]
    assert objects[0]["state"] == "ACTIVE"


def test_google_off_means_no_link(make_app: Any, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO):
        off = make_app()
    assert any("Google Wallet is off" in r.getMessage() for r in caplog.records)
    client = off.test_client()
    from tests.conftest import new_api_key

    api = Api(client, new_api_key(off))
    program = api.post("/programs", {"name": "Cafe", "template": "cafe"}).get_json()
    member = api.post(f"/programs/{program['id']}/members", {"email": "a@example.test"})
    assert "google" not in member.get_json()["links"]
    assert client.get(f"/g/{'x' * 32}").status_code == 404


def test_bad_key_file_is_a_start_up_error(tmp_path: Path, cert_paths: dict[str, Path]) -> None:
    bad = tmp_path / "sa.json"
    bad.write_text("{}")
    config = app_config(tmp_path, cert_paths, f"sqlite:///{tmp_path / 'x.db'}",
                        GOOGLE_SERVICE_ACCOUNT_FILE=str(bad), GOOGLE_ISSUER_ID=ISSUER)
    with pytest.raises(GoogleConfigError, match="not a service account"):
        create_app(config)


def test_unreachable_google_does_not_stop_start_up(tmp_path: Path, cert_paths: dict[str, Path],
                                                   key_file: tuple[Path, Any]) -> None:
    config = app_config(tmp_path, cert_paths, f"sqlite:///{tmp_path / 'x.db'}",
                        GOOGLE_SERVICE_ACCOUNT_FILE=str(key_file[0]), GOOGLE_ISSUER_ID=ISSUER,
                        GOOGLE_API_URL="http://127.0.0.1:9/walletobjects/v1")
    assert create_app(config).extensions["walletpass.google"] is not None


def test_milestones_notify_within_google_budget(app: Flask, api: Api, program: dict[str, Any],
                                                google: GoogleStandIn) -> None:
    from tests.test_loyalty import add_tiers

    add_tiers(api, program)
    member = api.post(f"/programs/{program['id']}/members",
                      {"email": "ann@example.test"}).get_json()
    sweep(app)
    object_id = f"{ISSUER}.{member['serial_number']}"
    assert google.calls("POST", "loyaltyObject")[-1].path.endswith("loyaltyObject")  # insert
    api.post(f"/members/{member['id']}/earn", {"points": 3})  # no milestone: silent
    sweep(app)
    assert "messages" not in google.resources["loyaltyObject"][object_id]
    api.post(f"/members/{member['id']}/earn", {"points": 150})  # Silver: tier up
    sweep(app)
    stored = google.resources["loyaltyObject"][object_id]
    assert [(m["body"], m["messageType"]) for m in stored["messages"]] == [
        ("Your tier is now Silver", "TEXT_AND_NOTIFY")]
    th = {t["language"]: t["value"] for t in stored["messages"][0]["localizedBody"][
        "translatedValues"]}
    assert th["th"] == "ระดับสมาชิกของคุณตอนนี้คือ Silver"
    assert stored["heroImage"]["sourceUri"]["uri"].startswith(
        f"https://wallet.example.test/google/hero/{program['id']}/c0c0c0-")
    # Google refuses the next notification for quota: it goes out as a plain message.
    google.fail_path("/addMessage", 403, "quotaExceeded")
    api.post(f"/members/{member['id']}/earn", {"points": 500})  # Gold
    sweep(app)
    stored = google.resources["loyaltyObject"][object_id]
    assert [(m["body"], m["messageType"]) for m in stored["messages"]][-1] == (
        "Your tier is now Gold", "TEXT")
    assert google.schema_errors == []


def test_delivery_state_and_stale_objects(app: Flask, api: Api, program: dict[str, Any],
                                          google: GoogleStandIn) -> None:
    from app.models import Member
    from app.wallet.google.saves import google_card, stale_google_objects

    member = api.post(f"/programs/{program['id']}/members",
                      {"email": "ann@example.test"}).get_json()
    sweep(app)
    google.fail_next(503, count=3)
    api.post(f"/members/{member['id']}/earn", {"points": 5})
    sweep(app)
    with app.app_context():
        row = db.session.get(Member, member["id"])
        card = google_card(row)
        assert card is not None
        assert (card["inserted"], card["up_to_date"], card["status"]) == (True, False, 503)
        # pass_updated_at may be up to a second ahead (it only moves forward): look past it
        stale = stale_google_objects(program["id"], -1, 10)
        assert [(m["id"], m["channel"]) for m in stale] == [(member["id"], "google")]
        assert stale_google_objects(program["id"], 60, 10) == []
    answer = api.get(f"/members/{member['id']}/devices").get_json()
    assert answer["devices"] == []  # no iPhone: the Google object is the member's only card
    assert (answer["google"]["status"], answer["google"]["up_to_date"]) == (503, False)


def test_images_the_class_and_object_point_to_are_served(app: Flask, api: Api,
                                                         program: dict[str, Any],
                                                         google: GoogleStandIn) -> None:
    import io

    from PIL import Image

    from tests.test_loyalty import add_tiers

    add_tiers(api, program)
    member = api.post(f"/programs/{program['id']}/members", {"email": "ann@example.test"})
    api.post(f"/members/{member.get_json()['id']}/earn", {"points": 150})  # Silver
    sweep(app)
    cls = next(iter(google.resources["loyaltyClass"].values()))
    obj = next(iter(google.resources["loyaltyObject"].values()))
    for uri in (cls["programLogo"]["sourceUri"]["uri"], cls["heroImage"]["sourceUri"]["uri"],
                obj["heroImage"]["sourceUri"]["uri"]):
        resp = api.client.get(urlsplit(uri).path)
        assert resp.status_code == 200 and resp.mimetype == "image/png", uri
    hero = Image.open(io.BytesIO(api.client.get(
        urlsplit(obj["heroImage"]["sourceUri"]["uri"]).path).data))
    assert hero.size == (1032, 336)
    assert api.client.get(f"/google/hero/{program['id']}/c0c0c0-nottheart.png"
                          ).status_code == 404


# Design changes and Google objects: a change only the class shows costs no object call
# and builds no object body; a change an object shows reaches every object exactly once.

CLASS_ONLY_CHANGES: dict[str, Any] = {
    "name": "Bean There Club", "organization_name": "Bean There Co.",
    "description": "Cafe card", "logo_text": "BEAN", "background_color": "#112233",
    "foreground_color": "#fefefe", "label_color": "#abcdef", "back_text": "Open 7-22.",
    "terms": "Points have no cash value."}


def ok(resp: Any, status: int = 201) -> Any:
    """The JSON of an answer that must have this status."""
    assert resp.status_code == status, resp.get_json()
    return resp.get_json()


def seed(api: Api, program: dict[str, Any], count: int = 4) -> list[dict[str, Any]]:
    """Members with varied cards (a tiered one with perks and colour, an affordable and a
    next reward, points expiring), every object at Google."""
    pid = program["id"]
    ok(api.patch(f"/programs/{pid}/rules", {"expiry_days": 30}), 200)
    ok(api.post(f"/programs/{pid}/tiers", {"name": "Gold", "threshold": "100",
                                           "perks": "Free refills",
                                           "background_color": "#C0C0C0"}))
    ok(api.post(f"/programs/{pid}/rewards", {"name": "Cake", "kind": "free_item",
                                             "points_cost": 50}))
    members = [ok(api.post(f"/programs/{pid}/members", {"email": f"m{i}@example.test",
                                                        "name": f"M {i}"}))
               for i in range(count)]
    for i, member in enumerate(members):
        ok(api.post(f"/members/{member['id']}/earn", {"points": 10 + 60 * i}))
    return members


def bodies(app: Flask) -> dict[int, dict[str, Any]]:
    """Every member's object body as the Google channel builds it now."""
    with app.app_context():
        out = {}
        for member in db.session.scalars(select(Member).order_by(Member.id)):
            out[member.id] = mapping.loyalty_object(
                member.program, card_content(load_snapshot(member)), issuer_id=ISSUER,
                serial_number=member.serial_number, base_url="https://wallet.example.test")
        return out


def pending(app: Flask) -> int:
    """Objects the Google channel would have to look at (pass newer than delivered)."""
    with app.app_context():
        return len(db.session.scalars(select(GoogleObject.id).join(
            Member, Member.id == GoogleObject.member_id).where(
            Member.pass_version > GoogleObject.delivered_version)).all())


def key(app: Flask, pid: int) -> str:
    """The program's object design key now."""
    with app.app_context():
        return object_design_key(db.session.get(Program, pid))


def test_a_class_only_change_needs_no_object_call_and_no_body(
        app: Flask, api: Api, program: dict[str, Any], google: GoogleStandIn) -> None:
    seed(api, program)
    sweep(app)
    assert pending(app) == 0 and len(google.resources["loyaltyObject"]) == 4
    before, calls = bodies(app), len(google.calls())
    ok(api.patch(f"/programs/{program['id']}", CLASS_ONLY_CHANGES), 200)
    ok(api.post(f"/programs/{program['id']}/locations",
                {"name": "Main St", "latitude": 13.75, "longitude": 100.5}))
    assert pending(app) == 0  # marked delivered in the change itself: no body to build
    sweep(app)
    new = google.calls()[calls:]
    assert {(r.method, r.path.split("/")[3]) for r in new} == {("PATCH", "loyaltyClass")}
    assert new[-1].body["programName"] == CLASS_ONLY_CHANGES["name"]
    assert bodies(app) == before


def test_an_object_level_change_reaches_every_object_once(
        app: Flask, api: Api, program: dict[str, Any], google: GoogleStandIn) -> None:
    members = seed(api, program)
    sweep(app)
    calls = len(google.calls("PATCH", "loyaltyObject"))
    ok(api.patch(f"/programs/{program['id']}", {"points_label": "Beans"}), 200)
    assert pending(app) == len(members)
    sweep(app)
    sweep(app)
    new = google.calls("PATCH", "loyaltyObject")[calls:]
    assert sorted(r.body["id"] for r in new) == sorted(
        f"{ISSUER}.{m['serial_number']}" for m in members)
    assert {r.body["loyaltyPoints"]["label"] for r in new} == {"Beans"}
    assert pending(app) == 0


def test_an_earn_around_a_class_only_change_still_reaches_its_object(
        app: Flask, api: Api, program: dict[str, Any], google: GoogleStandIn) -> None:
    members = seed(api, program)
    sweep(app)
    first, second = members[0], members[1]
    ok(api.post(f"/members/{first['id']}/earn", {"points": 7}))  # not yet at Google
    ok(api.patch(f"/programs/{program['id']}", {"background_color": "#445566"}), 200)
    ok(api.post(f"/members/{second['id']}/earn", {"points": 9}))  # after the change
    assert pending(app) == 2
    calls = len(google.calls("PATCH", "loyaltyObject"))
    sweep(app)
    objects = google.calls("PATCH", "loyaltyObject")[calls:]
    assert sorted(r.body["id"] for r in objects) == sorted(
        f"{ISSUER}.{m['serial_number']}" for m in (first, second))
    stored = google.resources["loyaltyObject"]
    assert stored[f"{ISSUER}.{first['serial_number']}"]["loyaltyPoints"]["balance"] == {
        "int": first["points"] + 10 + 7}
    assert stored[f"{ISSUER}.{second['serial_number']}"]["loyaltyPoints"]["balance"] == {
        "int": second["points"] + 70 + 9}
    assert pending(app) == 0


def test_each_class_only_column_leaves_every_object_body_and_the_key(
        app: Flask, api: Api, program: dict[str, Any]) -> None:
    """The list of class-only columns is right: changing one changes no object body."""
    seed(api, program)
    for column in sorted(CLASS_ONLY - {"design_version"}):
        before, key_before = bodies(app), key(app, program["id"])
        ok(api.patch(f"/programs/{program['id']}", {column: CLASS_ONLY_CHANGES[column]}), 200)
        assert bodies(app) == before, column
        assert key(app, program["id"]) == key_before, column


def test_the_key_follows_what_objects_show(app: Flask, api: Api,
                                           program: dict[str, Any]) -> None:
    """Each input an object shows changes the key: design columns, rewards, tiers, rules."""
    seed(api, program, count=1)
    pid, keys = program["id"], [key(app, program["id"])]
    for change in ({"points_label": "Beans"}, {"barcode_format": "pdf417"},
                   {"language": "th"}, {"translations": {"th": {"Tier": "ระดับสมาชิก"}}}):
        ok(api.patch(f"/programs/{pid}", change), 200)
        keys.append(key(app, pid))
    ok(api.post(f"/programs/{pid}/rewards", {"name": "Mug", "kind": "free_item",
                                             "points_cost": 500}))
    keys.append(key(app, pid))
    ok(api.post(f"/programs/{pid}/tiers", {"name": "Platinum", "threshold": "900"}))
    keys.append(key(app, pid))
    ok(api.patch(f"/programs/{pid}/rules", {"expiry_days": 60}), 200)
    keys.append(key(app, pid))
    assert len(set(keys)) == len(keys)
