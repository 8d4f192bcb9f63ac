"""The JSON API: programs, members, auth, bad input, tenant isolation, OpenAPI."""

from __future__ import annotations

import io
import re
from typing import Any

import pytest
from flask import Flask
from PIL import Image
from sqlalchemy import func, select

from app.extensions import db
from app.models import Member, Program
from app.updates.changes import touch_pass
from tests.conftest import BASE_URL, Api


def count(app: Flask, model: Any) -> int:
    """Rows of a model in the database."""
    with app.app_context():
        return int(db.session.scalar(select(func.count()).select_from(model)) or 0)


def error_of(resp: Any) -> dict[str, str]:
    """The error object of a JSON error answer (asserting its shape)."""
    body = resp.get_json()
    assert set(body) == {"error"}, body
    assert body["error"]["code"] and body["error"]["message"], body
    return dict(body["error"])


def test_create_program_from_template_defaults(api: Api) -> None:
    resp = api.post("/programs", {"name": "Bean There Rewards", "template": "cafe"})
    assert resp.status_code == 201
    body = resp.get_json()
    assert isinstance(body["id"], int)
    assert body["name"] == "Bean There Rewards"
    assert body["template"] == "cafe"
    assert re.fullmatch(r"#[0-9A-F]{6}", body["background_color"])
    assert body["organization_name"] and body["description"]
    assert {"icon.png", "icon@2x.png", "icon@3x.png", "logo.png", "strip@3x.png"} <= set(
        body["images"])


def test_program_overrides_and_patch(api: Api, program: dict[str, Any]) -> None:
    resp = api.patch(f"/programs/{program['id']}", {"background_color": "#112233",
                                                    "points_label": "Beans"})
    assert resp.status_code == 200
    body = resp.get_json()
    assert body["background_color"] == "#112233"
    assert body["points_label"] == "Beans"
    assert body["design_version"] == program["design_version"] + 1
    assert api.get(f"/programs/{program['id']}").get_json()["points_label"] == "Beans"


def test_enroll_member_and_show(api: Api, program: dict[str, Any]) -> None:
    resp = api.post(f"/programs/{program['id']}/members",
                    {"email": "Ann@Example.test", "name": "Ann Lee"})
    assert resp.status_code == 201
    body = resp.get_json()
    assert body["points"] == 0
    assert re.fullmatch(r"[0-9a-f]{32}", body["serial_number"])
    assert body["email"] == "ann@example.test"
    assert body["links"]["apple"].startswith(BASE_URL + "/cards/")
    assert body["links"]["apple"].endswith("/apple.pkpass")
    shown = api.get(f"/members/{body['id']}").get_json()
    assert shown["serial_number"] == body["serial_number"]


def test_pass_download_needs_only_the_link(api: Api, client: Any, member: dict[str, Any]
                                           ) -> None:
    path = member["links"]["apple"].removeprefix(BASE_URL)
    resp = client.get(path)
    assert resp.status_code == 200
    assert resp.mimetype == "application/vnd.apple.pkpass"
    assert resp.headers["Last-Modified"]
    assert resp.data[:2] == b"PK"
    token = path.split("/")[2]
    bad = path.replace(token, token[:-1] + ("A" if token[-1] != "A" else "B"))
    assert client.get(bad).status_code == 404


def test_duplicate_email_conflicts(api: Api, app: Flask, program: dict[str, Any],
                                   member: dict[str, Any]) -> None:
    resp = api.post(f"/programs/{program['id']}/members", {"email": "ANN@example.test"})
    assert resp.status_code == 409
    assert error_of(resp)["code"] == "already_enrolled"
    assert count(app, Member) == 1


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer nope"},
                                     {"Authorization": "Basic abc"}])
def test_auth_required(client: Any, headers: dict[str, str], app: Flask) -> None:
    resp = client.post("/api/v1/programs", json={"name": "x", "template": "cafe"},
                       headers=headers)
    assert resp.status_code == 401
    error_of(resp)
    assert count(app, Program) == 0


BAD_PROGRAMS = [
    ({"template": "cafe"}, 422),
    ({"name": "x"}, 422),
    ({"name": 5, "template": "cafe"}, 422),
    ({"name": "x", "template": "no-such"}, 422),
    ({"name": "x", "template": "../etc"}, 422),
    ({"name": "x", "template": "cafe", "background_color": "red"}, 422),
    ({"name": "x", "template": "cafe", "barcode_format": "ean13"}, 422),
    ({"name": "x", "template": "cafe", "bogus": 1}, 422),
    ({"name": "", "template": "cafe"}, 422),
    ({"name": "x" * 201, "template": "cafe"}, 422),
    ({"name": "x", "template": "cafe", "locations": [{"latitude": 91, "longitude": 0}]}, 422),
    ({"name": "x", "template": "cafe", "translations": {"fr": {}}}, 422),
    ({"name": "x", "template": "cafe",
      "translations": {"th": {"You now have %@ points": "no placeholder"}}}, 422),
    ({"name": None, "template": "cafe"}, 422),
]


@pytest.mark.parametrize(("body", "status"), BAD_PROGRAMS)
def test_bad_program_bodies(api: Api, app: Flask, body: dict[str, Any], status: int) -> None:
    resp = api.post("/programs", body)
    assert resp.status_code == status, resp.get_json()
    assert error_of(resp)["message"]
    assert count(app, Program) == 0


def test_non_json_and_malformed_bodies(api: Api, app: Flask) -> None:
    resp = api.client.post("/api/v1/programs", data="name=x", headers={
        **api.headers, "Content-Type": "application/x-www-form-urlencoded"})
    assert resp.status_code == 415
    resp = api.client.post("/api/v1/programs", data="{not json", headers={
        **api.headers, "Content-Type": "application/json"})
    assert resp.status_code == 400
    assert error_of(resp)["code"] == "invalid_json"
    resp = api.post("/programs", ["a", "list"])
    assert resp.status_code == 400
    assert count(app, Program) == 0


def test_oversized_body(api: Api, app: Flask) -> None:
    big = {"name": "x", "template": "cafe", "back_text": "y" * 300_000}
    resp = api.post("/programs", big)
    assert resp.status_code == 413
    error_of(resp)
    assert count(app, Program) == 0


def test_bad_member_bodies(api: Api, app: Flask, program: dict[str, Any]) -> None:
    url = f"/programs/{program['id']}/members"
    for body in ({}, {"email": "not-an-email"}, {"email": 3}, {"email": "a@b.co", "x": 1},
                 {"email": "a@b.co", "language": "klingon"}, {"email": "a@b.co", "name": 7}):
        resp = api.post(url, body)
        assert resp.status_code == 422, (body, resp.get_json())
        error_of(resp)
    assert count(app, Member) == 0
    resp = api.post(url, {"email": "b@b.co", "language": "zh-TW"})
    assert resp.status_code == 201
    assert resp.get_json()["language"] == "zh-Hant"


def test_unknown_ids(api: Api) -> None:
    assert api.get("/programs/999999").status_code == 404
    assert api.get("/members/999999").status_code == 404
    assert api.post("/programs/999999/members", {"email": "a@b.co"}).status_code == 404
    assert api.patch("/programs/999999", {"name": "x"}).status_code == 404
    assert api.get("/programs/abc").status_code == 404


def test_other_merchants_ids_are_invisible(api: Api, other_api: Api, app: Flask,
                                           program: dict[str, Any], member: dict[str, Any]
                                           ) -> None:
    pid, mid = program["id"], member["id"]
    assert other_api.get(f"/programs/{pid}").status_code == 404
    assert other_api.get(f"/members/{mid}").status_code == 404
    assert other_api.patch(f"/programs/{pid}", {"name": "Hacked"}).status_code == 404
    assert other_api.post(f"/programs/{pid}/members", {"email": "x@y.co"}).status_code == 404
    png = _png(400, 400)
    assert other_api.put(f"/programs/{pid}/images/logo", data=png,
                         content_type="image/png").status_code == 404
    assert api.get(f"/programs/{pid}").get_json()["name"] == "Bean There Rewards"
    assert count(app, Member) == 1
    assert other_api.get("/programs").get_json() == {"programs": []}


def _png(w: int, h: int, color: tuple[int, int, int] = (200, 30, 30)) -> bytes:
    """A PNG of the given size."""
    buf = io.BytesIO()
    Image.new("RGB", (w, h), color).save(buf, "PNG")
    return buf.getvalue()


def test_image_upload_replaces_and_bumps_passes(api: Api, app: Flask,
                                                program: dict[str, Any],
                                                member: dict[str, Any]) -> None:
    resp = api.put(f"/programs/{program['id']}/images/strip", data=_png(900, 300),
                   content_type="image/png")
    assert resp.status_code == 200, resp.get_json()
    files = resp.get_json()["files"]
    assert set(files) == {"strip.png", "strip@2x.png", "strip@3x.png"}
    after = api.get(f"/members/{member['id']}").get_json()
    assert after["pass_version"] == member["pass_version"] + 1
    multipart = api.put(f"/programs/{program['id']}/images/logo",
                        data={"file": (io.BytesIO(_png(320, 100)), "logo.png")},
                        content_type="multipart/form-data")
    assert multipart.status_code == 200


def test_bad_image_uploads_change_nothing(api: Api, program: dict[str, Any]) -> None:
    before = api.get(f"/programs/{program['id']}").get_json()
    url = f"/programs/{program['id']}/images/logo"
    assert api.put(url, data=b"not an image", content_type="image/png").status_code in (
        400, 415, 422)
    assert api.put(url, data=b"", content_type="image/png").status_code == 400
    assert api.put(f"/programs/{program['id']}/images/banner", data=_png(50, 50),
                   content_type="image/png").status_code == 404
    too_big = b"\x89PNG" + b"0" * (13 * 1024 * 1024)
    assert api.put(url, data=too_big, content_type="image/png").status_code == 413
    after = api.get(f"/programs/{program['id']}").get_json()
    assert after["design_version"] == before["design_version"]


def test_openapi_matches_routes(app: Flask, client: Any) -> None:
    from openapi_spec_validator import validate

    doc = client.get("/api/v1/openapi.json").get_json()
    validate(doc)
    documented = {(path, method) for path, ops in doc["paths"].items() for method in ops
                  if method in {"get", "post", "put", "patch", "delete"}}
    real = set()
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/") or rule.endpoint == "api.openapi":
            continue
        path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule.removeprefix("/api/v1"))
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            real.add((path, method.lower()))
    assert documented == real


def test_design_change_moves_every_last_modified_forward(api: Api, app: Flask,
                                                         program: dict[str, Any],
                                                         member: dict[str, Any]) -> None:
    with app.app_context():
        row = db.session.get(Member, member["id"])
        assert row is not None
        touch_pass(row)
        touch_pass(row)  # twice within a second: now one second ahead of the clock
        db.session.commit()
        before = row.pass_updated_at
    api.patch(f"/programs/{program['id']}", {"points_label": "Beans"})
    after = api.get(f"/members/{member['id']}").get_json()["pass_updated_at"]
    from datetime import datetime

    assert datetime.fromisoformat(after) > before


@pytest.mark.parametrize("translation", ["Giảm 10% còn %@", "%@ %@", "no placeholder"])
def test_translations_that_would_break_passes_are_refused(api: Api, client: Any,
                                                          program: dict[str, Any],
                                                          member: dict[str, Any],
                                                          translation: str) -> None:
    resp = api.patch(f"/programs/{program['id']}",
                     {"translations": {"vi": {"You now have %@ points": translation}}})
    assert resp.status_code == 422
    assert "%@" in error_of(resp)["message"]
    assert client.get(member["links"]["apple"].removeprefix(BASE_URL)).status_code == 200


@pytest.mark.parametrize("raw", ['{"name": "a\\u0000b", "template": "cafe"}',
                                 '{"name": "a\\ud800b", "template": "cafe"}',
                                 "[" * 100_000 + "]" * 100_000])
def test_unstorable_or_absurd_json_is_a_clear_4xx(api: Api, app: Flask, raw: str) -> None:
    resp = api.client.post("/api/v1/programs", data=raw, headers={
        **api.headers, "Content-Type": "application/json"})
    assert resp.status_code in (400, 422)
    error_of(resp)
    assert count(app, Program) == 0
