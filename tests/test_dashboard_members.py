"""Dashboard part 2: the member list and page, staff actions (idempotent, recorded with the
staff user), the scanner's code look-up, limits and undo, voiding, the CSV export."""

from __future__ import annotations

import csv
import html
import io
import re
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from app.extensions import db
from app.models import GoogleObject, LedgerEntry, Member, OutboxEvent, User
from tests.conftest import BASE_URL, Api
from tests.dashboard_helpers import csrf_of, link_in, log_in, mails, new_owner, post

KEY = re.compile(r'name="key" value="([^"]+)"')


def setup(app: Flask, client: FlaskClient) -> tuple[Api, int, dict[str, Any]]:
    """An owner logged in, a cafe program with a reward and one member."""
    api = Api(app.test_client(), new_owner(app))
    log_in(client)
    program = api.post("/programs", {"name": "Cafe", "template": "cafe"}).get_json()
    api.post(f"/programs/{program['id']}/rewards",
             {"name": "Free coffee", "kind": "free_item", "points_cost": 10})
    member = api.post(f"/programs/{program['id']}/members",
                      {"email": "ann@example.test", "name": "=SUM(1)"}).get_json()
    assert "serial_number" in member, member
    return api, program["id"], member


def form_post(client: FlaskClient, page: str, action: str, data: dict[str, Any]) -> Any:
    """POST a form of `page` with its CSRF token and a fresh idempotency key from it."""
    html = client.get(page).get_data(as_text=True)
    key = KEY.search(html)
    assert key, page
    return client.post(action, data={"csrf_token": csrf_of(client, page), "key": key.group(1),
                                     **data})


def test_members_list_searches_and_the_member_page_shows_the_ledger_by_whom(
        app: Flask, client: FlaskClient) -> None:
    api, program_id, member = setup(app, client)
    listing = client.get("/members?q=ann").get_data(as_text=True)
    assert "ann@example.test" in listing and member["serial_number"][:12].upper() in listing
    assert "ann@example.test" not in client.get("/members?q=zed").get_data(as_text=True)
    page = f"/members/{member['id']}"
    done = form_post(client, page, f"{page}/earn", {"points": "7", "reason": "welcome gift"})
    assert done.status_code == 302
    shown = client.get(page).get_data(as_text=True)
    assert "welcome gift" in shown and "owner@example.test" in shown and "+7" in shown
    with app.app_context():
        entry = db.session.scalars(db.select(LedgerEntry).where(
            LedgerEntry.member_id == member["id"])).one()
        user = db.session.scalars(db.select(User)).one()
        assert (entry.actor, entry.source) == (f"user:{user.id}", "dashboard")


def test_a_double_tap_earns_once(app: Flask, client: FlaskClient) -> None:
    _api, _program, member = setup(app, client)
    page = f"/scan/members/{member['id']}"
    html = client.get(page).get_data(as_text=True)
    key = KEY.search(html)
    assert key
    data = {"csrf_token": csrf_of(client, page), "key": key.group(1), "amount": "12.50"}
    for _ in range(3):
        assert client.post(f"{page}/earn", data=data).status_code == 302
    with app.app_context():
        assert db.session.get(Member, member["id"]).points == 12
        assert db.session.scalar(db.select(db.func.count()).select_from(LedgerEntry)) == 1


def test_scanner_finds_by_short_code_redeems_and_undoes(app: Flask,
                                                        client: FlaskClient) -> None:
    _api, _program, member = setup(app, client)
    code = member["serial_number"][:12].upper()
    found = client.get(f"/scan?code={code.lower()}")
    assert found.status_code == 302 and found.location.endswith(f"/scan/members/{member['id']}")
    page = f"/scan/members/{member['id']}"
    form_post(client, page, f"{page}/earn", {"amount": "15"})
    html = client.get(page).get_data(as_text=True)
    assert "15" in html and "Free coffee" in html
    reward = re.search(r'name="reward_id" value="(\d+)"', html)
    assert reward
    form_post(client, page, f"{page}/redeem", {"reward_id": reward.group(1)})
    with app.app_context():
        assert db.session.get(Member, member["id"]).points == 5
        last = db.session.scalars(db.select(LedgerEntry).order_by(LedgerEntry.id.desc())).first()
        assert last is not None and last.kind == "redeem"
        last_id = last.id
    undo = form_post(client, page, f"/members/{member['id']}/undo/{last_id}", {"back": "scan"})
    assert undo.status_code == 302 and "done=Undone" in undo.location
    with app.app_context():
        assert db.session.get(Member, member["id"]).points == 15


def test_undoing_a_redemption_mails_no_second_reward_available(app: Flask,
                                                                client: FlaskClient) -> None:
    from app.mail import tasks

    _api, _program, member = setup(app, client)
    page = f"/scan/members/{member['id']}"
    form_post(client, page, f"{page}/earn", {"amount": "15"})  # 0 -> 15: Free coffee (10)
    reward = re.search(r'name="reward_id" value="(\d+)"', client.get(page).get_data(True))
    assert reward
    form_post(client, page, f"{page}/redeem", {"reward_id": reward.group(1)})
    with app.app_context():
        tasks.send_due_mail()
        last = db.session.scalars(db.select(LedgerEntry).order_by(LedgerEntry.id.desc())).first()
        assert last is not None and last.kind == "redeem"
        last_id = last.id
    waiting = [m for m in mails(app) if "Free coffee" in str(m["Subject"])]
    assert [str(m["Subject"]) for m in waiting] == ["A reward is waiting for you: Free coffee"]
    undo = form_post(client, page, f"/members/{member['id']}/undo/{last_id}", {"back": "scan"})
    assert undo.status_code == 302 and "done=Undone" in undo.location
    with app.app_context():
        tasks.send_due_mail()
        assert db.session.get(Member, member["id"]).points == 15  # the balance is back
    assert len([m for m in mails(app) if "Free coffee" in str(m["Subject"])]) == 1
    form_post(client, page, f"{page}/redeem", {"reward_id": reward.group(1)})  # 15 -> 5
    form_post(client, page, f"{page}/earn", {"amount": "6"})  # 5 -> 11: available again
    with app.app_context():
        tasks.send_due_mail()
    again = [m for m in mails(app) if "Free coffee" in str(m["Subject"])]
    assert len(again) == 2  # a real new crossing still tells the member


def test_earn_limit_per_member_is_enforced_with_a_clear_message(app: Flask,
                                                                client: FlaskClient) -> None:
    _api, program_id, member = setup(app, client)
    assert post(client, "/scan/settings", {"program": program_id, "cooldown": "60",
                                           "per_day": "0"}, page="/scan").status_code == 302
    page = f"/scan/members/{member['id']}"
    form_post(client, page, f"{page}/earn", {"amount": "5"})
    refused = form_post(client, page, f"{page}/earn", {"amount": "5"})
    shown = client.get(refused.location).get_data(as_text=True)
    assert "already earned in the last 60 minutes" in shown
    with app.app_context():
        assert db.session.get(Member, member["id"]).points == 5


def test_earn_limits_of_one_read_in_the_singular_and_in_thai(app: Flask,
                                                            client: FlaskClient) -> None:
    _api, program_id, member = setup(app, client)
    post(client, "/scan/settings", {"program": program_id, "cooldown": "1", "per_day": "0"},
         page="/scan")
    page = f"/scan/members/{member['id']}"
    form_post(client, page, f"{page}/earn", {"amount": "5"})
    refused = form_post(client, page, f"{page}/earn", {"amount": "5"})
    shown = html.unescape(client.get(refused.location).get_data(as_text=True))
    assert "already earned in the last 1 minute; the next earn" in shown
    post(client, "/scan/settings", {"program": program_id, "cooldown": "0", "per_day": "1"},
         page="/scan")
    refused = form_post(client, page, f"{page}/earn", {"amount": "5"})
    shown = html.unescape(client.get(refused.location).get_data(as_text=True))
    assert "This member reached today's limit of 1 earn." in shown
    post(client, "/language", {"lang": "th", "next": "/"})
    refused = form_post(client, page, f"{page}/earn", {"amount": "5"})
    assert "สมาชิกนี้สะสมครบ 1 ครั้งของวันนี้แล้ว" in client.get(refused.location).get_data(True)


def test_enroll_on_the_spot_shows_the_card_page_as_a_qr_code(app: Flask,
                                                              client: FlaskClient) -> None:
    setup(app, client)
    made = form_post(client, "/scan", "/scan/enroll", {"email": "bo@example.test",
                                                       "name": "Bo"})
    html = made.get_data(as_text=True)
    assert made.status_code == 200 and "<svg" in html and "/cards/" in html
    with app.app_context():
        bo = db.session.scalars(db.select(Member).where(Member.email == "bo@example.test")).one()
        assert bo.source == "dashboard"


def test_void_blocks_earning_and_hides_the_card_page(app: Flask, client: FlaskClient) -> None:
    api, _program, member = setup(app, client)
    page = f"/members/{member['id']}"
    with app.app_context():
        token = db.session.get(Member, member["id"]).download_token
    assert client.get(f"/cards/{token}").status_code == 200
    form_post(client, page, f"{page}/void", {})
    assert client.get(f"/cards/{token}").status_code == 404
    refused = api.post(f"/members/{member['id']}/earn", {"points": 5})
    assert refused.status_code == 409 and refused.get_json()["error"]["code"] == "card_voided"


def test_resend_queues_the_card_mail(app: Flask, client: FlaskClient) -> None:
    _api, _program, member = setup(app, client)
    page = f"/members/{member['id']}"
    assert form_post(client, page, f"{page}/resend", {}).status_code == 302
    with app.app_context():
        event = db.session.scalars(db.select(OutboxEvent).order_by(OutboxEvent.id.desc())).first()
        assert event is not None and event.event_type == "member.card_link_requested"
        assert event.member_id == member["id"] and event.payload["source"] == "dashboard"


def test_export_is_safe_from_formulas_and_refused_to_cashiers(app: Flask,
                                                              client: FlaskClient) -> None:
    setup(app, client)
    answer = client.get("/members/export.csv")
    assert answer.status_code == 200
    rows = list(csv.reader(io.StringIO(answer.get_data(as_text=True))))
    assert rows[1][1] == "'=SUM(1)"
    assert all(not cell.startswith(("=", "+", "-", "@")) for row in rows for cell in row)
    post(client, "/staff/invite", {"email": "cash@example.test", "role": "cashier"},
         page="/staff")
    path = link_in(mails(app)[-1], BASE_URL)
    cashier = app.test_client()
    cashier.post(path, data={"csrf_token": csrf_of(cashier, path), "password": "till password 1"})
    assert cashier.get("/members").status_code == 200
    assert cashier.get("/scan").status_code == 200
    assert cashier.get("/members/export.csv").status_code == 403


def test_distribution_shows_the_signup_link_and_serves_posters(app: Flask,
                                                                client: FlaskClient) -> None:
    api, program_id, _member = setup(app, client)
    place = api.post(f"/programs/{program_id}/locations",
                     {"name": "Siam branch", "latitude": 13.7, "longitude": 100.5})
    assert place.status_code == 201, place.get_json()
    html = client.get("/distribution").get_data(as_text=True)
    assert f"/join/{program_id}" in html and f"/join/{program_id}?loc=" not in html
    assert "Siam branch" in html
    pdf = client.get(f"/distribution/programs/{program_id}/poster.pdf?size=a5&location="
                     f"{place.get_json()['id']}")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    png = client.get(f"/distribution/programs/{program_id}/poster.png")
    assert png.status_code == 200 and png.data.startswith(b"\x89PNG")
    assert client.get(f"/distribution/programs/{program_id}/poster.gif").status_code == 404


def test_an_email_list_upload_dry_runs_imports_and_reports_progress(
        app: Flask, client: FlaskClient) -> None:
    _api, program_id, _member = setup(app, client)
    html = client.get("/distribution").get_data(as_text=True)
    key = KEY.search(html)
    assert key and "Upload an e-mail list" in html
    body = "E-mail Address,Full name\nnew1@example.test,New One\nann@example.test,Ann\nbad,X\n"
    def send(**extra: str) -> Any:
        return client.post("/distribution/imports", data={
            "csrf_token": csrf_of(client, "/distribution"), "key": key.group(1),
            "program": str(program_id), "mapping": '{"E-mail Address": "email", '
            '"Full name": "name"}', "file": (io.BytesIO(body.encode()), "list.csv"), **extra})
    dry = send(dry_run="1")
    assert dry.status_code == 200, dry.get_json()
    assert (dry.get_json()["valid"], dry.get_json()["duplicates"],
            dry.get_json()["error_count"]) == (1, 1, 1)
    def raw(data: bytes) -> Any:
        return client.post("/distribution/imports", data={
            "csrf_token": csrf_of(client, "/distribution"), "key": key.group(1),
            "program": str(program_id), "dry_run": "1",
            "file": (io.BytesIO(data), "list.pdf")})
    pdf = raw(b"%PDF-1.4 fake\n").get_json()["error"]
    assert pdf["code"] == "not_csv" and "not a CSV text file" in pdf["fields"]["file"]
    unmapped = raw(body.encode()).get_json()["error"]
    assert "no e-mail column" in unmapped["message"] and "mapping=" not in unmapped["message"]
    missing = send()
    assert missing.status_code == 422 and "consent_basis" in missing.get_json()["error"]["fields"]
    started = send(consent_basis="Paper card customers who agreed")
    assert started.status_code == 202, started.get_json()
    again = send(consent_basis="Paper card customers who agreed")  # the same form again
    assert again.get_json()["id"] == started.get_json()["id"]
    from tests.test_imports import run_imports
    run_imports(app)
    status = client.get(f"/distribution/imports/{started.get_json()['id']}").get_json()
    assert (status["status"], status["created"]) == ("done", 1)
    assert sum(status["mails"].values()) <= 1
    assert "Imports and their mails" in client.get("/distribution").get_data(as_text=True)


def test_a_cashier_may_undo_only_their_own_recent_action(app: Flask,
                                                         client: FlaskClient) -> None:
    _api, _program, member = setup(app, client)
    page = f"/scan/members/{member['id']}"
    form_post(client, page, f"{page}/earn", {"amount": "9"})  # the owner's earn
    post(client, "/staff/invite", {"email": "cash@example.test", "role": "cashier"},
         page="/staff")
    path = link_in(mails(app)[-1], BASE_URL)
    cashier = app.test_client()
    cashier.post(path, data={"csrf_token": csrf_of(cashier, path), "password": "till password 1"})
    assert 'name="back" value="scan"' not in cashier.get(page).get_data(as_text=True)
    with app.app_context():
        owners = db.session.scalars(db.select(LedgerEntry)).one()
    refused = form_post(cashier, page, f"/members/{member['id']}/undo/{owners.id}",
                        {"back": "scan"})
    assert "error=" not in refused.location  # the message waits in the session
    assert "can be undone here" in cashier.get(refused.location).get_data(as_text=True)
    form_post(cashier, page, f"{page}/earn", {"amount": "4"})
    html = cashier.get(page).get_data(as_text=True)
    assert 'name="back" value="scan"' in html  # their own earn can be undone
    with app.app_context():
        assert db.session.get(Member, member["id"]).points == 13


def test_the_member_page_says_when_google_refused_the_card(app: Flask,
                                                           client: FlaskClient) -> None:
    _api, _program_id, member = setup(app, client)
    page = f"/members/{member['id']}"
    with app.app_context():
        db.session.add(GoogleObject(member_id=member["id"], inserted=True, status=200))
        db.session.commit()
    shown = client.get(page).get_data(as_text=True)
    assert "<strong>Google Wallet</strong>" in shown and "· 200" not in shown  # no bare codes
    with app.app_context():
        db.session.execute(db.update(GoogleObject).values(status=403))
        db.session.commit()
    assert "Google refused the last update (answer 403)." in client.get(page).get_data(True)
