"""The wallet status panel in every dashboard language: each problem's title and detail (which
certificate, its expiry date, what to set) read in the merchant's language, values filled in."""

from __future__ import annotations

import html
import re
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from flask import Flask
from flask.testing import FlaskClient

from app.dashboard import status
from app.dashboard.i18n import LANGUAGES, translate, translate_plural
from app.i18n import catalog
from tests.dashboard_helpers import log_in, new_owner, post
from tests.test_certs import DAY, NOW, ec_key, issue, name, write_cert, write_key

# A word each language's sentence about a certificate's expiry must have: "days".
DAYS_WORD = {"en": "days", "th": "วัน", "zh-Hant": "天", "vi": "ngày", "ms": "hari"}

CATALOG = catalog()


def owner(app: Flask) -> FlaskClient:
    """A client logged in as the merchant's owner."""
    new_owner(app)
    client = app.test_client()
    assert log_in(client).status_code == 302
    return client


def panel(client: FlaskClient, lang: str, path: str = "/status") -> dict[str, str]:
    """{problem key: its visible text} of the panel, read by the owner in `lang`."""
    assert post(client, "/language", {"lang": lang, "next": path}).status_code == 302
    page = client.get(path).get_data(as_text=True)
    assert f'lang="{lang}"' in page
    items = re.findall(r'data-problem="(\w+)">(.*?)</li>', page, re.S)
    return {key: " ".join(html.unescape(re.sub(r"<[^>]+>", " ", body)).split())
            for key, body in items}


def expected(problem: status.Problem, lang: str) -> tuple[str, str]:
    """The problem's title and detail as the catalog says them in `lang`."""
    if problem.plural:
        return translate(problem.title, lang), translate_plural(
            problem.detail, problem.plural, problem.count, lang, **problem.values)
    return translate(problem.title, lang), translate(problem.detail, lang, **problem.values)


def check(shown: dict[str, str], found: list[status.Problem], lang: str) -> None:
    """Each problem shows its title and detail in `lang` (not in English, unless `lang` is),
    with every value in the sentence."""
    for problem in found:
        text = shown[problem.key]
        title, detail = expected(problem, lang)
        assert title in text and detail in text, (lang, problem.key, text)
        assert all(value in text for value in problem.values.values()), (lang, text)
        if lang != "en":
            assert problem.detail in CATALOG and problem.title in CATALOG
            english = translate(problem.detail, "en", **problem.values)
            assert detail != english and english not in text, (lang, problem.key)
            assert translate(problem.title, "en") not in text, (lang, problem.key)


def test_every_panel_sentence_is_in_the_catalog() -> None:
    for detail in status.DETAILS:
        assert set(CATALOG[detail]) == set(LANGUAGES) - {"en"}, detail


def test_dev_certificate_google_off_and_mail_folder_in_every_language(app: Flask) -> None:
    client = owner(app)
    with app.app_context():
        found = status.problems()
    assert [p.key for p in found] == ["dev_certificate", "google_off", "mail_folder"]
    for lang in LANGUAGES:
        shown = panel(client, lang)
        check(shown, found, lang)
        assert "WALLETPASS_APPLE_CERT" in shown["dev_certificate"]
        assert "WALLETPASS_GOOGLE_ISSUER_ID" in shown["google_off"]
        assert "WALLETPASS_SMTP_URL" in shown["mail_folder"]
    # the home page carries the same panel
    check(panel(client, "th", "/"), found, "th")


def chain(tmp_path: Path, leaf_days: int, wwdr_days: int) -> dict[str, str]:
    """Settings for a signing identity that is not the development one (its leaf and WWDR
    valid for the days given)."""
    root = issue(name("Test Root"), ec_key(), ca=True, end=NOW + 3650 * DAY)
    wwdr = issue(name("Test WWDR", ou="G4"), ec_key(), root, ca=True, end=NOW + wwdr_days * DAY)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    leaf = issue(name("Pass Type ID: test", "pass.test.status", "TEAM123456"), key, wwdr,
                 end=NOW + leaf_days * DAY)
    return {"APPLE_CERT": str(write_cert(tmp_path / "cert.pem", leaf.cert)),
            "APPLE_KEY": str(write_key(tmp_path / "key.pem", leaf.key)),
            "APPLE_WWDR": str(write_cert(tmp_path / "wwdr.pem", wwdr.cert))}


@pytest.mark.parametrize(("leaf_days", "wwdr_days", "names"), [
    (20, 3650, ("pass.test.status",)),
    (400, 15, ("WWDR", "https://www.apple.com/certificateauthority/")),
])
def test_a_certificate_expiring_within_30_days_in_every_language(
        make_app: Any, tmp_path: Path, leaf_days: int, wwdr_days: int,
        names: tuple[str, ...]) -> None:
    app = make_app(**chain(tmp_path, leaf_days, wwdr_days))
    client = owner(app)
    with app.app_context():
        found = status.problems()
    assert found[0].key == "apple_expiring" and "dev_certificate" not in [p.key for p in found]
    days = min(leaf_days, wwdr_days) - 1  # the chain was made a moment ago
    assert found[0].values["days"] in (str(days), str(days + 1))
    date = f"{NOW + min(leaf_days, wwdr_days) * DAY:%Y-%m-%d}"
    for lang in LANGUAGES:
        text = panel(client, lang)["apple_expiring"]
        check({"apple_expiring": text}, found[:1], lang)
        assert date in text and DAYS_WORD[lang] in text
        assert all(n in text for n in names), (lang, text)


# How each language says "in 1 day" and "in 2 days" in the expiry sentence (one form in Thai,
# Chinese, Vietnamese and Malay; English says "day" for one).
IN_DAYS = {"en": ("(in 1 day)", "(in 2 days)"), "th": ("1 วัน", "2 วัน"),
           "zh-Hant": ("1 天", "2 天"), "vi": ("1 ngày", "2 ngày"), "ms": ("1 hari", "2 hari")}


def test_a_certificate_expiring_tomorrow_reads_right_in_every_language(
        make_app: Any, tmp_path: Path) -> None:
    """The panel says "in 1 day" (never "in 1 days") and "in 2 days", in all five languages."""
    app = make_app(**chain(tmp_path, 2, 3650))
    client = owner(app)
    with app.app_context():
        problem = status.problems()[0]
    left = problem.count
    assert problem.key == "apple_expiring" and left in (1, 2)
    for lang in LANGUAGES:
        text = panel(client, lang)["apple_expiring"]
        assert IN_DAYS[lang][left - 1] in text, (lang, text)
        assert "1 days" not in text
    for lang in LANGUAGES:  # both counts through the same lookup the panel uses
        with app.test_request_context():
            one, two = (translate_plural(PASS_TYPE[0], PASS_TYPE[1], n, lang, days=str(n),
                                         date="2027-01-01", pass_type_id="pass.x")
                        for n in (1, 2))
        assert IN_DAYS[lang][0] in one and IN_DAYS[lang][1] in two, (lang, one, two)
        assert "1 days" not in one


PASS_TYPE = status.PASS_TYPE_EXPIRING
