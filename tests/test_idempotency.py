"""Every write route of the API honours Idempotency-Key: a repeat with the same key and body
gets the first answer and changes nothing; the same key with another body is refused."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from PIL import Image
from sqlalchemy import select

from app.extensions import db
from tests.conftest import new_api_key

WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
UNTRACKED = {"idempotency_records", "api_keys"}  # the key's own record; last_used_at


def png(color: tuple[int, int, int], size: tuple[int, int] = (480, 150)) -> bytes:
    """A PNG image."""
    buf = io.BytesIO()
    Image.new("RGB", size, color).save(buf, "PNG")
    return buf.getvalue()


@dataclass
class Call:
    """One write request: path, and two different bodies (JSON objects or image bytes)."""

    path: str
    body: Any
    other: Any


class Shop:
    """A merchant with a fresh object of each kind, made through the API."""

    def __init__(self, client: FlaskClient, key: str) -> None:
        self.client = client
        self.headers = {"Authorization": f"Bearer {key}"}

    def send(self, method: str, path: str, body: Any = None,
             key: str | None = None) -> Any:
        """A request to /api/v1 + path (JSON for dicts, PNG or CSV for bytes)."""
        headers = dict(self.headers)
        if key is not None:
            headers["Idempotency-Key"] = key
        kw: dict[str, Any] = {"json": body} if isinstance(body, dict) else {}
        if isinstance(body, bytes):
            kind = "image/png" if body.startswith(b"\x89PNG") else "text/csv"
            kw = {"data": body, "content_type": kind}
        return self.client.open("/api/v1" + path, method=method, headers=headers, **kw)

    def make(self, path: str, body: dict[str, Any]) -> int:
        """POST a new object and return its id."""
        resp = self.send("POST", path, body)
        assert resp.status_code == 201, resp.get_json()
        answer = resp.get_json()
        return int(answer["transaction"]["id"] if "transaction" in answer else answer["id"])

    def program(self) -> int:
        """A new cafe program."""
        return self.make("/programs", {"name": "Cafe", "template": "cafe"})

    def member(self, email: str = "ann@example.test") -> int:
        """A member with 100 points in a new program."""
        member = self.make(f"/programs/{self.program()}/members", {"email": email})
        self.make(f"/members/{member}/earn", {"points": 100})
        return member

    def program_of(self, member: int) -> int:
        """The member's program."""
        return int(self.send("GET", f"/members/{member}").get_json()["program_id"])


def _cases() -> dict[str, Callable[[Shop], Call]]:
    """How to exercise each write endpoint: a fresh target, a body and another body."""

    def on_member(path: str, body: dict[str, Any], other: dict[str, Any]
                  ) -> Callable[[Shop], Call]:
        return lambda s: Call(f"/members/{s.member()}/{path}", body, other)

    def donate(s: Shop) -> Call:
        member = s.member()
        cause = s.make(f"/programs/{s.program_of(member)}/causes", {"name": "Trees"})
        return Call(f"/members/{member}/donate", {"points": 5, "cause_id": cause},
                    {"points": 6, "cause_id": cause})

    def tier(s: Shop) -> int:
        return s.make(f"/programs/{s.program()}/tiers", {"name": "Gold", "threshold": "100"})

    def reward(s: Shop) -> int:
        return s.make(f"/programs/{s.program()}/rewards",
                      {"name": "Cake", "kind": "free_item", "points_cost": 50})

    def cause(s: Shop) -> int:
        return s.make(f"/programs/{s.program()}/causes", {"name": "Trees"})

    def webhook(s: Shop) -> int:
        return s.make("/webhooks", {"url": "https://hooks.example.test/a",
                                    "events": ["points.changed"]})

    def suppressed(s: Shop) -> str:
        address = f"gone{len(s.send('GET', '/suppressions').get_json()['suppressions'])}@x.test"
        assert s.send("POST", "/suppressions", {"email": address}).status_code == 201
        return address
    def location(s: Shop) -> str:
        pid = s.program()
        loc = s.make(f"/programs/{pid}/locations", {"name": "Silom", "latitude": 13.7,
                                                    "longitude": 100.5})
        return f"/programs/{pid}/locations/{loc}"

    def void(s: Shop) -> Call:
        member = s.member()
        tx = s.make(f"/members/{member}/earn", {"points": 10})
        return Call(f"/transactions/{tx}/void", {"reason": "refund"}, {"reason": "other"})

    return {
        "api.create_program": lambda s: Call("/programs", {"name": "A", "template": "cafe"},
                                             {"name": "B", "template": "cafe"}),
        "api.update_program": lambda s: Call(f"/programs/{s.program()}", {"name": "A"},
                                             {"name": "B"}),
        "api.upload_image": lambda s: Call(f"/programs/{s.program()}/images/logo",
                                           png((200, 0, 0)), png((0, 200, 0))),
        "api.upload_stamp": lambda s: Call(f"/programs/{s.program()}/stamp",
                                           png((200, 0, 0), (90, 90)),
                                           png((0, 0, 200), (90, 90))),
        "api.create_import": lambda s: Call(
            f"/programs/{s.program()}/imports?consent_basis=Customers",
            b"email\nx1@example.test\n", b"email\nx2@example.test\n"),
        "api.enroll": lambda s: Call(f"/programs/{s.program()}/members",
                                     {"email": "bob@example.test"},
                                     {"email": "eve@example.test"}),
        "api.update_rules": lambda s: Call(f"/programs/{s.program()}/rules",
                                           {"welcome_bonus": 5}, {"welcome_bonus": 6}),
        "api.create_tier": lambda s: Call(f"/programs/{s.program()}/tiers",
                                          {"name": "Gold", "threshold": "10"},
                                          {"name": "Silver", "threshold": "5"}),
        "api.update_tier": lambda s: Call(f"/tiers/{tier(s)}", {"perks": "Cake"},
                                          {"perks": "Tea"}),
        "api.delete_tier": lambda s: Call(f"/tiers/{tier(s)}", None, {"x": 1}),
        "api.create_reward": lambda s: Call(
            f"/programs/{s.program()}/rewards",
            {"name": "Tea", "kind": "free_item", "points_cost": 10},
            {"name": "Tea", "kind": "free_item", "points_cost": 11}),
        "api.update_reward": lambda s: Call(f"/rewards/{reward(s)}", {"points_cost": 60},
                                            {"points_cost": 70}),
        "api.retire_reward": lambda s: Call(f"/rewards/{reward(s)}", None, {"x": 1}),
        "api.create_cause": lambda s: Call(f"/programs/{s.program()}/causes",
                                           {"name": "Seas"}, {"name": "Hills"}),
        "api.update_cause": lambda s: Call(f"/causes/{cause(s)}", {"description": "a"},
                                           {"description": "b"}),
        "api.close_cause": lambda s: Call(f"/causes/{cause(s)}", None, {"x": 1}),
        "api.earn": on_member("earn", {"amount": "12.50"}, {"amount": "13.50"}),
        "api.redeem": on_member("redeem", {"points": 10}, {"points": 11}),
        "api.adjust": on_member("adjust", {"points": -3, "reason": "typo"},
                                {"points": 3, "reason": "typo"}),
        "api.donate": donate,
        "api.void": void,
        "api.create_webhook": lambda s: Call(
            "/webhooks", {"url": "https://hooks.example.test/1", "events": ["tier.changed"]},
            {"url": "https://hooks.example.test/2", "events": ["tier.changed"]}),
        "api.update_webhook": lambda s: Call(f"/webhooks/{webhook(s)}", {"active": False},
                                             {"active": True}),
        "api.delete_webhook": lambda s: Call(f"/webhooks/{webhook(s)}", None, {"x": 1}),
        "api.add_suppression": lambda s: Call("/suppressions", {"email": "a@example.test"},
                                              {"email": "b@example.test"}),
        "api.remove_suppression": lambda s: Call(f"/suppressions/{suppressed(s)}", None,
                                                 {"x": 1}),
        "api.update_mail_settings": lambda s: Call(f"/programs/{s.program()}/mail-settings",
                                                   {"welcome": False}, {"welcome": True}),
        "api.add_location": lambda s: Call(
            f"/programs/{s.program()}/locations", {"name": "A", "latitude": 1, "longitude": 2},
            {"name": "B", "latitude": 1, "longitude": 2}),
        "api.change_location": lambda s: Call(location(s), {"name": "B"}, {"name": "C"}),
        "api.remove_location": lambda s: Call(location(s), None, {"x": 1}),
    }


def write_routes(app: Flask) -> list[tuple[str, str]]:
    """(endpoint, method) of every write route of the API."""
    return sorted((rule.endpoint, method) for rule in app.url_map.iter_rules()
                  if rule.rule.startswith("/api/v1/")
                  for method in (rule.methods or set()) & WRITE_METHODS)


def snapshot(app: Flask) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table but the idempotency records and API keys."""
    with app.app_context():
        out = {}
        for table in db.metadata.sorted_tables:
            if table.name not in UNTRACKED:
                out[table.name] = sorted(map(tuple, db.session.execute(select(table))), key=repr)
        db.session.remove()
        return out


def test_every_write_route_replays_repeats_and_refuses_reused_keys(app: Flask,
                                                                   client: FlaskClient) -> None:
    shop = Shop(client, new_api_key(app))
    cases = _cases()
    routes = write_routes(app)
    missing = [endpoint for endpoint, _ in routes if endpoint not in cases]
    assert not missing, f"write routes without an idempotency case: {missing}"
    assert len(routes) == len(cases)
    for endpoint, method in routes:
        call = cases[endpoint](shop)
        key = f"key-{endpoint}"
        first = shop.send(method, call.path, call.body, key=key)
        assert first.status_code in (200, 201, 202), (endpoint, first.get_json())
        after_first = snapshot(app)
        again = shop.send(method, call.path, call.body, key=key)
        assert (again.status_code, again.get_json()) == (first.status_code, first.get_json()), \
            endpoint
        assert snapshot(app) == after_first, f"{endpoint}: a repeat changed something"
        other = shop.send(method, call.path, call.other, key=key)
        assert other.status_code == 422, (endpoint, other.get_json())
        assert other.get_json()["error"]["code"] == "idempotency_key_reused"
        assert snapshot(app) == after_first, f"{endpoint}: a refused reuse changed something"


def test_enrollment_retried_with_its_key_gets_the_first_answer(app: Flask,
                                                               client: FlaskClient) -> None:
    shop = Shop(client, new_api_key(app))
    program = shop.program()
    body = {"email": "ann@example.test", "name": "Ann"}
    first = shop.send("POST", f"/programs/{program}/members", body, key="till-7-0001")
    again = shop.send("POST", f"/programs/{program}/members", body, key="till-7-0001")
    assert first.status_code == again.status_code == 201
    assert again.get_json() == first.get_json()
    listed = shop.send("GET", "/members?email=ann@example.test").get_json()["members"]
    assert [m["id"] for m in listed] == [first.get_json()["id"]]
    without_key = shop.send("POST", f"/programs/{program}/members", body)
    assert without_key.status_code == 409  # a new request for the same email still conflicts


def test_a_failed_write_leaves_nothing_and_can_be_retried(app: Flask,
                                                          client: FlaskClient) -> None:
    shop = Shop(client, new_api_key(app))
    before = snapshot(app)
    bad = shop.send("POST", "/programs", {"name": "A", "template": "no-such"}, key="k1")
    assert bad.status_code == 422
    assert snapshot(app) == before
    good = shop.send("POST", "/programs", {"name": "A", "template": "cafe"}, key="k1")
    assert good.status_code == 201
    assert json.loads(good.data)["name"] == "A"
