"""Dashboard part 2, the rest, in a real headless Chromium: an owner reaches analytics from
the dashboard's nav (charts drawn, range picked, a CSV downloaded, the page in Thai), finds
a member by the middle of their name, and uploads an e-mail list with JavaScript turned
off (plain forms, a progress page that refreshes itself). Screenshots in
tests/artifacts/dashboard/."""

from __future__ import annotations

import re
from datetime import date, timedelta
from pathlib import Path

from flask import Flask
from playwright.sync_api import Browser, expect

from app.extensions import db
from app.mail import tasks
from app.models import Member
from tests.test_dashboard_browser import (  # noqa: F401  (fixtures)
    DESKTOP,
    PHONE,
    api,
    browser,
    log_in,
    served,
    shot,
)
from tests.test_dashboard_counter_browser import seed
from tests.test_imports import run_imports


def test_analytics_from_the_nav_with_charts_drawn(
        served: tuple[Flask, str], browser: Browser, database: str,  # noqa: F811
        tmp_path: Path) -> None:
    app, base = served
    program_id, member = seed(app, base)
    page = browser.new_context(viewport=DESKTOP, accept_downloads=True).new_page()
    log_in(page, base)
    page.get_by_role("navigation").get_by_role("link", name="Members").click()
    page.get_by_label("Search").fill("jaid")  # the middle of "Somchai Jaidee"
    page.get_by_role("button", name="Search").click()
    expect(page.locator(".members-table tbody tr")).to_have_count(1)
    expect(page.locator(".members-table")).to_contain_text("Somchai Jaidee")
    shot(page, "desktop-27-members-search-middle", database)

    nav = page.get_by_role("navigation", name="Main")
    nav.get_by_role("link", name="Analytics").click()
    expect(page).to_have_url(re.compile(rf".*/analytics/programs/{program_id}$"))
    expect(nav.get_by_role("link", name="Analytics")).to_have_attribute("aria-current", "page")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Analytics: Bean There")
    signups = page.locator("#chart-signups figure svg")
    expect(signups).to_be_visible()
    box = signups.bounding_box()
    assert box is not None and box["width"] > 300 and box["height"] > 150
    assert page.locator("#chart-signups svg .reactive").count() > 0  # bars drawn by pygal
    assert page.locator("figure svg").count() == page.locator("section.chart").count() >= 8
    shot(page, "desktop-28-analytics-in-dashboard", database)

    first = (date.today() - timedelta(days=6)).isoformat()
    page.get_by_label("From").fill(first)
    page.get_by_role("button", name="Show").click()
    expect(page).to_have_url(re.compile(rf".*from={first}.*"))
    rows = page.locator("table[data-chart='signups'] tbody tr")
    expect(rows).to_have_count(7)
    with page.expect_download() as download:
        page.locator("#chart-points").get_by_role("link", name="Download CSV").click()
    saved = tmp_path / "points.csv"
    download.value.save_as(saved)
    lines = saved.read_text(encoding="utf-8-sig").splitlines()
    assert lines[0].startswith("Day,Issued") and len(lines) == 8, lines

    page.get_by_label("Language").select_option("th")  # the dashboard's switcher
    expect(page.get_by_role("heading", level=1)).to_contain_text("สถิติ")
    expect(page.locator("#chart-signups h2")).to_have_text("สมาชิกใหม่ต่อวันตามช่องทาง")
    expect(page).to_have_url(re.compile(rf".*from={first}.*"))  # the same range
    shot(page, "desktop-29-analytics-thai", database, full=False)
    page.get_by_label("ภาษา").select_option("en")  # the account keeps the choice: back
    expect(page.get_by_role("heading", level=1)).to_contain_text("Analytics")
    phone = browser.new_context(viewport=PHONE).new_page()
    log_in(phone, base)
    phone.goto(f"{base}/analytics")
    expect(phone).to_have_url(re.compile(rf".*/analytics/programs/{program_id}$"))
    expect(phone.locator("#chart-points figure svg")).to_be_visible()
    shot(phone, "phone-30-analytics", database)


def test_an_email_list_upload_without_javascript(
        served: tuple[Flask, str], browser: Browser, database: str,  # noqa: F811
        tmp_path: Path) -> None:
    app, base = served
    seed(app, base)
    csv_file = tmp_path / "customers.csv"
    csv_file.write_text("Customer e-mail,Customer name,Points card no\n"
                        "lek@example.test,Lek,P1\nminh@example.test,Minh,P2\n"
                        "ann@example.test,Ann again,P3\nnot-an-address,Oops,P4\n")
    page = browser.new_context(viewport=DESKTOP, java_script_enabled=False).new_page()
    log_in(page, base)
    page.goto(base + "/distribution")
    page.get_by_label("CSV file").set_input_files(str(csv_file))
    page.get_by_role("button", name="Check the file").click()
    expect(page.get_by_role("heading", name="Check the file")).to_be_visible()
    expect(page.locator("#e-mapping")).to_contain_text("no e-mail column")
    page.get_by_label("Customer e-mail").select_option("email")
    page.get_by_label("Customer name").select_option("name")
    page.get_by_role("button", name="Check again").click()
    expect(page.locator("[data-r=valid]")).to_have_text("2")
    expect(page.locator("[data-r=duplicates]")).to_have_text("1")
    expect(page.locator("[data-r=error_count]")).to_have_text("1")
    shot(page, "desktop-31-import-check-no-js", database)
    page.get_by_role("button", name="Import", exact=True).click()
    expect(page.locator("#e-basis")).to_be_visible()  # the reason is asked for, by its field
    page.get_by_label("Why these customers may be mailed").fill(
        "Paper card customers who agreed to receive e-mails")
    page.get_by_role("button", name="Import", exact=True).click()
    expect(page).to_have_url(re.compile(r".*/distribution/imports/\d+/progress$"))
    expect(page.locator("[data-p=status]")).to_have_text("Running")
    run_imports(app)  # the worker's sweep; the page refreshes itself, no script runs
    expect(page.locator("[data-p=status]")).to_have_text("Done", timeout=10_000)
    expect(page.locator("[data-p=created]")).to_have_text("2")
    with app.app_context():
        tasks.send_due_mail()  # the welcome mails go out
    expect(page.locator("[data-m=sent]")).to_have_text("2", timeout=10_000)
    shot(page, "desktop-32-import-progress-no-js", database)
    with app.app_context():
        emails = set(db.session.scalars(db.select(Member.email)))
        assert {"lek@example.test", "minh@example.test"} <= emails
