"""The dashboard's accounts, roles, API keys, webhooks and status panel (Flask test client)."""

from __future__ import annotations

import re
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from app.cli import main
from app.i18n import catalog
from tests.conftest import BASE_URL, Api
from tests.dashboard_helpers import PASSWORD, csrf_of, link_in, log_in, mails, new_owner, post


def test_a_visitor_is_sent_to_the_login_page(client: FlaskClient) -> None:
    resp = client.get("/")
    assert resp.status_code == 302 and resp.headers["Location"].startswith("/login")
    login = client.get(resp.headers["Location"])
    html = login.get_data(as_text=True)
    assert login.status_code == 200 and 'name="password"' in html
    assert 'href="/api/v1/openapi.json"' in html


def test_logging_in_opens_the_home_with_the_designer_link(app: Flask,
                                                          client: FlaskClient) -> None:
    new_owner(app)
    wrong = log_in(client, password="not the password")
    assert wrong.status_code == 401 and "Wrong e-mail or password" in wrong.get_data(True)
    resp = log_in(client)
    assert resp.status_code == 302 and resp.headers["Location"] == "/"
    home = client.get("/").get_data(as_text=True)
    assert "Bean There" in home and 'href="/design"' in home  # before any card exists
    assert "Development certificate in use" in home  # the status panel


def test_session_cookie_is_secure_httponly_lax(app: Flask, client: FlaskClient) -> None:
    new_owner(app)
    resp = log_in(client)
    cookie = next(v for k, v in resp.headers.items() if k == "Set-Cookie"
                  and v.startswith("walletpass_session="))
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_a_post_without_the_csrf_token_is_refused(app: Flask, client: FlaskClient) -> None:
    new_owner(app)
    resp = client.post("/login", data={"email": "owner@example.test", "password": PASSWORD})
    assert resp.status_code == 400
    log_in(client)
    bad = client.post("/settings/api-keys", data={"name": "till", "csrf_token": "forged"})
    assert bad.status_code == 400
    assert client.get("/").status_code == 200  # still logged in, nothing created


def test_logins_are_rate_limited_per_account(make_app: Any) -> None:
    app = make_app(LOGIN_MAX_FAILURES=3)
    new_owner(app)
    client = app.test_client()
    for _ in range(3):
        assert log_in(client, password="guess guess guess").status_code == 401
    blocked = log_in(client)  # even the right password waits for the window
    assert blocked.status_code == 429 and "Too many failed attempts" in blocked.get_data(True)
    other = app.test_client()  # the same address is limited too
    assert log_in(other, "someone@example.test", "whatever whatever").status_code == 429


def test_logout_ends_the_session(app: Flask, client: FlaskClient) -> None:
    new_owner(app)
    log_in(client)
    assert post(client, "/logout").status_code == 302
    assert client.get("/").status_code == 302


def test_password_reset_by_mail_works_once(app: Flask, client: FlaskClient) -> None:
    new_owner(app)
    token = csrf_of(client, "/password/forgot")
    for email in ("nobody@example.test", "owner@example.test"):
        page = client.post("/password/forgot", data={"csrf_token": token, "email": email})
        assert page.status_code == 200 and "on its way" in page.get_data(True)
    sent = mails(app)
    assert len(sent) == 1 and sent[0]["To"] == "owner@example.test"
    path = link_in(sent[0], BASE_URL)
    assert path.startswith("/password/reset/")
    short = client.post(path, data={"csrf_token": csrf_of(client, path), "password": "short"})
    assert short.status_code == 422 and "at least 10 characters" in short.get_data(True)
    done = client.post(path, data={"csrf_token": csrf_of(client, path),
                                   "password": "a brand new password"})
    assert done.status_code == 302
    assert client.get(path).status_code == 404  # used: the password hash changed
    fresh = app.test_client()
    assert log_in(fresh).status_code == 401
    assert log_in(fresh, password="a brand new password").status_code == 302


def test_an_invited_cashier_is_refused_the_designer_keys_and_staff(
        app: Flask, client: FlaskClient) -> None:
    key = new_owner(app)
    log_in(client)
    invited = post(client, "/staff/invite", {"email": "cash@example.test", "role": "cashier"},
                   page="/staff")
    assert invited.status_code == 200 and "cash@example.test" in invited.get_data(True)
    path = link_in(mails(app)[-1], BASE_URL)
    cashier = app.test_client()
    joined = cashier.post(path, data={"csrf_token": csrf_of(cashier, path),
                                      "password": "till password 1"})
    assert joined.status_code == 302
    home = cashier.get("/")
    assert home.status_code == 200 and 'href="/design"' not in home.get_data(True)
    for page in ("/design", "/settings/api-keys", "/staff", "/settings/webhooks"):
        refused = cashier.get(page)
        assert refused.status_code == 403, page
        assert "Not allowed" in refused.get_data(True)
    assert cashier.get(path).status_code == 404  # the invitation is used
    program = Api(app.test_client(), key).post(
        "/programs", {"name": "Cafe", "template": "cafe"}).get_json()
    analytics = f"/analytics/programs/{program['id']}"
    assert f'href="{analytics}"' in client.get("/").get_data(True)  # the owner's home links it
    assert client.get(analytics).status_code == 200
    assert cashier.get(analytics).status_code == 403
    assert app.test_client().get(analytics).status_code == 302  # nobody signed in: log in


def test_a_manager_may_design_but_not_manage_staff_or_keys(app: Flask,
                                                           client: FlaskClient) -> None:
    new_owner(app)
    log_in(client)
    invited = post(client, "/staff/invite", {"email": "boss@example.test", "role": "manager"},
                   page="/staff")
    path = link_in(mails(app)[-1], BASE_URL)
    shown = re.search(r'id="invite-link" type="text" readonly value="([^"]+)"',
                      invited.get_data(True))
    assert shown and shown.group(1) == BASE_URL + path  # to pass on by chat, as mailed
    manager = app.test_client()
    manager.post(path, data={"csrf_token": csrf_of(manager, path),
                             "password": "manager password"})
    assert manager.get("/design").status_code == 200
    assert manager.get("/settings/webhooks").status_code == 200
    assert manager.get("/staff").status_code == 403
    assert manager.get("/settings/api-keys").status_code == 403


def test_invitation_errors_show_next_to_the_field(app: Flask, client: FlaskClient) -> None:
    new_owner(app)
    log_in(client)
    resp = post(client, "/staff/invite", {"email": "not-an-address", "role": "cashier"},
                page="/staff")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422 and 'id="e-email"' in html
    assert "Is not a valid email address." in html


def test_open_signup_is_off_by_default(make_app: Any) -> None:
    app = make_app()
    assert app.test_client().get("/signup").status_code == 404
    app = make_app(OPEN_SIGNUP=True)
    client = app.test_client()
    resp = client.post("/signup", data={"csrf_token": csrf_of(client, "/signup"),
                                        "business": "Suds Laundry",
                                        "email": "suds@example.test",
                                        "password": "wash and fold 99"})
    assert resp.status_code == 302
    assert "Suds Laundry" in client.get("/").get_data(as_text=True)


def test_cli_asks_for_the_password_hidden(app: Flask, client: FlaskClient) -> None:
    result = app.test_cli_runner().invoke(
        main, args=["create-merchant", "--name", "Prompted", "--email", "p@example.test",
              "--password"], input="prompted password\nprompted password\n")
    assert result.exit_code == 0, result.output
    assert "prompted password" not in result.output  # hidden input
    assert log_in(client, "p@example.test", "prompted password").status_code == 302


def test_api_keys_are_shown_once_and_revoked(app: Flask, client: FlaskClient) -> None:
    new_owner(app)
    log_in(client)
    created = post(client, "/settings/api-keys", {"name": "Front till"},
                   page="/settings/api-keys")
    html = created.get_data(as_text=True)
    assert created.status_code == 201 and "Front till" in html
    key = html.split('id="new-key" class="secret">')[1].split("<")[0]
    api = Api(app.test_client(), key)
    assert api.get("/programs").status_code == 200
    listing = client.get("/settings/api-keys").get_data(as_text=True)
    assert key not in listing  # shown once
    key_id = listing.split('data-key="')[1].split('"')[0]
    assert post(client, f"/settings/api-keys/{key_id}/revoke",
                page="/settings/api-keys").status_code == 302
    assert api.get("/programs").status_code == 401
    empty = post(client, "/settings/api-keys", {"name": ""}, page="/settings/api-keys")
    assert empty.status_code == 422 and 'id="e-name"' in empty.get_data(True)


def test_webhooks_list_create_and_resend(make_app: Any) -> None:
    app = make_app(WEBHOOK_ALLOW_PRIVATE=True)
    new_owner(app)
    client = app.test_client()
    log_in(client)
    bad = post(client, "/settings/webhooks", {"url": "ftp://x", "events": "member.enrolled"},
               page="/settings/webhooks")
    assert bad.status_code == 422 and 'id="e-url"' in bad.get_data(True)
    made = post(client, "/settings/webhooks", {"url": "http://127.0.0.1:9/hook",
                                              "events": "member.enrolled"},
                page="/settings/webhooks")
    assert made.status_code == 201 and "whsec_" in made.get_data(True)
    from app.extensions import db
    from app.models import Webhook, WebhookDelivery

    with app.app_context():
        hook = db.session.scalars(db.select(Webhook)).one()
        row = WebhookDelivery(webhook_id=hook.id, event="member.enrolled", payload={},
                              state="failed", attempts=8, last_status=500,
                              last_error="HTTP 500")
        db.session.add(row)
        db.session.commit()
        hook_id, row_id = hook.id, row.id
    page = client.get("/settings/webhooks").get_data(as_text=True)
    assert "HTTP 500" in page
    resent = post(client, f"/settings/webhooks/{hook_id}/deliveries/{row_id}/resend",
                  page="/settings/webhooks")
    assert resent.status_code == 302
    with app.app_context():
        again = db.session.get(WebhookDelivery, row_id)
        assert again is not None and again.state == "pending" and again.attempts == 0


def test_status_panel_says_what_to_fix(app: Flask, client: FlaskClient) -> None:
    new_owner(app)
    log_in(client)
    html = client.get("/status").get_data(as_text=True)
    for key in ("dev_certificate", "google_off", "mail_folder"):
        assert f'data-problem="{key}"' in html


def test_the_language_choice_is_remembered(app: Flask, client: FlaskClient) -> None:
    new_owner(app)
    log_in(client)
    assert post(client, "/language", {"lang": "th", "next": "/"}).status_code == 302
    assert 'lang="th"' in client.get("/").get_data(as_text=True)
    again = app.test_client()
    log_in(again)  # the account remembers it
    assert 'lang="th"' in again.get("/").get_data(as_text=True)


def template_messages() -> set[str]:
    """Every message the dashboard templates translate with t('...') or name as a label."""
    import re
    from pathlib import Path

    found: set[str] = set()
    folder = Path(__file__).resolve().parents[1] / "app" / "templates" / "dashboard"
    for path in folder.glob("*.html"):
        source = path.read_text(encoding="utf-8")
        found |= set(re.findall(r"\bt\(\s*'([^']+)'", source))
        found |= set(re.findall(r"(?:field|input|color)\('\w+', '([^']+)'", source))
        found |= set(re.findall(r"hint='([^']+)'", source))
    return found


def test_every_dashboard_message_is_translated() -> None:
    CATALOG = catalog()
    import re


    missing = sorted(m for m in template_messages() if m not in CATALOG)
    assert not missing, missing
    for message, texts in CATALOG.items():
        names = sorted(re.findall(r"\{(\w+)\}", message))
        for lang, text in texts.items():
            assert sorted(re.findall(r"\{(\w+)\}", text)) == names, (lang, message)


def test_pages_are_localized(app: Flask, client: FlaskClient) -> None:
    new_owner(app)
    log_in(client)
    for lang, word in (("th", "ออกแบบบัตร"), ("zh-Hant", "卡片設計"), ("vi", "Thiết kế thẻ"),
                       ("ms", "Pereka kad")):
        post(client, "/language", {"lang": lang, "next": "/"})
        html = client.get("/design").get_data(as_text=True)
        assert f'lang="{lang}"' in html and word in html
