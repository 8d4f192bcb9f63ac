"""Two merchants whose passes sit on one phone cannot tell from the API that they share it."""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from tests.conftest import Api
from tests.test_webservice import Device, auth_token, pass_type_id


def test_one_phone_looks_different_to_each_merchant(
        app: Flask, client: FlaskClient, api: Api, other_api: Api,
        member: dict[str, Any]) -> None:
    program = other_api.post("/programs", {"name": "Other Card", "template": "retail"})
    other = other_api.post(f"/programs/{program.get_json()['id']}/members",
                           {"email": "ann@example.test"}).get_json()
    phone = Device(client, pass_type_id(app))
    for m in (member, other):
        assert phone.register(m["serial_number"], auth_token(app, m["id"])).status_code == 201
    [mine] = api.get(f"/members/{member['id']}/devices").get_json()["devices"]
    [theirs] = other_api.get(f"/members/{other['id']}/devices").get_json()["devices"]
    assert mine["device"] != theirs["device"]
    assert mine["push_token_hint"] != theirs["push_token_hint"]
    for seen in (mine, theirs):
        assert len(seen["push_token_hint"]) == 8
        assert seen["push_token_hint"] not in phone.push_token  # not the token's own text
    # the hint still tells one merchant that the phone's token changed
    new_token = "cd" * 32
    phone.push_token = new_token
    assert phone.register(member["serial_number"], auth_token(app, member["id"])
                          ).status_code == 200
    [again] = api.get(f"/members/{member['id']}/devices").get_json()["devices"]
    assert again["device"] == mine["device"] and again["push_token_hint"] != mine[
        "push_token_hint"]
