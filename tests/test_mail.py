"""Mail: welcome and lifecycle mails through a real SMTP server on loopback (aiosmtpd),
plain, STARTTLS and implicit TLS with a login; every link in a received mail works;
down or refusing servers lose no mail and send none twice; suppressions and unsubscribe."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from flask import Flask
from sqlalchemy import select, update

from app.extensions import db
from app.i18n import gettext
from app.mail import tasks
from app.mail.channel import program_zone
from app.models import MailDelivery, Program
from app.models.base import utcnow
from tests.conftest import BASE_URL, Api, new_api_key
from tests.smtp_standin import SmtpStandIn

FAST = {"MAIL_RATE": 1000.0, "SMTP_TIMEOUT": 5.0}


@pytest.fixture(scope="session")
def smtp_tls(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A test CA and a certificate for 127.0.0.1 signed by it (made with cryptography)."""
    from tests.apns_standin import make_server_tls

    return make_server_tls(tmp_path_factory.mktemp("smtp-tls"))


@pytest.fixture
def smtp() -> Iterator[SmtpStandIn]:
    """A plain SMTP server on loopback."""
    server = SmtpStandIn().up()
    yield server
    server.down()


def mail_app(make_app: Any, server: SmtpStandIn | None, tls: dict[str, Path] | None = None,
             **extra: Any) -> Flask:
    """An app sending to the server (its CA trusted when it speaks TLS)."""
    settings = {**FAST, **extra}
    if server is not None:
        settings["SMTP_URL"] = server.url
    if tls is not None:
        settings["SMTP_CA_FILE"] = str(tls["ca"])
    return make_app(**settings)


def setup_program(app: Flask, **program: Any) -> tuple[Api, dict[str, Any]]:
    """A merchant's API client and a cafe program."""
    api = Api(app.test_client(), new_api_key(app))
    resp = api.post("/programs", {"name": "Bean There Rewards", "template": "cafe", **program})
    assert resp.status_code == 201, resp.get_json()
    return api, resp.get_json()


def enroll(api: Api, program: dict[str, Any], email: str, **extra: Any) -> dict[str, Any]:
    """Enroll a member through the API."""
    resp = api.post(f"/programs/{program['id']}/members", {"email": email, **extra})
    assert resp.status_code == 201, resp.get_json()
    return dict(resp.get_json())


def sweep(app: Flask) -> int:
    """Run the mail sweep once (relays new events first)."""
    with app.app_context():
        try:
            return tasks.send_due_mail()
        finally:
            db.session.remove()


def mails(app: Flask) -> list[MailDelivery]:
    """Every mail row."""
    with app.app_context():
        rows = list(db.session.scalars(select(MailDelivery).order_by(MailDelivery.id)))
        db.session.expunge_all()
        return rows


def make_due(app: Flask) -> None:
    """Let every pending mail's back-off pass."""
    with app.app_context():
        db.session.execute(update(MailDelivery).values(next_attempt_at=utcnow()
                                                        - timedelta(seconds=1)))
        db.session.commit()


def parts(message: EmailMessage) -> tuple[str, str]:
    """The text and HTML bodies of a received mail."""
    plain = message.get_body(("plain",))
    html = message.get_body(("html",))
    assert plain is not None and html is not None
    return plain.get_content(), html.get_content()


def links(message: EmailMessage) -> set[str]:
    """Every link in the HTML part, the text part and List-Unsubscribe."""
    plain, html = parts(message)
    found = set(re.findall(r'href="([^"]+)"', html)) | set(re.findall(r"https?://\S+", plain))
    found |= set(re.findall(r"<([^>]+)>", str(message["List-Unsubscribe"])))
    return {link.replace("&amp;", "&") for link in found}


def card_token(member: dict[str, Any]) -> str:
    """The member's card token, from their Apple link."""
    return str(member["links"]["apple"].split("/cards/")[1].split("/")[0])


def test_welcome_mail_over_smtp_every_link_works(make_app: Any, smtp: SmtpStandIn) -> None:
    app = mail_app(make_app, smtp)
    api, program = setup_program(app)
    member = enroll(api, program, "ann@example.test", name="Ann Lee")
    assert sweep(app) == 1
    assert sweep(app) == 0  # nothing twice
    [message] = smtp.messages()
    assert smtp.envelopes == [(f"no-reply@{urlsplit(BASE_URL).hostname}", ["ann@example.test"])]
    assert message["To"] == "Ann Lee <ann@example.test>"
    assert message["From"].addresses[0].display_name == program["organization_name"]
    assert message["Reply-To"] == "owner@example.test"
    assert message["Subject"] == "Your Bean There Rewards card is ready"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert not [p for p in message.iter_attachments()]  # a link, never a .pkpass
    plain, html = parts(message)
    assert "Hello Ann Lee," in plain and "Welcome to Bean There Rewards" in html
    client = app.test_client()
    [logo] = re.findall(r'<img src="([^"]+)"', html)  # the merchant's logo, served by us
    shown = client.get(urlsplit(logo).path)
    assert logo.startswith(BASE_URL) and shown.status_code == 200
    assert shown.mimetype == "image/png" and shown.data.startswith(b"\x89PNG")
    found = links(message)
    card = f"{BASE_URL}/cards/{card_token(member)}"
    unsubscribe = [link for link in found if "/mail/unsubscribe/" in link]
    assert found == {card, *unsubscribe} and len(set(unsubscribe)) == 1
    assert client.get(urlsplit(card).path).status_code == 200  # the card page
    assert client.get(urlsplit(card).path + "/apple.pkpass").status_code == 200
    page = client.get(urlsplit(unsubscribe[0]).path)
    assert page.status_code == 200 and b"<form method=\"post\">" in page.data
    assert b"ann@example.test" in page.data
    done = client.post(urlsplit(unsubscribe[0]).path, data="List-Unsubscribe=One-Click",
                       content_type="application/x-www-form-urlencoded")
    assert done.status_code == 200 and b"You are unsubscribed" in done.data
    listed = api.get("/suppressions").get_json()
    assert [(s["email"], s["reason"]) for s in listed["suppressions"]] == [
        ("ann@example.test", "unsubscribe")]
    assert [m.status for m in mails(app)] == ["sent"]


def test_starttls_with_login(make_app: Any, smtp_tls: dict[str, Path]) -> None:
    server = SmtpStandIn(smtp_tls, starttls=True, login=("mailer", "s3cret pass")).up()
    try:
        app = mail_app(make_app, server, smtp_tls)
        api, program = setup_program(app)
        enroll(api, program, "bo@example.test")
        sweep(app)
        assert len(server.messages()) == 1 and server.logins == 1
        assert [m.status for m in mails(app)] == ["sent"]
    finally:
        server.down()


AUTH_WITHOUT_TLS = pytest.mark.filterwarnings(
    "ignore:Requiring AUTH while not requiring TLS:UserWarning")  # aiosmtpd, on purpose


@AUTH_WITHOUT_TLS
def test_implicit_tls_with_login(make_app: Any,
                                                 smtp_tls: dict[str, Path]) -> None:
    tls_server = SmtpStandIn(smtp_tls, implicit_tls=True, login=("mailer", "pw")).up()
    try:
        app = mail_app(make_app, tls_server, smtp_tls)
        api, program = setup_program(app)
        enroll(api, program, "cy@example.test")
        sweep(app)
        assert len(tls_server.messages()) == 1 and tls_server.logins == 1
    finally:
        tls_server.down()


@AUTH_WITHOUT_TLS
def test_login_over_plain_smtp(make_app: Any) -> None:
    server = SmtpStandIn(login=("mailer", "pw")).up()  # auth_require_tls=False
    try:
        app = mail_app(make_app, server)
        api, program = setup_program(app)
        enroll(api, program, "di@example.test")
        sweep(app)
        assert len(server.messages()) == 1 and server.logins == 1
    finally:
        server.down()


def test_untrusted_tls_certificate_is_retried_not_sent(make_app: Any,
                                                       smtp_tls: dict[str, Path]) -> None:
    server = SmtpStandIn(smtp_tls, starttls=True).up()
    try:
        app = mail_app(make_app, server)  # the test CA is not trusted
        api, program = setup_program(app)
        enroll(api, program, "ed@example.test")
        sweep(app)
        assert server.messages() == []
        [row] = mails(app)
        assert (row.status, row.attempts, row.last_error) == ("pending", 1, "TLS error")
    finally:
        server.down()


EXPECTED_WELCOME = {
    "en": ("Your Bean There Rewards card is ready", "Open your card"),
    "th": ("บัตรสมาชิก Bean There Rewards ของคุณพร้อมแล้ว", "เปิดบัตรของคุณ"),
    "zh-Hant": ("您的Bean There Rewards會員卡已準備好", "開啟您的會員卡"),
    "vi": ("Thẻ Bean There Rewards của bạn đã sẵn sàng", "Mở thẻ của bạn"),
    "ms": ("Kad Bean There Rewards anda sudah sedia", "Buka kad anda"),
}


def test_mails_in_each_language(make_app: Any, smtp: SmtpStandIn) -> None:
    app = mail_app(make_app, smtp)
    api, program = setup_program(app)
    for lang in EXPECTED_WELCOME:
        enroll(api, program, f"{lang.lower()}@example.test", name="Kim", language=lang)
    _api2, thai_program = setup_program_for(app, api, language="th")
    enroll(api, thai_program, "nolang@example.test")  # the program's language
    sweep(app)
    got = {str(m["To"].addresses[0].addr_spec): m for m in smtp.messages()}
    assert len(got) == 6
    for lang, (subject, button) in EXPECTED_WELCOME.items():
        message = got[f"{lang.lower()}@example.test"]
        plain, html = parts(message)
        assert message["Subject"] == subject
        assert message["Content-Language"] == lang
        assert f'<html lang="{lang}">' in html and button in html and button in plain
        assert gettext(lang, "Unsubscribe") in html
    assert got["nolang@example.test"]["Content-Language"] == "th"


def setup_program_for(app: Flask, api: Api, **program: Any) -> tuple[Api, dict[str, Any]]:
    """A second program of the same merchant."""
    resp = api.post("/programs", {"name": "Bean There Rewards", "template": "cafe", **program})
    assert resp.status_code == 201, resp.get_json()
    return api, resp.get_json()


def test_server_down_then_up_sends_each_mail_once(make_app: Any) -> None:
    server = SmtpStandIn()  # not started: connections are refused
    app = mail_app(make_app, server)
    api, program = setup_program(app)
    for i in range(3):
        enroll(api, program, f"m{i}@example.test")
    sweep(app)
    rows = mails(app)
    assert {(r.status, r.attempts, r.last_error) for r in rows} == {
        ("pending", 1, "connection refused")}
    assert all(r.next_attempt_at > utcnow() + timedelta(seconds=30) for r in rows)
    assert sweep(app) == 0  # backing off
    server.up()
    try:
        make_due(app)
        sweep(app)
        make_due(app)
        sweep(app)
        assert sorted(str(m["To"]) for m in server.messages()) == [
            "m0@example.test", "m1@example.test", "m2@example.test"]
        assert {(r.status, r.attempts) for r in mails(app)} == {("sent", 2)}
    finally:
        server.down()


def test_4xx_retries_later_and_5xx_suppresses(make_app: Any, smtp: SmtpStandIn) -> None:
    app = mail_app(make_app, smtp)
    api, program = setup_program(app)
    smtp.refuse = {"later@example.test": "451 4.7.1 Try again later",
                   "gone@example.test": "550 5.1.1 No such user"}
    enroll(api, program, "later@example.test")
    gone = enroll(api, program, "gone@example.test")
    enroll(api, program, "fine@example.test")
    sweep(app)
    by_mail = {r.member_id: r for r in mails(app)}
    assert [str(m["To"]) for m in smtp.messages()] == ["fine@example.test"]
    bounced = by_mail[gone["id"]]
    assert (bounced.status, bounced.last_error) == ("bounced", "recipient refused (550)")
    statuses = sorted((r.status, r.last_error) for r in by_mail.values())
    assert ("pending", "recipient deferred (451)") in statuses
    listed = api.get("/suppressions?email=gone@example.test").get_json()["suppressions"]
    assert [s["reason"] for s in listed] == ["bounce"]
    smtp.refuse = {}
    make_due(app)
    sweep(app)
    assert sorted(str(m["To"]) for m in smtp.messages()) == [
        "fine@example.test", "later@example.test"]
    # a later mail to the bounced address is not sent at all
    api.post(f"/programs/{program['id']}/rewards",
             {"name": "Free coffee", "kind": "free_item", "points_cost": 10})
    assert api.post(f"/members/{gone['id']}/earn", {"points": 10}).status_code in (200, 201)
    sweep(app)
    assert len(smtp.messages()) == 2
    assert [m["kind"] + ":" + m["status"] for m in
            api.get(f"/members/{gone['id']}/mails").get_json()["mails"]] == [
        "reward_available:suppressed", "welcome:bounced"]


def test_two_sweeps_at_once_never_send_a_mail_twice(make_app: Any, smtp: SmtpStandIn,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    app = mail_app(make_app, smtp)
    api, program = setup_program(app)
    for i in range(24):
        enroll(api, program, f"c{i}@example.test")
    with app.app_context():
        from app.outbox.tasks import relay
        relay()
        db.session.remove()
    monkeypatch.setattr(tasks, "MAX_BATCH", 3)  # many small claims, interleaved
    errors: list[BaseException] = []

    def run() -> None:
        try:
            sweep(app)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors
    ids = [m["Message-ID"] for m in smtp.messages()]
    assert len(ids) == 24 and len(set(ids)) == 24
    assert {r.status for r in mails(app)} == {"sent"}


def test_rate_limit_is_shared_by_concurrent_sweeps(make_app: Any, smtp: SmtpStandIn) -> None:
    app = mail_app(make_app, smtp, MAIL_RATE=20.0)
    api, program = setup_program(app)
    for i in range(20):
        enroll(api, program, f"r{i}@example.test")
    with app.app_context():
        from app.outbox.tasks import relay
        relay()
        db.session.remove()
    started = time.monotonic()
    threads = [threading.Thread(target=sweep, args=(app,)) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    elapsed = time.monotonic() - started
    assert len(smtp.messages()) == 20
    assert elapsed >= 0.9, elapsed  # 20 mails at 20/s: the two sweeps shared one budget


def test_default_writes_eml_files_to_the_data_folder(make_app: Any, tmp_path: Path) -> None:
    app = mail_app(make_app, None)
    api, program = setup_program(app)
    enroll(api, program, "file@example.test", language="vi")
    sweep(app)
    folder = Path(app.config["SETTINGS"].DATA_DIR) / "mail"
    files = sorted(folder.iterdir())
    assert [f.suffix for f in files] == [".eml"]  # no temporary file left behind
    from email import message_from_bytes, policy
    message = message_from_bytes(files[0].read_bytes(), policy=policy.default)
    assert message["To"] == "file@example.test"
    assert message["Subject"] == EXPECTED_WELCOME["vi"][0]


def test_members_without_address_or_switched_off_get_no_mail(make_app: Any,
                                                              smtp: SmtpStandIn) -> None:
    app = mail_app(make_app, smtp)
    api, program = setup_program(app)
    assert api.get(f"/programs/{program['id']}/mail-settings").get_json() == {
        "welcome": True, "reward_available": True, "tier_near": True, "points_expiring": True}
    resp = api.patch(f"/programs/{program['id']}/mail-settings", {"welcome": False})
    assert resp.status_code == 200 and resp.get_json()["welcome"] is False
    assert api.patch(f"/programs/{program['id']}/mail-settings",
                     {"spam": True}).status_code == 422
    enroll(api, program, "quiet@example.test")
    sweep(app)
    assert smtp.messages() == [] and mails(app) == []


def earn(api: Api, member: dict[str, Any], points: int) -> None:
    """Credit points through the API."""
    resp = api.post(f"/members/{member['id']}/earn", {"points": points})
    assert resp.status_code in (200, 201), resp.get_json()


def test_reward_available_once_per_crossing(make_app: Any, smtp: SmtpStandIn) -> None:
    app = mail_app(make_app, smtp)
    api, program = setup_program(app)
    api.patch(f"/programs/{program['id']}/mail-settings", {"welcome": False})
    for cost, name in ((100, "Free coffee"), (150, "Free cake"), (1000, "Mug")):
        api.post(f"/programs/{program['id']}/rewards",
                 {"name": name, "kind": "free_item", "points_cost": cost})
    member = enroll(api, program, "rw@example.test", language="th")
    earn(api, member, 60)
    earn(api, member, 100)  # 60 -> 160: crosses 100 and 150, one mail naming the dearer
    earn(api, member, 10)
    sweep(app)
    [message] = smtp.messages()
    assert message["Subject"] == "มีรางวัลรอคุณอยู่: Free cake"
    assert "160" in parts(message)[0]
    sweep(app)
    assert len(smtp.messages()) == 1


def test_close_to_next_tier_once(make_app: Any, smtp: SmtpStandIn) -> None:
    app = mail_app(make_app, smtp)
    api, program = setup_program(app)
    api.patch(f"/programs/{program['id']}/mail-settings", {"welcome": False})
    api.post(f"/programs/{program['id']}/tiers", {"name": "Gold", "threshold": "100"})
    member = enroll(api, program, "tn@example.test")
    earn(api, member, 50)  # far
    earn(api, member, 35)  # 85: 15 to go, within 20%
    earn(api, member, 5)  # still close: no second mail
    sweep(app)  # the events are relayed now: the mail tells the latest standing (90)
    [message] = smtp.messages()
    assert message["Subject"] == "You are close to Gold"
    assert "Only 10 points more to Gold" in parts(message)[1]


def test_points_expiring_soon_with_number_and_date(make_app: Any, smtp: SmtpStandIn) -> None:
    app = mail_app(make_app, smtp)
    api, program = setup_program(app)
    api.patch(f"/programs/{program['id']}/rules", {"expiry_days": 10,
                                                   "expiring_soon_days": 30})
    api.patch(f"/programs/{program['id']}/mail-settings", {"welcome": False})
    member = enroll(api, program, "ex@example.test", language="ms")
    quiet = enroll(api, program, "q@example.test")
    earn(api, member, 40)
    earn(api, member, 2)
    earn(api, quiet, 5)
    with app.app_context():
        zone = program_zone(db.session.get(Program, program["id"]))  # UTC unless it has one
        day = (utcnow() + timedelta(days=10)).astimezone(zone).date().isoformat()
        assert tasks.queue_expiring_mails() == 2
        db.session.commit()
        assert tasks.queue_expiring_mails() == 0  # once per member and day
        db.session.remove()
    api.patch(f"/programs/{program['id']}/mail-settings", {"points_expiring": False})
    sweep(app)
    got = {str(m["To"]): m for m in smtp.messages()}
    assert set(got) == {"ex@example.test", "q@example.test"}
    assert got["ex@example.test"]["Subject"] == f"42 mata akan tamat tempoh pada {day}"
    assert got["q@example.test"]["Subject"] == f"5 points expire on {day}"


def test_points_expiring_switched_off(make_app: Any, smtp: SmtpStandIn) -> None:
    app = mail_app(make_app, smtp)
    api, program = setup_program(app)
    api.patch(f"/programs/{program['id']}/rules", {"expiry_days": 10})
    api.patch(f"/programs/{program['id']}/mail-settings",
              {"welcome": False, "points_expiring": False})
    earn(api, enroll(api, program, "off@example.test"), 40)
    with app.app_context():
        assert tasks.queue_expiring_mails() == 0
        db.session.remove()


def test_unsubscribe_links_refuse_forged_tokens(app: Flask, client: Any) -> None:
    assert client.get("/mail/unsubscribe/forged.token").status_code == 404
    assert client.post("/mail/unsubscribe/forged.token").status_code == 404
    with app.app_context():
        from app.mail.suppressions import unsubscribe_token
        assert client.get(f"/mail/unsubscribe/{unsubscribe_token(999)}").status_code == 404


def test_unsubscribe_page_in_the_members_language(make_app: Any, smtp: SmtpStandIn) -> None:
    app = mail_app(make_app, smtp)
    api, program = setup_program(app)
    enroll(api, program, "thai@example.test", language="th")
    sweep(app)
    [message] = smtp.messages()
    link = next(u for u in links(message) if "/mail/unsubscribe/" in u)
    page = app.test_client().get(urlsplit(link).path).get_data(as_text=True)
    assert '<html lang="th">' in page and "ยกเลิกการรับอีเมล" in page
    done = app.test_client().post(urlsplit(link).path).get_data(as_text=True)
    assert "คุณจะไม่ได้รับอีเมลจาก Bean There Rewards ที่ thai@example.test อีก" in done


def test_suppression_api(api: Api, other_api: Api) -> None:
    headers = {"Idempotency-Key": "sup-1"}
    first = api.post("/suppressions", {"email": "Spam@Example.test"}, headers=headers)
    assert first.status_code == 201
    assert first.get_json()["email"] == "spam@example.test"
    assert first.get_json()["reason"] == "manual"
    again = api.post("/suppressions", {"email": "Spam@Example.test"}, headers=headers)
    assert again.get_json() == first.get_json()
    assert api.post("/suppressions", {"email": "nope"}).status_code == 422
    assert api.post("/suppressions", {"email": "a@b.test", "reason": "x"}).status_code == 422
    assert api.get("/suppressions").get_json()["total"] == 1
    assert other_api.get("/suppressions").get_json()["total"] == 0
    assert other_api.client.delete("/api/v1/suppressions/spam@example.test",
                                   headers=other_api.headers).status_code == 404
    gone = api.client.delete("/api/v1/suppressions/spam@example.test", headers=api.headers)
    assert gone.status_code == 200 and api.get("/suppressions").get_json()["total"] == 0


def test_a_known_address_signing_up_again_gets_its_card_link_once_an_hour(
        make_app: Any, smtp: SmtpStandIn) -> None:
    app = mail_app(make_app, smtp)
    api, program = setup_program(app)
    member = enroll(api, program, "ann@example.test", name="Ann Lee")
    client = app.test_client()
    for _ in range(3):  # the signup page, with an address already enrolled
        page = client.post(f"/join/{program['id']}", data={"email": "ann@example.test"})
        assert page.status_code == 200
    assert sweep(app) == 2  # the welcome mail, and one resend (not two)
    assert sweep(app) == 0
    welcome, resend = smtp.messages()
    assert resend["Subject"] == welcome["Subject"]
    assert f"{BASE_URL}/cards/{card_token(member)}" in links(resend)


def test_a_chunk_skips_a_suppressed_address_and_sends_around_a_deferred_one(
        make_app: Any, smtp: SmtpStandIn) -> None:
    app = mail_app(make_app, smtp)  # MAIL_RATE 1000/s: the 7 mails go as one chunk
    api, program = setup_program(app)
    assert api.post("/suppressions", {"email": "c2@example.test"}).status_code == 201
    smtp.refuse = {"c4@example.test": "451 4.7.1 Try again later"}
    members = {f"c{i}@example.test": enroll(api, program, f"c{i}@example.test",
                                            name=f"Customer {i}",
                                            language=("th" if i % 2 else "en"))
               for i in range(7)}
    assert sweep(app) == 7
    got = {str(m["To"].addresses[0].addr_spec): m for m in smtp.messages()}
    assert sorted(got) == [f"c{i}@example.test" for i in (0, 1, 3, 5, 6)]
    for address, message in got.items():  # each with its own name, card and language
        member = members[address]
        assert f"{BASE_URL}/cards/{card_token(member)}" in links(message)
        assert f"Customer {address[1]}" in parts(message)[0]
        assert message["Content-Language"] == ("th" if int(address[1]) % 2 else "en")
    by_member = {r.member_id: r for r in mails(app)}
    status = {a: (by_member[m["id"]].status, by_member[m["id"]].attempts,
                  by_member[m["id"]].last_error) for a, m in members.items()}
    assert status["c2@example.test"] == ("suppressed", 0, "")
    assert status["c4@example.test"] == ("pending", 1, "recipient deferred (451)")
    assert {status[a] for a in got} == {("sent", 1, "")}
    smtp.refuse = {}
    make_due(app)
    assert sweep(app) == 1  # only the deferred one comes back
    assert sorted(str(m["To"].addresses[0].addr_spec) for m in smtp.messages()) == sorted(
        [*got, "c4@example.test"])


def test_a_renamed_program_mails_its_new_name(make_app: Any, smtp: SmtpStandIn) -> None:
    app = mail_app(make_app, smtp)
    api, program = setup_program(app)
    enroll(api, program, "before@example.test")
    sweep(app)
    resp = api.patch(f"/programs/{program['id']}", {"name": "Bean Here Rewards"})
    assert resp.status_code == 200, resp.get_json()
    enroll(api, program, "after@example.test")
    sweep(app)
    subjects = [m["Subject"] for m in smtp.messages()]
    assert subjects == ["Your Bean There Rewards card is ready",
                        "Your Bean Here Rewards card is ready"]


def test_a_crash_mid_chunk_resends_only_that_chunks_sent_mails(
        make_app: Any, smtp: SmtpStandIn, monkeypatch: pytest.MonkeyPatch) -> None:
    """The documented guarantee: mails are claimed before sending and recorded after their
    chunk; a worker dying mid-chunk sends the mails it had sent once more when the lease
    ends, and no mail recorded as sent goes again."""
    from app.mail.transport import SmtpTransport

    app = mail_app(make_app, smtp)
    api, program = setup_program(app)
    enroll(api, program, "early@example.test")
    sweep(app)  # recorded as sent before the crash
    for i in range(5):
        enroll(api, program, f"k{i}@example.test")
    original = SmtpTransport.send

    def dies_after_three(self: SmtpTransport, item: Any, name: str) -> Any:
        outcome = original(self, item, name)
        if len(smtp.messages()) == 4:
            raise RuntimeError("the worker died")
        return outcome

    monkeypatch.setattr(SmtpTransport, "send", dies_after_three)
    with pytest.raises(RuntimeError):
        sweep(app)
    monkeypatch.setattr(SmtpTransport, "send", original)
    crashed = [str(m["To"]) for m in smtp.messages()[1:]]
    assert len(crashed) == 3
    assert sweep(app) == 0  # still claimed: nothing goes until the lease ends
    rows = [r for r in mails(app) if r.status == "pending"]
    assert len(rows) == 5 and all(r.next_attempt_at > utcnow() + timedelta(seconds=500)
                                  for r in rows)
    make_due(app)
    assert sweep(app) == 5
    assert sweep(app) == 0
    received = [str(m["To"]) for m in smtp.messages()]
    assert received.count("early@example.test") == 1
    assert sorted(r for r in received if received.count(r) == 2) == sorted(crashed * 2)
    assert {r.status for r in mails(app)} == {"sent"}


def test_a_member_whose_address_went_is_skipped_in_a_chunk(make_app: Any,
                                                           smtp: SmtpStandIn) -> None:
    from app.models import Member
    from app.outbox.tasks import relay

    app = mail_app(make_app, smtp)
    api, program = setup_program(app)
    members = [enroll(api, program, f"s{i}@example.test") for i in range(3)]
    with app.app_context():
        relay()  # the mails are queued while the addresses exist
        db.session.execute(update(Member).where(Member.id == members[1]["id"])
                           .values(email=None))
        db.session.commit()
        db.session.remove()
    assert sweep(app) == 3
    assert sorted(str(m["To"]) for m in smtp.messages()) == ["s0@example.test",
                                                             "s2@example.test"]
    assert [(r.status, r.last_error) for r in mails(app)] == [
        ("sent", ""), ("skipped", "no address"), ("sent", "")]
