"""No request makes a 500; errors are JSON for programs and HTML for people; links use BASE_URL."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from app import links
from app.api import idempotency
from app.api.contract import CSV_UPLOAD
from app.config import Settings
from app.extensions import db
from app.models import Member
from tests.conftest import BASE_URL, Api
from tests.test_webservice import DEVICE, auth_token, pass_type_id

BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}
HUGE_IDS = [2**31, 2**63, 2**64, 10**40]
WRITES = {"POST", "PUT", "PATCH", "DELETE"}


def deep_json(depth: int) -> str:
    """A JSON text nesting `depth` arrays."""
    return "[" * depth + "]" * depth


def id_routes(app: Flask) -> list[tuple[str, list[str], str]]:
    """(rule, its int arguments, method) of every route with an integer id in its path."""
    out = []
    for rule in app.url_map.iter_rules():
        ints = [name for name, conv in rule._converters.items()
                if type(conv).__name__ == "DatabaseId"]
        if ints:
            out += [(rule.rule, ints, m) for m in sorted(rule.methods - {"HEAD", "OPTIONS"})]
    return out


def fill(rule: str, value: int, names: list[str]) -> str:
    """The rule's path with every int argument set to value (and an image kind to 'logo')."""
    path = rule
    for name in names:
        path = path.replace(f"<int:{name}>", str(value))
    return path.replace("<kind>", "logo")


def test_huge_ids_are_404_on_every_id_route(app: Flask, api: Api) -> None:
    routes = id_routes(app)
    assert len(routes) >= 30  # every `<int:...>` route goes through the bounded converter
    for rule, names, method in routes:
        for value in HUGE_IDS:
            resp = api.client.open(fill(rule, value, names), method=method, json={},
                                   headers={**api.headers, "Idempotency-Key": f"k{value}"})
            assert resp.status_code == 404, (method, rule, value, resp.get_json())
            assert resp.get_json()["error"]["code"] == "not_found"
        # the largest id the database holds is looked up (and not found), never a 500
        resp = api.client.open(fill(rule, 2**31 - 1, names), method=method, json={},
                               headers=api.headers)
        assert resp.status_code < 500, (method, rule, resp.get_json())


def test_deep_json_on_the_device_log_is_400(client: FlaskClient) -> None:
    for depth in (100, 5000):
        resp = client.post("/wallet/v1/log", data=deep_json(depth),
                           content_type="application/json")
        assert resp.status_code == 400, depth
    assert client.post("/wallet/v1/log", json={"logs": ["fine"]}).status_code == 200


def test_deep_json_on_device_registration_is_400(app: Flask, client: FlaskClient,
                                                  member: dict[str, Any]) -> None:
    path = (f"/wallet/v1/devices/{DEVICE}/registrations/{pass_type_id(app)}/"
            f"{member['serial_number']}")
    auth = {"Authorization": f"ApplePass {auth_token(app, member['id'])}"}
    for depth in (100, 5000):
        resp = client.post(path, data=deep_json(depth), content_type="application/json",
                           headers=auth)
        assert resp.status_code == 400, depth
    assert client.post(path, json={"pushToken": "ab" * 32}, headers=auth).status_code == 201


def takes_idempotency_key(view: Any) -> bool:
    """Whether a view runs under the Idempotency-Key write wrapper."""
    while view is not None:
        if view.__code__ is idempotency.write(lambda: ({}, 200)).__code__:
            return True
        view = getattr(view, "__wrapped__", None)
    return False


def test_deep_json_with_an_idempotency_key_is_400_on_every_write(
        app: Flask, api: Api, member: dict[str, Any]) -> None:
    writes = [(rule.rule, [n for n in rule.arguments if n != "kind"], method,
               takes_idempotency_key(app.view_functions[rule.endpoint]))
              for rule in app.url_map.iter_rules() if rule.rule.startswith("/api")
              for method in sorted((rule.methods or set()) & WRITES)]
    assert sum(keyed for *_, keyed in writes) >= 15
    for depth in (100, 20000):
        for rule, names, method, keyed in writes:
            resp = api.client.open(fill(rule, member["id"], names), method=method,
                                   data=deep_json(depth), content_type="application/json",
                                   headers={**api.headers, "Idempotency-Key": f"deep-{depth}"})
            assert resp.status_code < 500, (method, rule, depth, resp.get_json())
            if keyed and takes_csv(app, rule):  # a CSV upload refuses any JSON body
                assert resp.status_code == 415, (method, rule, depth, resp.get_json())
            elif keyed:
                assert resp.status_code == 400, (method, rule, depth, resp.get_json())
                assert resp.get_json()["error"]["code"] == "invalid_json"


def takes_csv(app: Flask, rule: str) -> bool:
    """Whether the route's declared body is a CSV upload (not JSON)."""
    endpoint = next(r.endpoint for r in app.url_map.iter_rules() if r.rule == rule)
    return app.view_functions[endpoint].openapi.body == CSV_UPLOAD


def test_405_keeps_the_allow_header(client: FlaskClient) -> None:
    resp = client.delete("/api/v1/openapi.json")
    assert resp.status_code == 405
    assert "GET" in resp.headers["Allow"]
    assert resp.get_json()["error"]["code"] == "method_not_allowed"
    page = client.delete("/", headers=BROWSER)
    assert page.status_code == 405 and "GET" in page.headers["Allow"]
    assert page.mimetype == "text/html"


def test_people_get_html_errors_programs_get_json(app: Flask, client: FlaskClient) -> None:
    page = client.get("/no/such/page", headers=BROWSER)
    assert page.status_code == 404 and page.mimetype == "text/html"
    html = page.get_data(as_text=True)
    assert "<title>404 Not Found</title>" in html and 'name="viewport"' in html
    assert "/static/base.css" in html and "//" not in html.split("<body>")[0].replace(
        "http://www.w3.org", "")  # no CDN: every asset is ours
    assert client.get("/static/base.css").status_code == 200
    assert client.get("/no/such/page").get_json()["error"]["code"] == "not_found"
    for path in ("/api/v1/nope", "/api", "/wallet/v1/nope", "/wallet"):
        resp = client.get(path, headers=BROWSER)
        assert resp.status_code == 404 and resp.is_json, path
    card = client.get("/cards/not-a-token/apple.pkpass", headers=BROWSER)
    assert card.status_code == 404 and "This card link is not valid." in card.get_data(True)


def test_an_unexpected_error_is_a_500_page_or_json(app: Flask) -> None:
    def boom() -> str:
        raise RuntimeError("kaboom")

    app.add_url_rule("/boom", view_func=boom)
    app.add_url_rule("/api/v1/boom", view_func=boom, endpoint="api_boom")
    client = app.test_client()
    page = client.get("/boom", headers=BROWSER)
    assert page.status_code == 500 and page.mimetype == "text/html"
    assert "kaboom" not in page.get_data(as_text=True)
    assert client.get("/api/v1/boom", headers=BROWSER).get_json()["error"]["code"] == (
        "internal_error")


def test_the_landing_page_says_the_service_runs(client: FlaskClient) -> None:
    resp = client.get("/", follow_redirects=True)  # the dashboard's login page
    assert resp.status_code == 200 and resp.mimetype == "text/html"
    html = resp.get_data(as_text=True)
    assert "running" in html and 'href="/api/v1/openapi.json"' in html


def test_links_come_from_base_url_never_the_host_header(
        app: Flask, api: Api, program: dict[str, Any]) -> None:
    forged = {**api.headers, "Host": "evil.example", "X-Forwarded-Host": "evil.example"}
    resp = api.client.post(f"/api/v1/programs/{program['id']}/members",
                           json={"email": "eve@example.test"}, headers=forged)
    assert resp.status_code == 201, resp.get_json()
    created = resp.get_json()
    link = created["links"]["apple"]
    assert link.startswith(BASE_URL + "/cards/") and "evil" not in link
    again = api.client.get(f"/api/v1/members/{created['id']}", headers=forged).get_json()
    assert again["links"] == created["links"]
    path = link.removeprefix(BASE_URL)
    assert api.client.get(path).mimetype == "application/vnd.apple.pkpass"
    with app.app_context():  # no request: a background job builds the same link
        member = db.session.get(Member, created["id"])
        assert links.apple_pass_link(member) == link
        settings = app.config["SETTINGS"]
    assert links.apple_pass_link(member, settings) == link  # not even an app context


def test_public_url_needs_a_path_and_trims_the_base() -> None:
    settings = Settings(BASE_URL="https://cards.example.test/")
    assert links.public_url("/x", settings) == "https://cards.example.test/x"
    with pytest.raises(ValueError):
        links.public_url("x", settings)
