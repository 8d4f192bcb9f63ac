"""Dashboard part 2 in a real headless Chromium: an owner finds a member and adds points by
hand; a cashier on a phone-sized window serves a customer from the scanner with the code
typed in (earn, redeem, undo) and is refused analytics and the export. Screenshots in
tests/artifacts/dashboard/."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask
from playwright.sync_api import Browser, expect

from app.dashboard.accounts import add_membership, hash_password
from app.extensions import db
from app.models import Member, Merchant, User
from tests.dashboard_helpers import new_owner
from tests.test_dashboard_browser import (  # noqa: F401  (fixtures)
    DESKTOP,
    PHONE,
    api,
    browser,
    log_in,
    served,
    shot,
)
from tests.test_imports import run_imports

CASHIER = ("till@example.test", "till password 12")


def seed(app: Flask, base: str) -> tuple[int, dict[str, Any]]:
    """A cafe program with a reward, members, and a cashier account."""
    key = new_owner(app)
    _, program = api(base, key, "POST", "/programs", {"name": "Bean There", "template": "cafe"})
    api(base, key, "POST", f"/programs/{program['id']}/rewards",
        {"name": "Free flat white", "kind": "free_item", "points_cost": 10})
    api(base, key, "POST", f"/programs/{program['id']}/rewards",
        {"name": "Bag of beans", "kind": "free_item", "points_cost": 80})
    for name in ("Somchai Jaidee", "Nguyen Van An", "Tan Mei Ling"):
        api(base, key, "POST", f"/programs/{program['id']}/members",
            {"email": name.split()[0].lower() + "@example.test", "name": name})
    _, member = api(base, key, "POST", f"/programs/{program['id']}/members",
                    {"email": "ann@example.test", "name": "Ann Lim"})
    with app.app_context():
        user = User(email=CASHIER[0], password_hash=hash_password(CASHIER[1]))
        db.session.add(user)
        add_membership(user, db.session.scalars(db.select(Merchant)).one(), "cashier")
        db.session.commit()
    return program["id"], member


def test_owner_finds_a_member_and_a_cashier_serves_them_on_a_phone(
        served: tuple[Flask, str], browser: Browser, database: str) -> None:  # noqa: F811
    app, base = served
    program_id, member = seed(app, base)
    owner = browser.new_context(viewport=DESKTOP).new_page()
    log_in(owner, base)
    owner.get_by_role("navigation").get_by_role("link", name="Members").click()
    owner.get_by_label("Search").fill("ann")
    owner.get_by_role("button", name="Search").click()
    owner.get_by_role("link", name="Ann Lim").click()
    owner.get_by_label("Add points").fill("7")
    owner.locator("#f-earn-reason").fill("Birthday treat")
    owner.get_by_role("button", name="Add points").click()
    expect(owner.get_by_role("status")).to_contain_text("Points added.")
    expect(owner.locator("tr", has_text="Birthday treat")).to_contain_text("owner@example.test")
    shot(owner, "desktop-20-member", database)
    owner.get_by_role("navigation").get_by_role("link", name="Distribution").click()
    expect(owner.get_by_label("Signup link")).to_have_value(f"{base}/join/{program_id}")
    poster = owner.get_by_role("row", name="Any location").get_by_role("link", name="PDF").first
    with owner.expect_download() as download:
        poster.click()
    assert download.value.suggested_filename == f"poster-{program_id}-a4.pdf"
    shot(owner, "desktop-24-distribution", database)

    phone = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True).new_page()
    log_in(phone, base, *CASHIER)
    phone.goto(base + "/scan")
    phone.get_by_label("Code under the barcode").fill(member["serial_number"][:12].upper())
    phone.get_by_role("button", name="Find").click()
    expect(phone.get_by_role("heading", name="Ann Lim")).to_be_visible()
    phone.get_by_label("Purchase amount").fill("15")
    phone.get_by_role("button", name="Earn", exact=True).click()
    expect(phone.locator("[data-balance]")).to_have_text("22")
    phone.locator("li", has_text="Free flat white").get_by_role("button", name="Redeem").click()
    expect(phone.locator("[data-balance]")).to_have_text("12")
    expect(phone.locator("li", has_text="Bag of beans")).to_contain_text("68 more")
    shot(phone, "phone-21-scanner", database)
    phone.get_by_role("button", name="Undo").click()
    expect(phone.get_by_role("status")).to_contain_text("Undone.")
    expect(phone.locator("[data-balance]")).to_have_text("22")
    shot(phone, "phone-22-scanner-undone", database)
    phone.goto(base + "/scan")
    shot(phone, "phone-23-scanner-find", database)

    for path in ("/members/export.csv", f"/analytics/programs/{program_id}"):
        answer = phone.goto(base + path)
        assert answer is not None and answer.status == 403, path

    # The owner's analytics move with the cashier's next earn (numbers read off the page).
    def issued() -> int:
        owner.goto(f"{base}/analytics/programs/{program_id}")
        figure = owner.locator("dl.figures div").filter(
            has=owner.get_by_text("Issued", exact=True)).locator("dd")
        return int(figure.inner_text().replace(",", ""))

    def points_today() -> str:
        return owner.locator("table[data-chart='points'] tbody tr").last.text_content() or ""

    before, row_before = issued(), points_today()
    phone.goto(base + "/scan")
    phone.get_by_label("Code under the barcode").fill(member["serial_number"][:12].upper())
    phone.get_by_role("button", name="Find").click()
    phone.get_by_label("Purchase amount").fill("5")
    phone.get_by_role("button", name="Earn", exact=True).click()
    expect(phone.locator("[data-balance]")).to_have_text("27")
    assert issued() == before + 5
    assert points_today() != row_before
    shot(owner, "desktop-26-analytics", database)


def test_an_owner_uploads_an_email_list_and_watches_the_import_finish(
        served: tuple[Flask, str], browser: Browser, database: str,  # noqa: F811
        tmp_path: Path) -> None:
    app, base = served
    seed(app, base)
    csv_file = tmp_path / "customers.csv"
    csv_file.write_text("Customer e-mail,Customer name,Points card no\n"
                        "lek@example.test,Lek,P1\nminh@example.test,Minh,P2\n"
                        "ann@example.test,Ann again,P3\nnot-an-address,Oops,P4\n")
    page = browser.new_context(viewport=DESKTOP).new_page()
    log_in(page, base)
    page.goto(base + "/distribution")
    page.get_by_label("CSV file").set_input_files(str(csv_file))
    expect(page.get_by_label("Customer e-mail")).to_have_value("email")
    expect(page.get_by_label("Customer name")).to_have_value("name")
    expect(page.get_by_label("Points card no")).to_have_value("")
    page.get_by_role("button", name="Check the file").click()
    report = page.locator("[data-report]")
    expect(report.locator("[data-r=valid]")).to_have_text("2")
    expect(report.locator("[data-r=duplicates]")).to_have_text("1")
    expect(report.locator("[data-r=error_count]")).to_have_text("1")
    page.get_by_role("button", name="Import", exact=True).click()
    expect(page.locator("[data-error-for=consent_basis]")).to_be_visible()
    page.get_by_label("Why these customers may be mailed").fill(
        "Paper card customers who agreed to receive e-mails")
    page.get_by_role("button", name="Import", exact=True).click()
    progress = page.locator("[data-progress]")
    expect(progress.locator("[data-p=status]")).to_have_text("Running")
    run_imports(app)  # the worker's sweep; the page's polling sees it finish
    expect(progress.locator("[data-p=status]")).to_have_text("Done", timeout=10_000)
    expect(progress.locator("[data-p=created]")).to_have_text("2")
    shot(page, "desktop-25-distribution-import", database)
    with app.app_context():
        emails = set(db.session.scalars(db.select(Member.email)))
        assert {"lek@example.test", "minh@example.test"} <= emails
