"""Pure parts of mail: the SMTP URL, build_message, the time zone helper; no server, no app
(except the start-up check). Also renders the welcome mail in Thai and English to
tests/artifacts/ for a look."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from app import create_app
from app.mail import KINDS
from app.mail.channel import program_zone
from app.mail.message import Brand, Mail, build_message
from app.mail.transport import SmtpConfig, SmtpUrlError, parse_smtp_url, redact
from app.wallet.i18n import LANGUAGES
from tests.conftest import app_config

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"


@pytest.mark.parametrize("url, expected", [
    ("", None),
    ("smtp://mail.example.test", SmtpConfig("mail.example.test", 25)),
    ("smtp://mail.example.test:2525", SmtpConfig("mail.example.test", 2525)),
    ("smtp://user:p%40ss@host:587?starttls=true",
     SmtpConfig("host", 587, starttls=True, username="user", password="p@ss")),
    ("smtps://user:pw@host", SmtpConfig("host", 465, implicit_tls=True, username="user",
                                        password="pw")),
    ("smtp://host?starttls=false", SmtpConfig("host", 25)),
])
def test_smtp_urls(url: str, expected: SmtpConfig | None) -> None:
    assert parse_smtp_url(url) == expected


@pytest.mark.parametrize("url", [
    "http://user:hunter2@host", "smtp://user:hunter2@host:99999", "smtp://user:hunter2@",
    "smtps://user:hunter2@host?starttls=true", "smtp://user:hunter2@host?tls=1",
    "smtp://user:hunter2@host?starttls=maybe", "smtp://:hunter2@host",
])
def test_bad_smtp_urls_are_refused_without_showing_the_password(url: str) -> None:
    with pytest.raises(SmtpUrlError) as error:
        parse_smtp_url(url)
    assert "hunter2" not in str(error.value) and "WALLETPASS_SMTP_URL" in str(error.value)


def test_the_config_never_shows_its_password() -> None:
    config = parse_smtp_url("smtp://user:hunter2@host:587?starttls=true")
    assert "hunter2" not in repr(config)
    assert redact("smtp://user:hunter2@host") == "smtp://user:***@host"


def test_start_up_stops_on_a_malformed_smtp_url(tmp_path: Path,
                                                cert_paths: dict[str, Path]) -> None:
    config = app_config(tmp_path, cert_paths, f"sqlite:///{tmp_path / 'x.db'}",
                        SMTP_URL="smtp://user:hunter2@host:notaport")
    with pytest.raises(SmtpUrlError, match="WALLETPASS_SMTP_URL") as error:
        create_app(config)
    assert "hunter2" not in str(error.value)


def sample(kind: str = "welcome", language: str = "en", **params: Any) -> Mail:
    """A mail of a cafe program with its card colours."""
    return Mail(kind=kind, language=language, to="ann@example.test", to_name="Ann\r\nBcc: x",
                sender="no-reply@wallet.example.test", reply_to="owner@beanthere.example",
                brand=Brand(program="Bean There Rewards", sender_name="Bean There Cafe",
                            background="#3b2417", foreground="#fff8ee"),
                card_link="https://wallet.example.test/cards/tok123",
                unsubscribe_link="https://wallet.example.test/mail/unsubscribe/sig.n",
                message_id="<mail.1.1@wallet.example.test>",
                date=datetime(2026, 11, 29, 8, 0, tzinfo=UTC), params=params)


PARAMS = {"welcome": {}, "reward_available": {"reward": "Free cake", "points": "160"},
          "tier_near": {"tier": "Gold", "needed": "10 points"},
          "points_expiring": {"points": "42", "date": "2026-12-09"}}


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_in_every_language(kind: str, language: str) -> None:
    message = build_message(sample(kind, language, **PARAMS[kind]))
    assert message["Content-Language"] == language
    assert message.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in message.iter_parts()] == ["text/plain", "text/html"]
    plain = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    html = message.get_body(("html",)).get_content()  # type: ignore[union-attr]
    assert "{" not in message["Subject"] and "{" not in plain
    for value in PARAMS[kind].values():
        assert value in plain and value in html
    assert "https://wallet.example.test/cards/tok123" in plain
    assert 'href="https://wallet.example.test/cards/tok123"' in html
    assert "background:#3b2417" in html and "color:#fff8ee" in html


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_single_point_reads_in_the_singular(language: str) -> None:
    """'1 point expires', '2 points expire' in English; the other languages' one form."""
    one = build_message(sample("points_expiring", language, points="1", date="2026-09-30"))
    two = build_message(sample("points_expiring", language, points="2", date="2026-09-30"))
    reward = build_message(sample("reward_available", language, points="1", reward="Cake"))
    if language == "en":
        assert one["Subject"] == "1 point expires on 2026-09-30"
        assert two["Subject"] == "2 points expire on 2026-09-30"
        body = one.get_body(("plain",)).get_content()  # type: ignore[union-attr]
        assert "Use it by 2026-09-30: after that day it is gone." in body
        assert "You have 1 point, enough for Cake." in reward.get_body(  # type: ignore[union-attr]
            ("plain",)).get_content()
    else:
        assert "1" in one["Subject"] and "point" not in one["Subject"]
        assert one["Subject"].replace("1", "2") == two["Subject"]


def test_headers_of_a_mail() -> None:
    message = build_message(sample())
    assert message["From"] == "Bean There Cafe <no-reply@wallet.example.test>"
    assert message["Reply-To"] == "owner@beanthere.example"
    assert message["To"] == '"Ann Bcc: x" <ann@example.test>'  # a line break adds no header
    assert message["Bcc"] is None
    assert message["List-Unsubscribe"] == "<https://wallet.example.test/mail/unsubscribe/sig.n>"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message["Message-ID"] == "<mail.1.1@wallet.example.test>"
    assert message["Date"] == "Sun, 29 Nov 2026 08:00:00 +0000"


def test_html_escapes_merchant_text() -> None:
    mail = sample()
    hostile = Mail(**{**mail.__dict__, "brand": Brand(program="<script>x</script>",
                                                        sender_name="S")})
    html = build_message(hostile).get_body(("html",)).get_content()  # type: ignore[union-attr]
    assert "<script>" not in html and "&lt;script&gt;" in html


def test_program_time_zone_helper() -> None:
    late = datetime(2026, 12, 9, 20, 30, tzinfo=UTC)
    assert late.astimezone(program_zone(SimpleNamespace(timezone="Asia/Bangkok"))).date() \
        .isoformat() == "2026-12-10"  # type: ignore[arg-type]
    assert program_zone(SimpleNamespace()) is UTC  # type: ignore[arg-type]
    assert program_zone(SimpleNamespace(timezone="Nowhere/Else")) is UTC  # type: ignore[arg-type]


def test_render_welcome_mails_for_a_look() -> None:
    """Thai and English welcome mails as HTML files in tests/artifacts/ (gitignored)."""
    ARTIFACTS.mkdir(exist_ok=True)
    for lang in ("th", "en"):
        mail = sample("welcome", lang)
        mail = Mail(**{**mail.__dict__, "to_name": "Ann Lee"})
        html = build_message(mail).get_body(("html",)).get_content()  # type: ignore[union-attr]
        path = ARTIFACTS / f"welcome-{lang}.html"
        path.write_text(html, encoding="utf-8")
        assert re.search(r"<h1[^>]*>", path.read_text(encoding="utf-8"))


def test_an_international_address_is_written_in_utf8() -> None:
    from app.mail.message import render
    from app.mail.transport import Outgoing

    mail = Mail(**{**sample().__dict__, "to": "ñandú@example.test", "to_name": "Ñandú",
                   "sender": "posta@correo-ñ.example"})
    data = render(mail)
    assert "To: Ñandú <ñandú@example.test>".encode() in data  # SMTPUTF8: no encoded words
    assert "From: Bean There Cafe <posta@correo-ñ.example>".encode() in data
    assert Outgoing(mail.sender, mail.to, data).international
    message = build_message(mail)
    assert message["To"].addresses[0].addr_spec == "ñandú@example.test"
    assert "https://wallet.example.test/cards/tok123" in \
        message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
