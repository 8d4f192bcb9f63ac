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
from app.models import GoogleObject
from app.wallet.google.issuer import GoogleConfigError
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
