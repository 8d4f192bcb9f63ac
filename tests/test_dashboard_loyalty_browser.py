"""The designer's tiers and rewards pages in a real headless Chromium: an owner adds a gold
tier and a reward from the dashboard, with the keyboard, sees a refused value explained next
to its field, and sees both on the card preview; the same pages on a phone-sized window;
an uploaded strip shown cropped as the card will show it before it is saved. Screenshots
in tests/artifacts/dashboard/."""

from __future__ import annotations

import re
from pathlib import Path

from flask import Flask
from PIL import Image, ImageDraw
from playwright.sync_api import Browser, expect

from app.extensions import db
from tests.dashboard_helpers import new_owner
from tests.test_dashboard_browser import (  # noqa: F401  (fixtures)
    DESKTOP,
    PHONE,
    SHOTS,
    api,
    browser,
    log_in,
    served,
    shot,
)


def test_an_owner_adds_a_tier_and_a_reward_and_sees_them_on_the_card(
        served: tuple[Flask, str], browser: Browser, database: str) -> None:  # noqa: F811
    app, base = served
    key = new_owner(app)
    status, program = api(base, key, "POST", "/programs",
                          {"name": "Bean There Rewards", "template": "cafe"})
    assert status == 201
    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    log_in(page, base)
    page.goto(f"{base}/design/{program['id']}")
    page.get_by_role("link", name="Tiers", exact=True).click()
    expect(page.get_by_role("heading", name="Add a tier")).to_be_visible()

    page.get_by_label("Tier name").fill("Gold")
    page.get_by_label("Threshold").fill("abc")
    page.get_by_label("Threshold").press("Enter")  # the keyboard submits the form
    expect(page.locator("#e-threshold")).to_have_text('Must be a number such as "12.50".')
    expect(page.get_by_label("Threshold")).to_have_attribute("aria-invalid", "true")
    page.get_by_label("Threshold").fill("100")
    page.get_by_label("Points multiplier").fill("1.5")
    page.get_by_label("Perks").fill("Free upsize on every drink")
    page.locator("#f-background_color").fill("#B8860B")
    page.get_by_role("button", name="Add a tier").click()
    expect(page.get_by_role("status")).to_contain_text("Added")
    expect(page.locator("[data-items=tiers]")).to_contain_text("Gold")
    google = page.locator('[data-preview="google"]')
    expect(google).to_contain_text("Gold")  # the sample member (120 points) reaches it
    expect(google).to_contain_text("Free upsize on every drink")
    expect(google).to_have_attribute("style", re.compile("#B8860B", re.I))

    page.get_by_role("link", name="Rewards", exact=True).click()
    page.get_by_label("Reward name").fill("Free latte")
    page.get_by_label("Kind").select_option("free_item")
    page.get_by_label("Points cost").fill("100")
    page.get_by_role("button", name="Add a reward").click()
    expect(page.locator("[data-items=rewards]")).to_contain_text("Free latte")
    expect(page.locator('[data-preview="apple-front"]')).to_contain_text("Free latte")
    shot(page, "desktop-20-rewards", database, full=False)

    page.get_by_role("link", name="Tiers", exact=True).click()
    shot(page, "desktop-21-tiers", database, full=False)
    page.get_by_role("link", name="Design", exact=True).click()
    front = page.locator('[data-lang="en"] [data-preview="apple-front"]')
    expect(front).to_contain_text("Gold")
    expect(front).to_contain_text("Free latte")
    status, listed = api(base, key, "GET", f"/programs/{program['id']}/tiers")
    assert status == 200 and [t["name"] for t in listed["tiers"]] == ["Gold"]
    context.close()

    phone = browser.new_context(viewport=PHONE)
    small = phone.new_page()
    log_in(small, base)
    small.goto(f"{base}/design/{program['id']}/rules")
    small.get_by_label("Value of one point").fill("0.25")
    small.get_by_role("button", name="Save the rules").click()
    expect(small.get_by_role("status")).to_contain_text("Saved")
    expect(small.get_by_label("Value of one point")).to_have_value("0.25")
    shot(small, "phone-21-rules", database, full=False)
    small.goto(f"{base}/design/{program['id']}/tiers")
    width = small.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], width  # nothing wider than the phone
    shot(small, "phone-20-tiers", database)
    phone.close()


def test_an_image_is_previewed_fitted_before_it_is_saved(
        served: tuple[Flask, str], browser: Browser, database: str,  # noqa: F811
        tmp_path: Path) -> None:
    app, base = served
    key = new_owner(app)
    status, program = api(base, key, "POST", "/programs",
                          {"name": "Bean There Rewards", "template": "cafe"})
    assert status == 201
    wide = tmp_path / "wide.png"
    picture = Image.new("RGB", (2250, 369), (22, 92, 64))
    draw = ImageDraw.Draw(picture)
    for x in range(0, 2250, 150):  # stripes, so the crop can be seen
        draw.rectangle((x, 0, x + 60, 369), fill=(236, 200, 120))
    draw.ellipse((950, 60, 1300, 310), fill=(250, 245, 235))
    picture.save(wide, "PNG")
    page = browser.new_context(viewport=DESKTOP).new_page()
    log_in(page, base)
    page.goto(f"{base}/design/{program['id']}")
    thumb = page.locator("[data-thumb=strip]")
    before = thumb.get_attribute("src")
    page.get_by_label("Strip picture").set_input_files(str(wide))
    check = page.locator("form[data-image-kind=strip] [data-image-check]")
    expect(check).to_be_visible()
    expect(check).to_contain_text("2250×369 pixels")
    expect(check).to_contain_text("The left and right edges are cut off")
    expect(page.get_by_role("button", name="Use this image")).to_be_focused()
    kept = page.locator("form[data-image-kind=strip] [data-crop-window]").bounding_box()
    whole = page.locator("form[data-image-kind=strip] [data-image-whole]").bounding_box()
    assert kept is not None and whole is not None
    assert abs(kept["width"] - whole["width"] / 2) < 3  # 1125 of 2250 pixels wide are kept
    assert abs(kept["x"] - (whole["x"] + whole["width"] / 4)) < 3  # around the centre
    if database == "sqlite":  # the images card, below the sticky top bar
        SHOTS.mkdir(parents=True, exist_ok=True)
        images = page.locator("section[aria-labelledby=s-images]")
        images.evaluate("el => el.scrollIntoView({block: 'end'})")
        area = images.bounding_box()
        assert area is not None
        page.screenshot(path=str(SHOTS / "desktop-22-strip-before-saving.png"), clip=area)
    assert thumb.get_attribute("src") == before  # nothing saved yet
    page.get_by_role("button", name="Use this image").click()
    expect(check).to_be_hidden()
    expect(thumb).not_to_have_attribute("src", before or "")
    with app.app_context():
        from app.models import Program

        saved = db.session.get(Program, program["id"])
        assert saved is not None and "strip" in (saved.draft or {}).get("images", {})


def test_a_non_image_is_refused_at_once_and_a_small_logo_is_warned_about(
        served: tuple[Flask, str], browser: Browser, database: str,  # noqa: F811
        tmp_path: Path) -> None:
    app, base = served
    key = new_owner(app)
    status, program = api(base, key, "POST", "/programs",
                          {"name": "Bean There Rewards", "template": "cafe"})
    assert status == 201
    pdf = tmp_path / "menu.pdf"
    pdf.write_bytes(b"%PDF-1.4 fake")
    tiny = tmp_path / "tiny.png"
    Image.new("RGB", (40, 40), (22, 92, 64)).save(tiny, "PNG")
    page = browser.new_context(viewport=DESKTOP).new_page()
    log_in(page, base)
    page.goto(f"{base}/design/{program['id']}")
    check = page.locator("form[data-image-kind=logo] [data-image-check]")
    page.locator("#f-logo").set_input_files(str(pdf))
    expect(page.locator("#e-logo")).to_be_visible()
    expect(page.locator("#e-logo")).to_contain_text("not a PNG or JPEG image")
    expect(check).to_be_hidden()  # no broken preview, no "Use this image"
    page.locator("#f-logo").set_input_files(str(tiny))
    expect(check).to_be_visible()
    expect(page.locator("#e-logo")).to_be_hidden()
    expect(check).to_contain_text("40×40 pixels")
    expect(check).to_contain_text("smaller than the recommended 480×150 pixels")
