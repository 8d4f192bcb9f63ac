"""The customers' pages in a real headless Chromium on a phone-sized window, against the app
served on loopback: the signup form posts and lands on the card page, the web card's code
is visible, and screenshots are kept in tests/artifacts/ for people to look at."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import Page, sync_playwright
from werkzeug.serving import make_server

from tests.conftest import Api, new_api_key
from tests.test_pages import IPHONE

ARTIFACTS = Path(__file__).parent / "artifacts"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def served(make_app: Any) -> Iterator[tuple[Flask, str]]:
    """The app behind a real threaded HTTP server on loopback, its BASE_URL that server."""
    holder: dict[str, Flask] = {}
    server = make_server("127.0.0.1", 0, lambda env, start: holder["app"](env, start),
                         threaded=True)
    base = f"http://127.0.0.1:{server.port}"
    holder["app"] = make_app(BASE_URL=base, EMBEDDED_WORKER=False)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield holder["app"], base
    finally:
        server.shutdown()
        thread.join(5)


@pytest.fixture
def phone(tmp_path: Path) -> Iterator[Page]:
    """A fresh headless Chromium profile with an iPhone-sized window."""
    with sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            str(tmp_path / "profile"), executable_path=CHROMIUM, args=CHROMIUM_ARGS,
            headless=True, viewport=PHONE, device_scale_factor=2, is_mobile=True,
            has_touch=True, user_agent=IPHONE, locale="th-TH")
        try:
            yield context.new_page()
        finally:
            context.close()


def shot(page: Page, name: str, database: str) -> Path:
    """Keep a full-page screenshot as a test artifact."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"pages-{name}-{database}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def setup_program(app: Flask) -> tuple[Api, dict[str, Any], dict[str, Any]]:
    """A Thai cafe with a store location, a reward and a Gold tier."""
    api = Api(app.test_client(), new_api_key(app))
    program = api.post("/programs", {"name": "บ้านกาแฟ Rewards", "template": "cafe",
                                     "organization_name": "Baan Coffee",
                                     "currency": "THB", "language": "th"}).get_json()
    pid = program["id"]
    api.patch(f"/programs/{pid}", {"signup_fields": {
        "name": "required", "phone": "optional", "birthday": "optional",
        "marketing_consent": "optional"}})
    shop = api.post(f"/programs/{pid}/locations", {
        "name": "สาขาสยามพารากอน", "latitude": 13.746, "longitude": 100.535}).get_json()
    api.post(f"/programs/{pid}/rewards", {"name": "ลาเต้ฟรี 1 แก้ว", "kind": "free_item",
                                          "points_cost": 100})
    api.post(f"/programs/{pid}/tiers", {"name": "Gold", "threshold": "50"})
    return api, program, shop


def test_signup_to_card_page_in_chromium(served: tuple[Flask, str], phone: Page,
                                         database: str) -> None:
    app, base = served
    api, program, shop = setup_program(app)
    phone.goto(f"{base}/join/{program['id']}?loc={shop['id']}")
    assert phone.locator("html").get_attribute("lang") == "th"  # from the browser's locale
    assert phone.get_by_text("สาขาสยามพารากอน").is_visible()
    shot(phone, "signup-th", database)
    phone.fill("#f-email", "bad-address")
    phone.fill("#f-name", "")
    phone.click("button[type=submit]")
    assert phone.locator("#e-email").is_visible() and phone.locator("#e-name").is_visible()
    shot(phone, "signup-errors-th", database)
    phone.fill("#f-name", "สมชาย ใจดี")
    phone.fill("#f-email", "somchai@example.test")
    phone.fill("#f-phone", "081 234 5678")
    phone.check("input[name=marketing_consent]")
    phone.click("button[type=submit]")
    phone.wait_for_url(f"{base}/cards/*")
    code = phone.locator("[data-testid=barcode]")
    assert code.is_visible()
    assert phone.evaluate("document.querySelector('[data-testid=barcode]').naturalWidth") > 0
    box = code.bounding_box()
    assert box is not None and box["width"] >= 150  # big enough to scan off the screen
    assert phone.locator("[data-testid=wallet-apple]").is_visible()
    assert phone.locator("[data-testid=wallet-google]").count() == 0
    card = phone.url
    member_id = _member_id(app, "somchai@example.test")
    assert api.post(f"/members/{member_id}/earn", {"points": 80}).status_code == 201
    phone.goto(card)
    assert phone.get_by_test_id("balance").inner_text() == "80"
    shot(phone, "card-th", database)
    phone.goto(card + "?lang=en")
    shot(phone, "card-en", database)
    phone.goto(f"{base}/join/{program['id']}?lang=zh-Hant")
    assert phone.get_by_role("button").inner_text() == "領取會員卡"
    shot(phone, "signup-zh-Hant", database)
    with app.app_context():
        from app.extensions import db
        from app.models import Member

        member = db.session.get(Member, member_id)
        assert member is not None and member.location_id == shop["id"]
        assert member.source == "poster" and member.phone == "+66812345678"


def _member_id(app: Flask, email: str) -> int:
    """A member's id by e-mail."""
    from sqlalchemy import select

    from app.extensions import db
    from app.models import Member

    with app.app_context():
        found = db.session.scalar(select(Member.id).where(Member.email == email))
        assert found is not None
        return int(found)
