"""The counter's messages: only the service's own (never text from a link), worded for a
cashier and translated; stored codes (entry kinds, sources, roles, import states) shown as
words in the reader's language; the wallet status panel only for owners and managers."""

from __future__ import annotations

import re

from flask import Flask
from flask.testing import FlaskClient

from app.extensions import db
from app.i18n import catalog
from app.models import LedgerEntry, Member
from tests.conftest import BASE_URL
from tests.dashboard_helpers import csrf_of, link_in, mails, post
from tests.test_dashboard_members import form_post, setup

SPOOF = "Card blocked. Call support at 555-0100"


def alerts(html: str) -> list[str]:
    """The texts of the page's red alert boxes."""
    return re.findall(r'class="alert alert-error" role="alert">([^<]*)<', html)


def test_an_error_given_in_the_link_is_never_shown(app: Flask, client: FlaskClient) -> None:
    _api, _program, member = setup(app, client)
    for page in (f"/scan/members/{member['id']}", f"/members/{member['id']}"):
        html = client.get(page, query_string={"error": SPOOF}).get_data(as_text=True)
        assert "Card blocked" not in html and alerts(html) == [], page
    # a real failure still shows its message, once, and not through the link
    page = f"/scan/members/{member['id']}"
    refused = form_post(client, page, f"{page}/earn", {})
    assert refused.status_code == 302 and "error" not in refused.location
    assert alerts(client.get(refused.location).get_data(as_text=True)) == [
        "Type an amount or a number of points."]
    assert alerts(client.get(page).get_data(as_text=True)) == []


def test_the_scanner_words_errors_for_a_cashier_in_their_language(
        app: Flask, client: FlaskClient) -> None:
    _api, _program, member = setup(app, client)
    page = f"/scan/members/{member['id']}"
    shown = {}
    for typed in ("", "1,500", "abc"):
        refused = form_post(client, page, f"{page}/earn", {"amount": typed})
        shown[typed] = alerts(client.get(refused.location).get_data(as_text=True))
    assert shown == {"": ["Type an amount or a number of points."],
                     "1,500": ["Write the amount with a dot, like 12.50."],
                     "abc": ["Write the amount with a dot, like 12.50."]}
    refused = form_post(client, page, f"{page}/redeem", {"points": "50"})
    assert alerts(client.get(refused.location).get_data(as_text=True)) == [
        "Not enough points: the member has 0, this needs 50."]
    post(client, "/language", {"lang": "th", "next": "/"})
    refused = form_post(client, page, f"{page}/earn", {"amount": ""})
    assert alerts(client.get(refused.location).get_data(as_text=True)) == [
        "ใส่จำนวนเงินหรือจำนวนแต้ม"]
    post(client, "/language", {"lang": "zh-Hant", "next": "/"})
    refused = form_post(client, page, f"{page}/redeem", {})
    assert alerts(client.get(refused.location).get_data(as_text=True)) == [
        "請選擇獎勵或輸入點數。"]


def test_a_decimal_comma_is_read_as_a_point(app: Flask, client: FlaskClient) -> None:
    _api, _program, member = setup(app, client)
    page = f"/scan/members/{member['id']}"
    assert "done=" in form_post(client, page, f"{page}/earn", {"amount": "12,50"}).location
    with app.app_context():
        entry = db.session.scalars(db.select(LedgerEntry)).one()
        assert str(entry.amount) == "12.50" and db.session.get(Member, member["id"]).points == 12


def test_enrolling_a_member_again_links_to_them(app: Flask, client: FlaskClient) -> None:
    _api, _program, member = setup(app, client)
    again = form_post(client, "/scan", "/scan/enroll", {"email": "ann@example.test"})
    html = again.get_data(as_text=True)
    assert again.status_code == 422
    assert "This e-mail already has this card." in html and "(member" not in html
    assert f'href="/scan/members/{member["id"]}"' in html
    post(client, "/language", {"lang": "vi", "next": "/"})
    html = form_post(client, "/scan", "/scan/enroll",
                     {"email": "ann@example.test"}).get_data(as_text=True)
    assert "E-mail này đã có thẻ này." in html and "Mở thành viên này tại quầy" in html


def test_history_sources_and_roles_are_words_in_the_readers_language(
        app: Flask, client: FlaskClient) -> None:
    _api, _program, _member = setup(app, client)
    made = form_post(client, "/scan", "/scan/enroll", {"email": "bo@example.test"})
    assert made.status_code == 200
    with app.app_context():
        bo = db.session.scalars(db.select(Member).where(
            Member.email == "bo@example.test")).one().id
    page = f"/scan/members/{bo}"
    form_post(client, page, f"{page}/earn", {"points": "7"})
    with app.app_context():
        earn_id = db.session.scalars(db.select(LedgerEntry).where(
            LedgerEntry.member_id == bo)).one().id
    assert 'class="btn btn-small btn-nowrap" type="submit">Undo<' in client.get(
        f"/members/{bo}").get_data(as_text=True)  # CSS keeps 復原 on one line
    form_post(client, page, f"/members/{bo}/undo/{earn_id}", {"back": "scan"})
    english = client.get(f"/members/{bo}").get_data(as_text=True)
    assert "<td>Earned" in english and "<td>Cancelled · Undone at the counter" in english
    assert "· Dashboard</dd>" in english and "<td>earn" not in english
    assert '<span class="role">Owner</span>' in english
    post(client, "/language", {"lang": "zh-Hant", "next": "/"})
    chinese = client.get(f"/members/{bo}").get_data(as_text=True)
    assert "<td>累積點數" in chinese and "<td>取消 · 於櫃台復原" in chinese
    assert "· 管理後台</dd>" in chinese and "undo at the counter" not in chinese
    post(client, "/language", {"lang": "en", "next": "/"})
    post(client, "/staff/invite", {"email": "cash@example.test", "role": "cashier"},
         page="/staff")
    staff = client.get("/staff").get_data(as_text=True)
    assert "<td>Owner</td>" in staff and "<td>Cashier · " in staff
    assert '<option value="manager" >Manager</option>' in staff.replace("selected", "")


def test_the_undo_button_does_not_wrap(app: Flask) -> None:
    from pathlib import Path

    css = (Path(app.static_folder or "") / "dashboard.css").read_text(encoding="utf-8")
    assert re.search(r"\.btn-nowrap \{[^}]*white-space: nowrap", css)


def test_every_code_label_and_counter_message_is_translated() -> None:
    CATALOG = catalog()
    from app.dashboard.i18n import LABELS, REASONS, WORDING
    from app.dashboard.members import ACTION_WORDING

    reasons = {s[0] if isinstance(s, tuple) else s for _p, s in REASONS if s}
    sentences = (set(LABELS.values()) | reasons | set(WORDING.values())
                 | set(ACTION_WORDING.values()) | {"Write the amount with a dot, like 12.50."})
    missing = sorted(s for s in sentences if s not in CATALOG)
    assert not missing, missing


def test_only_owners_and_managers_see_the_wallet_status(app: Flask,
                                                        client: FlaskClient) -> None:
    setup(app, client)
    assert "Wallet status" in client.get("/").get_data(as_text=True)
    post(client, "/staff/invite", {"email": "cash@example.test", "role": "cashier"},
         page="/staff")
    path = link_in(mails(app)[-1], BASE_URL)
    cashier = app.test_client()
    cashier.post(path, data={"csrf_token": csrf_of(cashier, path), "password": "till password 1"})
    home = cashier.get("/").get_data(as_text=True)
    assert "Open the scanner" in home and "Wallet status" not in home
    assert 'class="card status-panel"' not in home
