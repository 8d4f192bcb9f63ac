"""The PassKit web service answers as Apple documents, status code by status code."""

from __future__ import annotations

import io
import json
import time
import zipfile
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update
from werkzeug.http import http_date

from app.extensions import db
from app.models import AppleDevice, AppleRegistration, Member
from app.models.base import utcnow
from app.updates.changes import touch_pass
from tests.conftest import Api

DEVICE = "a1b2c3d4e5f60718293a4b5c6d7e8f90"
TOKEN = "ab" * 32


class Device:
    """A fake iPhone speaking the PassKit web service protocol to the app."""

    def __init__(self, client: FlaskClient, pass_type: str, library_id: str = DEVICE,
                 push_token: str = TOKEN) -> None:
        self.client, self.pass_type = client, pass_type
        self.library_id, self.push_token = library_id, push_token

    def _path(self, serial: str) -> str:
        return f"/wallet/v1/devices/{self.library_id}/registrations/{self.pass_type}/{serial}"

    def register(self, serial: str, auth: str, body: Any = None) -> Any:
        """POST the registration."""
        body = {"pushToken": self.push_token} if body is None else body
        return self.client.post(self._path(serial), json=body,
                                headers={"Authorization": f"ApplePass {auth}"})

    def unregister(self, serial: str, auth: str) -> Any:
        """DELETE the registration."""
        return self.client.delete(self._path(serial),
                                  headers={"Authorization": f"ApplePass {auth}"})

    def serials(self, since: str | None = None) -> Any:
        """GET the serial numbers of updated passes."""
        query = {"passesUpdatedSince": since} if since is not None else None
        return self.client.get(
            f"/wallet/v1/devices/{self.library_id}/registrations/{self.pass_type}",
            query_string=query)

    def fetch(self, serial: str, auth: str, since: str | None = None) -> Any:
        """GET the latest pass."""
        headers = {"Authorization": f"ApplePass {auth}"}
        if since:
            headers["If-Modified-Since"] = since
        return self.client.get(f"/wallet/v1/passes/{self.pass_type}/{serial}", headers=headers)


def pass_type_id(app: Flask) -> str:
    """The app's pass type identifier."""
    return str(app.extensions["walletpass.apple"].identity.pass_type_id)


def auth_token(app: Flask, member_id: int) -> str:
    """A member's authenticationToken (what the pass carries)."""
    with app.app_context():
        return str(db.session.get(Member, member_id).auth_token)


def touch(app: Flask, member_id: int) -> None:
    """Change a member's pass (as an earn would) and commit."""
    with app.app_context():
        touch_pass(db.session.get(Member, member_id))
        db.session.commit()


def backdate(app: Flask, seconds: int = 3600) -> None:
    """Move every pass's last change into the past (so 'now' is clearly later)."""
    with app.app_context():
        db.session.execute(update(Member).values(
            pass_updated_at=utcnow().replace(microsecond=0).fromtimestamp(
                int(time.time()) - seconds, utcnow().tzinfo)))
        db.session.commit()


def test_register_201_then_200_and_upsert(app: Flask, client: FlaskClient,
                                          member: dict[str, Any]) -> None:
    dev = Device(client, pass_type_id(app))
    token = auth_token(app, member["id"])
    assert dev.register(member["serial_number"], token).status_code == 201
    again = Device(client, pass_type_id(app), push_token="cd" * 32)
    assert again.register(member["serial_number"], token).status_code == 200
    with app.app_context():
        [device] = db.session.scalars(select(AppleDevice)).all()
        assert device.push_token == "cd" * 32
        assert len(db.session.scalars(select(AppleRegistration)).all()) == 1


def test_register_refuses_wrong_token_type_or_serial_alike(
        app: Flask, client: FlaskClient, member: dict[str, Any]) -> None:
    dev = Device(client, pass_type_id(app))
    token = auth_token(app, member["id"])
    serial = member["serial_number"]
    answers = [dev.register(serial, "x" * len(token)),
               dev.register("0" * 32, token),
               Device(client, "pass.other.type").register(serial, token),
               client.post(dev._path(serial), json={"pushToken": TOKEN}),
               client.post(dev._path(serial), json={"pushToken": TOKEN},
                           headers={"Authorization": f"Bearer {token}"})]
    assert [a.status_code for a in answers] == [401] * 5
    assert len({a.data for a in answers}) == 1


def test_register_validates_body(app: Flask, client: FlaskClient,
                                 member: dict[str, Any]) -> None:
    dev = Device(client, pass_type_id(app))
    token, serial = auth_token(app, member["id"]), member["serial_number"]
    for body in ({}, {"pushToken": "not hex!"}, {"pushToken": "ab"}, {"pushToken": 12},
                 ["x"], {"pushToken": "ab" * 200}):
        assert dev.register(serial, token, body).status_code == 400, body
    huge = {"pushToken": TOKEN, "pad": "x" * 100_000}
    assert dev.register(serial, token, huge).status_code == 413
    bad_device = Device(client, pass_type_id(app), library_id="bad%20id!")
    assert bad_device.register(serial, token).status_code == 400


def test_unregister(app: Flask, client: FlaskClient, member: dict[str, Any]) -> None:
    dev = Device(client, pass_type_id(app))
    token, serial = auth_token(app, member["id"]), member["serial_number"]
    dev.register(serial, token)
    assert dev.unregister(serial, "wrong-token-wrong-token").status_code == 401
    assert dev.unregister(serial, token).status_code == 200
    assert dev.unregister(serial, token).status_code == 200
    assert dev.serials().status_code == 204
    with app.app_context():
        assert db.session.scalars(select(AppleDevice)).all() == []


def test_serials_with_and_without_tag(app: Flask, client: FlaskClient, api: Api,
                                      program: dict[str, Any],
                                      member: dict[str, Any]) -> None:
    other = api.post(f"/programs/{program['id']}/members", {"email": "bo@example.test"})
    second = other.get_json()
    dev = Device(client, pass_type_id(app))
    for m in (member, second):
        assert dev.register(m["serial_number"], auth_token(app, m["id"])).status_code == 201
    backdate(app)
    first = dev.serials()
    assert first.status_code == 200
    body = first.get_json()
    assert sorted(body["serialNumbers"]) == sorted([member["serial_number"],
                                                    second["serial_number"]])
    assert isinstance(body["lastUpdated"], str)
    time.sleep(1.05)  # tags have one-second precision
    assert dev.serials(body["lastUpdated"]).status_code == 204
    touch(app, second["id"])
    changed = dev.serials(body["lastUpdated"])
    assert changed.status_code == 200
    assert changed.get_json()["serialNumbers"] == [second["serial_number"]]
    assert dev.serials("not-a-tag").get_json()["serialNumbers"] == body["serialNumbers"]
    assert Device(client, "pass.other.type").serials().status_code == 204
    assert Device(client, pass_type_id(app), library_id="unknown").serials().status_code == 204


def test_latest_pass_last_modified_and_304(app: Flask, client: FlaskClient,
                                           member: dict[str, Any]) -> None:
    dev = Device(client, pass_type_id(app))
    token, serial = auth_token(app, member["id"]), member["serial_number"]
    dev.register(serial, token)
    resp = dev.fetch(serial, token)
    assert resp.status_code == 200
    assert resp.mimetype == "application/vnd.apple.pkpass"
    pass_json = json.loads(zipfile.ZipFile(io.BytesIO(resp.data)).read("pass.json"))
    assert pass_json["serialNumber"] == serial
    modified = resp.headers["Last-Modified"]
    assert modified.endswith("GMT")
    assert dev.fetch(serial, token, since=modified).status_code == 304
    touch(app, member["id"])
    newer = dev.fetch(serial, token, since=modified)
    assert newer.status_code == 200
    assert newer.headers["Last-Modified"] != modified
    assert dev.fetch(serial, token, since=http_date(0)).status_code == 200
    assert dev.fetch(serial, "nope-nope-nope-nope").status_code == 401
    assert dev.fetch("f" * 32, token).status_code == 401
    assert Device(client, "pass.other.type").fetch(serial, token).status_code == 401


def test_fetch_is_recorded_per_device(app: Flask, client: FlaskClient,
                                      member: dict[str, Any]) -> None:
    dev = Device(client, pass_type_id(app))
    token, serial = auth_token(app, member["id"]), member["serial_number"]
    dev.register(serial, token)
    touch(app, member["id"])
    dev.serials()
    dev.fetch(serial, token)
    with app.app_context():
        reg = db.session.scalar(select(AppleRegistration))
        assert reg.fetched_version == db.session.get(Member, member["id"]).pass_version
        assert reg.fetched_at is not None and reg.listed_at is not None


def test_log_endpoint(client: FlaskClient, caplog: Any) -> None:
    resp = client.post("/wallet/v1/log", json={"logs": ["Web service error: bad"]})
    assert resp.status_code == 200
    assert "Web service error: bad" in caplog.text
    assert client.post("/wallet/v1/log", data="junk").status_code == 400


def test_a_pass_changed_after_another_ran_ahead_is_still_listed(
        app: Flask, client: FlaskClient, api: Api, program: dict[str, Any],
        member: dict[str, Any]) -> None:
    """Rapid changes stamp A seconds ahead of the clock; B's later change must still show."""
    other = api.post(f"/programs/{program['id']}/members", {"email": "bo@example.test"})
    second = other.get_json()
    dev = Device(client, pass_type_id(app))
    for m in (member, second):
        assert dev.register(m["serial_number"], auth_token(app, m["id"])).status_code == 201
    for _ in range(5):
        touch(app, member["id"])  # A's Last-Modified is now ~4 s in the future
    tag = dev.serials().get_json()["lastUpdated"]
    touch(app, second["id"])  # B: stamped now, behind A's time
    listed = dev.serials(tag)
    assert listed.status_code == 200
    assert second["serial_number"] in listed.get_json()["serialNumbers"]


def test_catalog_change_after_rapid_earns_is_not_answered_304(
        app: Flask, client: FlaskClient, api: Api, program: dict[str, Any],
        member: dict[str, Any]) -> None:
    """A bulk change (new reward) must move Last-Modified past what the device holds."""
    dev = Device(client, pass_type_id(app))
    auth = auth_token(app, member["id"])
    assert dev.register(member["serial_number"], auth).status_code == 201
    for _ in range(3):
        touch(app, member["id"])
    held = dev.fetch(member["serial_number"], auth)
    assert held.status_code == 200
    resp = api.post(f"/programs/{program['id']}/rewards",
                    {"name": "Free coffee", "points_cost": 100, "kind": "free_item"})
    assert resp.status_code == 201, resp.get_json()
    again = dev.fetch(member["serial_number"], auth, since=held.headers["Last-Modified"])
    assert again.status_code == 200


@pytest.mark.parametrize("tag", ["999999999999", "\u00b2", "-5", "1e9"])
def test_foreign_tags_list_everything(app: Flask, client: FlaskClient,
                                      member: dict[str, Any], tag: str) -> None:
    dev = Device(client, pass_type_id(app))
    assert dev.register(member["serial_number"], auth_token(app, member["id"])).status_code == 201
    resp = dev.serials(tag)
    assert resp.status_code == 200
    assert resp.get_json()["serialNumbers"] == [member["serial_number"]]
