"""The dashboard in a real headless Chromium (Debian's `chromium`, driven by Playwright)
against the app served on loopback: from the first login to a published card, API keys,
and a cashier refused the designer. Screenshots (desktop 1280x800, phone 390x844) are
kept in tests/artifacts/dashboard/."""

from __future__ import annotations

import json
import re
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import Browser, Page, expect, sync_playwright
from werkzeug.serving import make_server

from app.extensions import db
from app.models import Member
from tests.dashboard_helpers import PASSWORD, link_in, mails, new_owner
from tests.net import free_port

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]
SHOTS = Path(__file__).resolve().parent / "artifacts" / "dashboard"
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def served(make_app: Any) -> Iterator[tuple[Flask, str]]:
    """The app served by a real HTTP server on loopback, its BASE_URL pointing there."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    app = make_app(BASE_URL=base)
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield app, base
    finally:
        server.shutdown()
        thread.join(timeout=10)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Headless Chromium with a fresh profile, offline from the world (loopback only)."""
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield chromium
        chromium.close()


def shot(page: Page, name: str, database: str, full: bool = True) -> Path:
    """Save a screenshot of the page (only the SQLite leg keeps them, the same pages); a
    page with sticky parts is shot as the window shows it, from the top."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    if database == "sqlite":
        if not full:
            page.evaluate("window.scrollTo(0, 0)")
        page.screenshot(path=str(path), full_page=full)
    return path


def api(base: str, key: str, method: str, path: str, body: Any = None) -> tuple[int, Any]:
    """Call the JSON API over HTTP; (status, body)."""
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(base + "/api/v1" + path, data=data, method=method,
                                     headers={"Authorization": f"Bearer {key}",
                                              "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status, json.loads(answer.read() or b"null")
    except urllib.error.HTTPError as exc:
        return exc.code, None


def log_in(page: Page, base: str, email: str = "owner@example.test",
           password: str = PASSWORD) -> None:
    """Log in through the form."""
    page.goto(base + "/")
    expect(page).to_have_url(base + "/login?next=/")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Welcome")).to_be_visible()


def test_first_login_to_published_card(served: tuple[Flask, str], browser: Browser,
                                       database: str) -> None:
    app, base = served
    key = new_owner(app)
    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    page.goto(base + "/")
    shot(page, "desktop-01-login", database)
    log_in(page, base)
    shot(page, "desktop-02-home-before-first-card", database)

    page.get_by_role("link", name="Open the card designer").click()
    page.locator("label.template-choice", has_text="Cafe").click()
    page.get_by_label("Card name").fill("Bean There Rewards")
    shot(page, "desktop-03-templates", database)
    page.get_by_role("button", name="Create the card").click()
    expect(page).to_have_url(re.compile(r".*/design/\d+$"))
    program_id = int(page.url.rstrip("/").rsplit("/", 1)[1])
    front = page.locator('[data-lang="en"] [data-preview="apple-front"]')
    expect(front).to_contain_text("Bean There")
    shot(page, "desktop-04-designer", database, full=False)

    status, member = api(base, key, "POST", f"/programs/{program_id}/members",
                         {"email": "ann@example.test", "name": "Ann Lee"})
    assert status == 201
    with app.app_context():
        before = db.session.get(Member, member["id"]).pass_version

    page.locator("#f-background_color").fill("#0A5C36")  # the preview follows as you type
    expect(front).to_have_attribute("style", re.compile("#0A5C36"))
    page.get_by_label("Points label", exact=True).fill("Stars")
    expect(front.locator(".apple-primary .lbl")).to_have_text("Stars")
    page.locator("#f-foreground_color").fill("#1E6B45")  # hard to read on green
    check = page.locator('#checks [data-check="foreground_color"]')
    expect(check).to_contain_text("Text colour: low contrast")
    shot(page, "desktop-05-design-check", database, full=False)
    page.locator("#preview").screenshot(path=str(SHOTS / "desktop-05b-preview.png")) \
        if database == "sqlite" else None
    page.locator("#f-foreground_color").fill("#FFFFFF")
    expect(check).to_have_count(0)
    page.locator("input[data-lang-check][value=th]").check()
    page.locator('[data-lang-tab="th"]').click()
    expect(page.locator('[data-lang="th"] [data-preview="apple-front"]')).to_be_visible()
    shot(page, "desktop-06-preview-thai", database, full=False)

    page.get_by_role("button", name="Review and publish").click()
    expect(page.get_by_role("heading", name="Publish the new design")).to_be_visible()
    shot(page, "desktop-07-review", database)
    page.get_by_role("button", name="Publish now").click()
    expect(page).to_have_url(f"{base}/design/{program_id}/progress")
    shot(page, "desktop-08-progress", database)
    with app.app_context():
        assert db.session.get(Member, member["id"]).pass_version == before + 1
    status, program = api(base, key, "GET", f"/programs/{program_id}")
    assert program["background_color"] == "#0A5C36" and program["points_label"] == "Stars"

    phone = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True,
                                storage_state=context.storage_state())
    small = phone.new_page()
    for path, name in (("/", "phone-02-home"), (f"/design/{program_id}", "phone-04-designer"),
                       ("/status", "phone-09-status")):
        small.goto(base + path)
        shot(small, name, database, full="designer" not in name)
        width = small.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"], f"{path} scrolls sideways on a phone"
    logged_out = browser.new_context(viewport=PHONE, is_mobile=True).new_page()
    logged_out.goto(base + "/login")
    shot(logged_out, "phone-01-login", database)
    phone.close()
    context.close()


def test_api_keys_and_a_cashier_refused_the_designer(served: tuple[Flask, str],
                                                     browser: Browser, database: str) -> None:
    app, base = served
    new_owner(app)
    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    page.on("dialog", lambda dialog: dialog.accept())
    log_in(page, base)

    page.get_by_role("link", name="API keys").click()
    page.get_by_label("Name").fill("Front counter till")
    page.get_by_role("button", name="Create key").click()
    secret = page.locator("#new-key").inner_text()
    shot(page, "desktop-10-api-key-created", database)
    assert api(base, secret, "GET", "/programs")[0] == 200
    page.goto(base + "/settings/api-keys")
    assert secret not in page.content()  # shown once
    row = page.locator("tr", has_text="Front counter till")
    row.get_by_role("button", name="Revoke").click()
    expect(page.locator("tr", has_text="Front counter till")).to_contain_text("revoked")
    assert api(base, secret, "GET", "/programs")[0] == 401

    page.get_by_role("link", name="Staff").click()
    page.get_by_label("E-mail").fill("cashier@example.test")
    page.get_by_label("Role").select_option("cashier")
    page.get_by_role("button", name="Send invitation").click()
    expect(page.get_by_role("status")).to_contain_text("cashier@example.test")
    shot(page, "desktop-11-staff", database)
    invitation = link_in(mails(app)[-1], base)

    cashier = browser.new_context(viewport=PHONE, is_mobile=True).new_page()
    cashier.goto(base + invitation)
    cashier.get_by_label("New password").fill("cashier password 1")
    cashier.get_by_role("button", name="Continue").click()
    expect(cashier.get_by_role("heading", name="Welcome")).to_be_visible()
    assert cashier.get_by_role("link", name="Card designer").count() == 0
    answer = cashier.goto(base + "/design")
    assert answer is not None and answer.status == 403
    expect(cashier.get_by_role("heading", name="Not allowed")).to_be_visible()
    shot(cashier, "phone-12-cashier-refused", database)
    context.close()
