"""The card designer: templates, the live preview, design checks, drafts and publishing."""

from __future__ import annotations

import io
import re
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from PIL import Image

from app.extensions import db
from app.models import AppleDevice, AppleRegistration, Member, Program, ProgramImage
from tests.conftest import BASE_URL, Api
from tests.dashboard_helpers import csrf_of, link_in, log_in, mails, new_owner, post

FORM = {"name": "Bean Rewards", "organization_name": "Bean There", "description": "Card",
        "logo_text": "Bean There", "background_color": "#4B2E1E",
        "foreground_color": "#FFFFFF", "label_color": "#F3D9B1", "points_label": "Points",
        "barcode_format": "qr", "language": "en", "back_text": "Earn a point per dollar.",
        "terms": "No cash value."}


def designer(app: Flask, client: FlaskClient) -> tuple[str, str]:
    """Log in as the owner, create a cafe card from the template; (designer path, API key)."""
    key = new_owner(app)
    log_in(client)
    made = post(client, "/design", {"name": "Bean Rewards", "template": "cafe"}, page="/design")
    assert made.status_code == 302, made.get_data(True)
    return made.headers["Location"], key


def preview(client: FlaskClient, path: str, **changes: Any) -> dict[str, Any]:
    """The preview endpoint's answer for the form with these changes."""
    token = csrf_of(client, path)
    data = {**FORM, "languages": ["en"], **changes}
    resp = client.post(path + "/preview", data=data, headers={"X-CSRF-Token": token})
    assert resp.status_code == 200
    return dict(resp.get_json())


def png(width: int, height: int) -> bytes:
    """A PNG of this size."""
    out = io.BytesIO()
    Image.new("RGB", (width, height), (200, 40, 40)).save(out, "PNG")
    return out.getvalue()


def test_a_card_starts_from_a_template(app: Flask, client: FlaskClient) -> None:
    path, _key = designer(app, client)
    assert re.fullmatch(r"/design/\d+", path)
    html = client.get(path).get_data(as_text=True)
    assert 'value="Bean There Cafe"' in html  # the template's organisation name
    assert 'data-preview="apple-front"' in html and 'data-preview="google"' in html
    assert "Bean Rewards" in client.get("/").get_data(as_text=True)
    bad = post(client, "/design", {"name": "", "template": "cafe"}, page="/design")
    assert bad.status_code == 422 and "Must not be empty." in bad.get_data(True)


def test_the_preview_follows_colours_and_labels(app: Flask, client: FlaskClient) -> None:
    path, _key = designer(app, client)
    answer = preview(client, path, background_color="#0A5C36", points_label="Stars")
    assert answer["errors"] == {}
    html = answer["preview"]
    assert "background: #0A5C36" in html and ">Stars<" in html
    assert html.count('data-preview="apple-back"') == 1 and "No cash value." in html


def test_the_preview_shows_each_language(app: Flask, client: FlaskClient) -> None:
    path, _key = designer(app, client)
    answer = preview(client, path, languages=["en", "th"], **{"tr-th-terms": "ไม่มีมูลค่า"})
    html = answer["preview"]
    assert 'data-lang="th"' in html and "ไม่มีมูลค่า" in html and "คะแนน" in html
    checks = answer["checks"]
    assert 'data-check="tr-th-back_text"' in checks  # not translated yet
    assert 'data-check="tr-th-terms"' not in checks


def test_design_checks_fire(app: Flask, client: FlaskClient) -> None:
    path, _key = designer(app, client)
    assert 'data-check="foreground_color"' not in preview(client, path)["checks"]
    checks = preview(client, path, foreground_color="#5A3D2E",
                     logo_text="Bean There Cafe and Roastery")["checks"]
    assert 'data-check="foreground_color"' in checks and "Text colour: low contrast" in checks
    assert 'data-check="logo_text"' in checks


def test_preview_errors_name_the_field(app: Flask, client: FlaskClient) -> None:
    path, _key = designer(app, client)
    answer = preview(client, path, background_color="brown")
    assert "preview" not in answer and "#4B2E1E" in answer["errors"]["background_color"]


def test_a_refused_save_shows_the_error_next_to_the_field(app: Flask,
                                                          client: FlaskClient) -> None:
    path, _key = designer(app, client)
    resp = client.post(path, data={**FORM, "points_label": "", "csrf_token":
                                   csrf_of(client, path)})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422
    assert re.search(r'id="e-points_label" role="alert" >\s*Must not be '
                     r'empty', html)


def test_draft_then_publish_moves_the_pass_version(app: Flask, client: FlaskClient) -> None:
    path, key = designer(app, client)
    program_id = int(path.rsplit("/", 1)[1])
    api = Api(app.test_client(), key)
    member = api.post(f"/programs/{program_id}/members", {"email": "ann@example.test"})
    assert member.status_code == 201
    with app.app_context():
        row = db.session.get(Member, member.get_json()["id"])
        assert row is not None
        device = AppleDevice(library_id="dev-1", push_token="00" * 32)
        db.session.add(device)
        db.session.flush()
        db.session.add(AppleRegistration(device_id=device.id, member_id=row.id,
                                         pushed_version=row.pass_version))
        db.session.commit()
        before = row.pass_version
    saved = client.post(path, data={**FORM, "points_label": "Stars", "languages": ["en", "th"],
                                    "tr-th-points_label": "ดาว",
                                    "csrf_token": csrf_of(client, path)})
    assert saved.status_code == 302
    with app.app_context():
        program = db.session.get(Program, program_id)
        assert program is not None and program.points_label == "Points"  # a draft only
        assert db.session.get(Member, member.get_json()["id"]).pass_version == before
    review = client.get(path + "/publish").get_data(as_text=True)
    assert "<li>Points label</li>" in review and "1 Apple Wallet devices" in review
    assert "points_label" not in review.split('id="checks"')[0]  # no raw field names
    done = post(client, path + "/publish", page=path + "/publish")
    assert done.status_code == 302 and done.headers["Location"] == path + "/progress"
    with app.app_context():
        program = db.session.get(Program, program_id)
        assert program is not None and program.points_label == "Stars" and not program.draft
        assert program.translations["th"]["Stars"] == "ดาว"
        assert program.design_version == 2
        assert db.session.get(Member, member.get_json()["id"]).pass_version == before + 1
    state = client.get(path + "/progress?format=json").get_json()
    assert state["apple"] == {"done": 0, "total": 1} and not state["finished"]
    assert api.get(f"/programs/{program_id}").get_json()["points_label"] == "Stars"


def test_images_go_into_the_draft_then_publish(app: Flask, client: FlaskClient) -> None:
    path, _key = designer(app, client)
    program_id = int(path.rsplit("/", 1)[1])
    token = csrf_of(client, path)
    bad = client.post(path + "/images/strip", data={"csrf_token": token, "image": (
        io.BytesIO(b"GIF89a not an image"), "x.gif")}, headers={"X-Requested-With": "fetch"})
    assert bad.status_code == 422 and bad.get_json()["errors"]["strip"]
    small = client.post(path + "/images/strip", data={"csrf_token": token, "image": (
        io.BytesIO(png(400, 400)), "square.png")}, headers={"X-Requested-With": "fetch"})
    assert small.status_code == 200
    checks = preview(client, path)["checks"]
    assert 'data-check="strip"' in checks and "cropped" in checks
    with app.app_context():
        old = db.session.query(ProgramImage).filter_by(program_id=program_id,
                                                       filename="strip@2x.png").one().data
    shown = client.get(path + "/images/strip.png")
    assert shown.status_code == 200 and shown.data != old  # the draft's strip
    post(client, path + "/publish", page=path + "/publish")
    with app.app_context():
        new = db.session.query(ProgramImage).filter_by(program_id=program_id,
                                                       filename="strip@2x.png").one().data
    assert new == shown.data


def test_a_cashier_cannot_reach_any_designer_page(app: Flask, client: FlaskClient) -> None:
    path, _key = designer(app, client)
    post(client, "/staff/invite", {"email": "c@example.test", "role": "cashier"}, page="/staff")
    invite = link_in(mails(app)[-1], BASE_URL)
    cashier = app.test_client()
    cashier.post(invite, data={"csrf_token": csrf_of(cashier, invite),
                               "password": "cashier password"})
    token = csrf_of(cashier, "/")
    for method, target in (("get", path), ("post", path + "/preview"),
                           ("post", path + "/publish"), ("get", path + "/progress")):
        resp = getattr(cashier, method)(target, data={"csrf_token": token})
        assert resp.status_code == 403, target


def test_the_merchant_sets_the_currency_in_the_designer(app: Flask,
                                                        client: FlaskClient) -> None:
    path, key = designer(app, client)
    program_id = int(path.rsplit("/", 1)[1])
    html = client.get(path).get_data(as_text=True)
    assert 'id="f-currency"' in html and '<option value="THB"' in html
    bad = client.post(path, data={**FORM, "currency": "BAHT",
                                  "csrf_token": csrf_of(client, path)})
    assert bad.status_code == 422
    assert re.search(r'id="e-currency" role="alert" >\s*Must be a 3-letter currency code',
                     bad.get_data(as_text=True))
    first = client.post(path, data={**FORM, "languages": ["en", "th"], "tr-th-terms": "ไม่มี",
                                    "csrf_token": csrf_of(client, path)})
    assert first.status_code == 302
    post(client, path + "/publish", page=path + "/publish")
    saved = client.post(path, data={**FORM, "currency": "THB", "languages": ["en", "th"],
                                    "tr-th-terms": "ไม่มี", "tr-th-points_label": "คะแนน",
                                    "csrf_token": csrf_of(client, path)})
    assert saved.status_code == 302
    review = client.get(path + "/publish").get_data(True)
    listed = re.findall(r"<li>([^<]*)</li>", review.split('<ul class="changed">')[1]
                        .split("</ul>")[0])
    assert listed == ["Currency"]  # the Thai points label was Thai already: no change
    assert "translations" not in review.split('id="checks"')[0]
    done = post(client, path + "/publish", page=path + "/publish")
    progress = client.get(done.headers["Location"]).get_data(True)
    assert "Publishing the new design" in progress and "version" not in progress.split("<h1>")[1]
    api = Api(app.test_client(), key)
    assert api.get(f"/programs/{program_id}").get_json()["currency"] == "THB"
    assert 'value="THB" selected' in client.get(path).get_data(as_text=True)


def test_undersized_logo_and_icon_are_reported(app: Flask, client: FlaskClient) -> None:
    path, _key = designer(app, client)
    token = csrf_of(client, path)
    for kind in ("logo", "icon"):
        sent = client.post(path + f"/images/{kind}", data={"csrf_token": token, "image": (
            io.BytesIO(png(40, 40)), "tiny.png")}, headers={"X-Requested-With": "fetch"})
        assert sent.status_code == 200
    checks = preview(client, path)["checks"]
    assert 'data-check="logo"' in checks and "40×40" in checks and "480×150" in checks
    assert 'data-check="icon"' in checks and "87×87" in checks
    assert "No problems found" not in checks
    html = client.get(path).get_data(as_text=True)
    assert 'data-min="480×150"' in html and 'data-small=' in html and 'data-not-image=' in html


def test_a_file_that_is_not_an_image_is_refused_with_a_clear_message(
        app: Flask, client: FlaskClient) -> None:
    path, _key = designer(app, client)
    token = csrf_of(client, path)
    bad = client.post(path + "/images/logo", data={"csrf_token": token, "image": (
        io.BytesIO(b"%PDF-1.4 fake"), "menu.pdf")}, headers={"X-Requested-With": "fetch"})
    assert bad.status_code == 422 and "PNG or JPEG" in bad.get_json()["errors"]["logo"]
    plain = client.post(path + "/images/logo", data={"csrf_token": token, "image": (
        io.BytesIO(b"%PDF-1.4 fake"), "menu.pdf")})
    assert plain.status_code == 422 and "PNG or JPEG" in plain.get_data(True)
