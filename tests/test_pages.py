"""Pages for customers: the card page, the signup page, store locations and the posters'
location tags, on both databases through the real app."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import zxingcpp
from flask import Flask
from flask.testing import FlaskClient
from PIL import Image
from sqlalchemy import func, select

from app.api.posters import poster_spec
from app.distribution.posters import render_poster
from app.extensions import db
from app.i18n import gettext
from app.models import ConsentRecord, Member, OutboxEvent, Program, SignupAttempt
from tests.conftest import BASE_URL, Api
from tests.google_standin import service_account_info

LANGS = ("en", "th", "zh-Hant", "vi", "ms")
IPHONE = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 "
          "(KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1")
ANDROID = ("Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
           "Chrome/124.0 Mobile Safari/537.36")
DESKTOP = ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
           "Chrome/124.0 Safari/537.36")


@pytest.fixture
def google_app(make_app: Any, tmp_path: Path) -> Flask:
    """The app with Google Wallet configured (never called: the pages only link to it)."""
    info, _ = service_account_info("http://127.0.0.1:9/token")
    path = tmp_path / "sa.json"
    path.write_text(json.dumps(info))
    return make_app(GOOGLE_SERVICE_ACCOUNT_FILE=str(path), GOOGLE_ISSUER_ID="3388000000012345678")


def card_path(member: dict[str, Any]) -> str:
    """The card page's path from the member's links."""
    link = member["links"]["card"]
    assert link.startswith(BASE_URL + "/cards/")
    return link.removeprefix(BASE_URL)


def signup(client: FlaskClient, program_id: int, query: str = "", ip: str = "198.51.100.7",
           **form: str) -> Any:
    """Post the signup form from one client address."""
    return client.post(f"/join/{program_id}{query}", data=form,
                       environ_base={"REMOTE_ADDR": ip})


def decode(data_uri: str) -> str:
    """The text of a barcode drawn as a data: URI PNG (decoded by zxing-cpp)."""
    import base64

    png = base64.b64decode(data_uri.split(",", 1)[1])
    image = Image.open(io.BytesIO(png)).convert("L")
    image = image.resize((image.width * 4, image.height * 4), Image.Resampling.NEAREST)
    found = zxingcpp.read_barcode(image)
    assert found is not None
    return found.text


def delete(api: Api, path: str) -> Any:
    """DELETE /api/v1 + path with the merchant's key."""
    return api.client.delete("/api/v1" + path, headers=api.headers)


def barcode_src(html: str) -> str:
    """The src of the web card's barcode image."""
    match = re.search(r'data-testid="barcode" src="([^"]+)"', html)
    assert match, html
    return match.group(1)


# ---------------------------------------------------------------- links


def test_links_in_member_and_program_answers(api: Api, program: dict[str, Any],
                                             member: dict[str, Any]) -> None:
    assert member["links"]["card"] == f"{BASE_URL}/cards/" + member["links"]["apple"].split(
        "/")[-2]
    assert program["links"] == {
        "signup": f"{BASE_URL}/join/{program['id']}",
        "poster_pdf": f"{BASE_URL}/api/v1/programs/{program['id']}/poster.pdf",
        "poster_png": f"{BASE_URL}/api/v1/programs/{program['id']}/poster.png"}
    assert program["signup_fields"] == {"name": "optional", "marketing_consent": "optional"}


# ---------------------------------------------------------------- store locations


def test_store_locations_resource(app: Flask, api: Api, other_api: Api,
                                  program: dict[str, Any]) -> None:
    pid = program["id"]
    base = f"/programs/{pid}/locations"
    resp = api.post(base, {"name": "Silom", "address": "1 Silom Rd", "latitude": 13.7291,
                           "longitude": 100.5361, "timezone": "Asia/Bangkok",
                           "relevant_text": "Bean There Silom is near"})
    assert resp.status_code == 201, resp.get_json()
    shop = resp.get_json()
    assert shop["name"] == "Silom" and shop["timezone"] == "Asia/Bangkok"
    version = api.get(f"/programs/{pid}").get_json()["design_version"]
    assert version == program["design_version"] + 1  # the cards change
    assert api.get(base).get_json()["locations"] == [shop]
    changed = api.patch(f"{base}/{shop['id']}", {"name": "Silom Complex"}).get_json()
    assert changed["name"] == "Silom Complex" and changed["latitude"] == 13.7291
    assert api.get(f"/programs/{pid}").get_json()["locations"][0]["name"] == "Silom Complex"
    # tenant isolation: another merchant sees nothing, changes nothing
    assert other_api.get(base).status_code == 404
    assert other_api.get(f"{base}/{shop['id']}").status_code == 404
    assert other_api.patch(f"{base}/{shop['id']}", {"name": "x"}).status_code == 404
    assert delete(other_api, f"{base}/{shop['id']}").status_code == 404
    # bad input
    for bad in ({"name": "x", "latitude": 91, "longitude": 0},
                {"latitude": 1, "longitude": 1},
                {"name": "x", "latitude": 1, "longitude": 1, "timezone": "Mars/Base"}):
        assert api.post(base, bad).status_code == 422, bad
    assert delete(api, f"{base}/{shop['id']}").get_json() == {"id": shop["id"], "deleted": True}
    assert api.get(f"{base}/{shop['id']}").status_code == 404


def test_locations_reach_the_apple_pass_first_ten(api: Api, program: dict[str, Any],
                                                  member: dict[str, Any]) -> None:
    import zipfile

    for i in range(12):
        assert api.post(f"/programs/{program['id']}/locations", {
            "name": f"Shop {i}", "latitude": 13 + i / 100, "longitude": 100.5,
            "relevant_text": f"Shop {i} is near"}).status_code == 201
    body = api.client.get(member["links"]["apple"]).data
    data = json.loads(zipfile.ZipFile(io.BytesIO(body)).read("pass.json"))
    assert len(data["locations"]) == 10
    assert data["locations"][0] == {"latitude": 13.0, "longitude": 100.5,
                                    "relevantText": "Shop 0 is near"}


def test_legacy_locations_field_replaces_store_locations(api: Api,
                                                         program: dict[str, Any]) -> None:
    resp = api.patch(f"/programs/{program['id']}", {"locations": [
        {"latitude": 13.75, "longitude": 100.5, "relevant_text": "Hi!"}]})
    assert resp.status_code == 200
    rows = api.get(f"/programs/{program['id']}/locations").get_json()["locations"]
    assert [(r["name"], r["latitude"], r["relevant_text"]) for r in rows] == [
        ("Hi!", 13.75, "Hi!")]


# ---------------------------------------------------------------- the card page


@pytest.mark.parametrize("lang", LANGS)
def test_card_page_in_each_language(client: FlaskClient, api: Api, program: dict[str, Any],
                                    member: dict[str, Any], lang: str) -> None:
    resp = client.get(card_path(member), headers={"Accept-Language": lang,
                                                  "User-Agent": IPHONE})
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    assert f'<html lang="{lang}">' in html
    assert gettext(lang, 'Show this code at the till') in html
    assert gettext(lang, 'Add to Apple Wallet') in html
    assert resp.headers["Cache-Control"] == "private, no-store"
    assert "Bean There Rewards" in html and "Ann Lee" in html


def test_card_page_language_member_first(client: FlaskClient, api: Api,
                                         program: dict[str, Any]) -> None:
    member = api.post(f"/programs/{program['id']}/members",
                      {"email": "th@example.test", "language": "th"}).get_json()
    html = client.get(card_path(member), headers={"Accept-Language": "vi"}).get_data(True)
    assert '<html lang="th">' in html
    html = client.get(card_path(member) + "?lang=ms").get_data(True)
    assert '<html lang="ms">' in html


def test_card_page_buttons_per_phone(google_app: Flask) -> None:
    client = google_app.test_client()
    api = Api(client, __import__("tests.conftest", fromlist=["x"]).new_api_key(google_app))
    pid = api.post("/programs", {"name": "Bean", "template": "cafe"}).get_json()["id"]
    member = api.post(f"/programs/{pid}/members", {"email": "a@example.test"}).get_json()
    page = {agent: client.get(card_path(member), headers={"User-Agent": ua}).get_data(True)
            for agent, ua in (("ios", IPHONE), ("android", ANDROID), ("desktop", DESKTOP))}
    apple, google = member["links"]["apple"], member["links"]["google"]
    assert apple in page["ios"] and google not in page["ios"]
    assert google in page["android"] and apple not in page["android"]
    assert apple in page["desktop"] and google in page["desktop"]
    assert 'data-testid="page-qr"' in page["desktop"]
    assert 'data-testid="page-qr"' not in page["ios"]
    qr = re.search(r'data-testid="page-qr" src="([^"]+)"', page["desktop"])
    assert qr and decode(qr.group(1)) == member["links"]["card"]


def test_card_page_without_google_offers_apple_only(client: FlaskClient,
                                                    member: dict[str, Any]) -> None:
    html = client.get(card_path(member), headers={"User-Agent": DESKTOP}).get_data(True)
    assert member["links"]["apple"] in html and "/g/" not in html
    android = client.get(card_path(member), headers={"User-Agent": ANDROID}).get_data(True)
    assert 'data-testid="wallet-' not in android  # the web card is the Android card here
    assert 'data-testid="barcode"' in android


@pytest.mark.parametrize("fmt", ["qr", "pdf417", "aztec", "code128"])
def test_web_card_barcode_scans(client: FlaskClient, api: Api, program: dict[str, Any],
                                member: dict[str, Any], fmt: str) -> None:
    api.patch(f"/programs/{program['id']}", {"barcode_format": fmt})
    html = client.get(card_path(member)).get_data(True)
    assert f"code-{fmt}" in html
    assert decode(barcode_src(html)) == member["serial_number"]
    assert member["serial_number"][:12].upper() in html  # the short code under it


def test_card_page_shows_what_the_wallet_shows(client: FlaskClient, api: Api,
                                               program: dict[str, Any],
                                               member: dict[str, Any]) -> None:
    pid = program["id"]
    for path, body in ((f"/programs/{pid}/rewards", {"name": "Free latte", "kind": "free_item",
                                                    "points_cost": 500}),
                       (f"/programs/{pid}/tiers", {"name": "Gold", "threshold": "100"}),
                       (f"/members/{member['id']}/earn", {"points": 120})):
        assert api.post(path, body).status_code == 201, body
    html = client.get(card_path(member)).get_data(True)
    assert '<span class="value" data-testid="balance">120</span>' in html
    assert "Gold" in html and "Free latte" in html and "Next reward" in html


def test_card_page_unknown_token_is_a_404_page(client: FlaskClient) -> None:
    resp = client.get("/cards/not-a-real-token-0000000000000000",
                      headers={"Accept-Language": "th"})
    assert resp.status_code == 404
    invalid = gettext("th", "This card link is not valid. Check the link in your e-mail.")
    assert invalid in resp.get_data(True)


def test_card_page_share_and_manifest(client: FlaskClient, member: dict[str, Any]) -> None:
    path = card_path(member)
    html = client.get(path).get_data(True)
    invite = f"{BASE_URL}/join/{member['program_id']}?ref={member['referral_code']}"
    assert "https://line.me/R/msg/text/?" in html and "https://wa.me/?text=" in html
    assert "sms:?&amp;body=" in html
    assert member["links"]["apple"].split("/")[-2] not in html.split("share-buttons")[1]
    assert invite.replace("&", "&amp;") in html or invite in html
    manifest = client.get(path + "/manifest.webmanifest")
    assert manifest.mimetype == "application/manifest+json"
    body = manifest.get_json(force=True)
    assert body["start_url"] == path and body["display"] == "standalone"
    icon = client.get(body["icons"][0]["src"].removeprefix(BASE_URL))
    assert icon.status_code == 200
    assert Image.open(io.BytesIO(icon.data)).size == (192, 192)
    logo = re.search(r'class="logo" src="([^"]+)"', html)
    assert logo and client.get(logo.group(1).removeprefix(BASE_URL)).status_code == 200


# ---------------------------------------------------------------- the signup page


@pytest.mark.parametrize("lang", LANGS)
def test_signup_page_in_each_language(client: FlaskClient, program: dict[str, Any],
                                      lang: str) -> None:
    resp = client.get(f"/join/{program['id']}", headers={"Accept-Language": f"{lang};q=0.9"})
    html = resp.get_data(True)
    assert resp.status_code == 200 and f'<html lang="{lang}">' in html
    assert gettext(lang, 'Get my card') in html and gettext(lang, 'E-mail') in html
    switched = client.get(f"/join/{program['id']}?lang=th").get_data(True)
    assert '<html lang="th">' in switched and "?lang=vi" in switched


def test_signup_lands_on_the_card_page_with_consent(app: Flask, client: FlaskClient,
                                                    api: Api, program: dict[str, Any]) -> None:
    pid = program["id"]
    api.patch(f"/programs/{pid}", {"currency": "THB", "signup_fields": {
        "name": "required", "phone": "optional", "birthday": "optional",
        "marketing_consent": "optional"}})
    resp = signup(client, pid, "?lang=th", email="Nok@Example.test", name="นก",
                  phone="081 234 5678", birthday="1990-02-03", marketing_consent="on", lang="th")
    assert resp.status_code == 303, resp.get_data(True)
    assert resp.headers["Location"].startswith(f"{BASE_URL}/cards/")
    card = client.get(resp.headers["Location"].removeprefix(BASE_URL))
    assert card.status_code == 200 and '<html lang="th">' in card.get_data(True)
    with app.app_context():
        member = db.session.scalar(select(Member).where(Member.email == "nok@example.test"))
        assert member is not None
        assert (member.phone, member.source, member.language, member.marketing_consent) == (
            "+66812345678", "link", "th", True)
        consent = db.session.scalar(select(ConsentRecord).where(
            ConsentRecord.member_id == member.id))
        assert consent is not None and consent.granted and consent.language == "th"
        assert consent.text == gettext(
            "th", "Send me news and offers from {organization} by e-mail. "
            "I can unsubscribe at any time.", organization=program["organization_name"])


def test_signups_counted_per_location(app: Flask, client: FlaskClient, api: Api,
                                      other_api: Api, program: dict[str, Any]) -> None:
    pid = program["id"]
    shop = api.post(f"/programs/{pid}/locations", {"name": "Siam", "latitude": 13.7,
                                                   "longitude": 100.5}).get_json()
    with app.app_context():
        spec = poster_spec(db.session.get(Program, pid), _row(shop["id"]))
    png = render_poster(spec, "png", "a5")
    found = zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))
    url = urlsplit(found[0].text)
    assert parse_qs(url.query) == {"loc": [str(shop["id"])]}
    page = client.get(url.path + "?" + url.query).get_data(True)
    assert "Siam" in page
    theirs = other_api.post("/programs", {"name": "O", "template": "cafe"}).get_json()
    foreign = other_api.post(f"/programs/{theirs['id']}/locations",
                             {"name": "F", "latitude": 1, "longitude": 1}).get_json()
    for i, query in enumerate([f"?{url.query}", f"?{url.query}", "", "?loc=999999",
                               f"?loc={foreign['id']}", "?loc=abc"]):
        assert signup(client, pid, query, email=f"c{i}@example.test").status_code == 303
    with app.app_context():
        rows = db.session.execute(select(Member.location_id, Member.source, func.count())
                                  .where(Member.program_id == pid)
                                  .group_by(Member.location_id, Member.source)).all()
    assert sorted(rows, key=str) == sorted([(shop["id"], "poster", 2), (None, "link", 4)],
                                           key=str)


def _row(location_id: int) -> Any:
    """A stored location row."""
    from app.models import StoreLocation

    return db.session.get(StoreLocation, location_id)


def test_second_signup_sends_the_link_and_creates_nothing(app: Flask, client: FlaskClient,
                                                          program: dict[str, Any]) -> None:
    pid = program["id"]
    assert signup(client, pid, email="ann@example.test").status_code == 303
    again = signup(client, pid, email="ANN@example.test ")
    fresh = signup(client, pid, "?lang=en", email="x@example.test", website="")
    assert fresh.status_code == 303
    assert again.status_code == 200
    text = again.get_data(True)
    assert "sent your card link to ann@example.test" in text
    assert "already" not in text.lower()
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Member).where(
            Member.email == "ann@example.test")) == 1
        events = db.session.scalars(select(OutboxEvent).where(
            OutboxEvent.event_type == "member.card_link_requested")).all()
        assert len(events) == 1
        assert events[0].payload["card_link"].startswith(f"{BASE_URL}/cards/")


def test_referral_code_in_the_url_is_honoured(app: Flask, client: FlaskClient,
                                              member: dict[str, Any]) -> None:
    pid = member["program_id"]
    page = client.get(f"/join/{pid}?ref={member['referral_code'].lower()}").get_data(True)
    assert gettext("en", "A friend invited you: you both get a bonus after your first "
                   "purchase.") in page
    assert signup(client, pid, f"?ref={member['referral_code']}",
                  email="friend@example.test").status_code == 303
    assert signup(client, pid, "?ref=NOSUCHCODE", email="f2@example.test").status_code == 303
    with app.app_context():
        friend = db.session.scalar(select(Member).where(Member.email == "friend@example.test"))
        other = db.session.scalar(select(Member).where(Member.email == "f2@example.test"))
        assert friend is not None and friend.referred_by_id == member["id"]
        assert other is not None and other.referred_by_id is None


@pytest.mark.parametrize("lang", LANGS)
def test_bad_input_is_answered_next_to_the_field(client: FlaskClient, api: Api,
                                                 program: dict[str, Any], lang: str) -> None:
    pid = program["id"]
    api.patch(f"/programs/{pid}", {"signup_fields": {"name": "required", "phone": "optional",
                                                     "birthday": "optional"}})
    resp = signup(client, pid, f"?lang={lang}", email="not-an-email",
                  name="<script>alert(1)</script>", phone="12", birthday="2999-01-01")
    assert resp.status_code == 422
    html = resp.get_data(True)
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html  # kept, escaped, in the field
    errors = dict(re.findall(r'data-field="(\w+)">([^<]+)<', html))
    assert errors["email"] == gettext(lang, 'Enter an e-mail address such as name@example.com.')
    assert set(errors) == {"email", "phone", "birthday"}
    empty = signup(client, pid, f"?lang={lang}", email="a@example.test").get_data(True)
    assert dict(re.findall(r'data-field="(\w+)">([^<]+)<', empty)) == {
        "name": gettext(lang, 'Please fill this in.')}


def test_hostile_posts(app: Flask, client: FlaskClient, program: dict[str, Any]) -> None:
    pid = program["id"]
    huge = signup(client, pid, email="a@example.test", name="x" * (10 * 1024 * 1024))
    assert huge.status_code == 413
    too_long = gettext("en", "What you sent is far too long. Please fill in the form again.")
    assert too_long in huge.get_data(True)
    trap = signup(client, pid, email="bot@example.test", website="http://spam.example")
    assert trap.status_code == 200  # the bot is told nothing
    long_name = signup(client, pid, email="b@example.test", name="y" * 1000)
    assert long_name.status_code == 422
    assert gettext("en", 'Enter your name (at most 200 characters).') in long_name.get_data(True)
    assert signup(client, 999999, email="c@example.test").status_code == 404
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Member)) == 0


def test_a_flood_from_one_address_is_held_off(app: Flask, client: FlaskClient,
                                              program: dict[str, Any]) -> None:
    pid = program["id"]
    codes = [signup(client, pid, "?lang=vi", email=f"f{i}@example.test").status_code
             for i in range(12)]
    assert codes == [303] * 10 + [429] * 2
    held = signup(client, pid, "?lang=vi", email="z@example.test")
    assert held.status_code == 429 and held.headers["Retry-After"] == "600"
    wait = gettext("vi", "Too many sign-ups from your network just now. "
                         "Please wait a few minutes and try again.")
    assert wait in held.get_data(True)
    other = signup(client, pid, email="y@example.test", ip="203.0.113.9")
    assert other.status_code == 303  # a real person elsewhere is not hurt
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Member)) == 11
        assert db.session.scalar(select(func.count()).select_from(SignupAttempt)) == 11


def test_signup_fields_setting_is_checked(api: Api, program: dict[str, Any]) -> None:
    for bad in ({"shoe_size": "optional"}, {"name": "maybe"},
                {"marketing_consent": "required"}, ["name"]):
        resp = api.patch(f"/programs/{program['id']}", {"signup_fields": bad})
        assert resp.status_code == 422, bad
    version = program["design_version"]
    ok = api.patch(f"/programs/{program['id']}", {"signup_fields": {"phone": "required"}})
    assert ok.get_json()["design_version"] == version  # no card changes


def test_without_google_the_signup_page_promises_only_apple_and_the_browser(
        client: FlaskClient, program: dict[str, Any]) -> None:
    page = client.get(f"/join/{program['id']}?lang=en").get_data(True)
    assert "Apple Wallet or right in your browser" in page
    assert "Google Wallet" not in page


def test_every_page_names_an_icon_that_answers(client: FlaskClient, member: dict[str, Any]
                                               ) -> None:
    """Browsers ask for an icon on every page: the dashboard's and the signup pages' is the
    service's own, a card page's is the merchant's home-screen icon."""
    wanted = {"/login": "image/svg+xml", card_path(member): "image/png"}
    for path, mimetype in wanted.items():
        html = client.get(path, follow_redirects=True).get_data(as_text=True)
        [icon] = re.findall(r'<link rel="icon" href="([^"]+)"', html)
        answer = client.get(urlsplit(icon).path)
        assert answer.status_code == 200 and answer.mimetype == mimetype, (path, icon)
