"""Security sweep (issue 18, part 5): tenant isolation and roles, generated from the url_map
so a new route cannot skip them; secure headers; rate limits; files and key modes.

Merchant A's key and owner session call every route that names an object, filled with
merchant B's ids: the answer must be 404 (or 403) and B's data unchanged. A route whose
parameters no mapping below knows makes the test fail: map it, or list it as public with
the reason.
"""

from __future__ import annotations

import io
import itertools
import re
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.routing import AnyConverter, IntegerConverter, Rule

from app.extensions import db
from app.models import ApiKey, Program
from app.models.webhook import WebhookDelivery
from tests.conftest import Api
from tests.dashboard_helpers import csrf_of, link_in, log_in, mails, new_owner, post

OTHER = "other@example.test"
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")

PUBLIC = {
    "static": "the service's own CSS, JS and icons",
    "web.card_page": "a card page is reached by its secret token, not by merchant",
    "web.apple_pass": "a pass is downloaded by its card's secret token",
    "web.card_manifest": "the home-screen manifest of a card, by its secret token",
    "web.image": "published card images, public by design (Wallet fetches them)",
    "web.join": "the public signup page of a program",
    "web.join_post": "the public signup form of a program (rate limited)",
    "google_wallet.save": "a Google save link, by the card's secret token",
    "google_wallet.hero": "a program's published hero image, fetched by Google",
    "google_wallet.image": "published card images, fetched by Google",
    "google_wallet.callback": "Google's signed callback",
    "mail.unsubscribe_page": "an unsubscribe link, by its signed token",
    "mail.unsubscribe": "an unsubscribe form, by its signed token",
    "dashboard.accept_invitation": "an invitation, by its secret token",
    "dashboard.reset_password": "a password reset, by its signed token",
    "dashboard.template_image": "the stock images of a built-in template (no merchant data)",
    "apple_ws.serials": "PassKit web service: authenticated by each pass's token",
    "apple_ws.register": "PassKit web service: authenticated by each pass's token",
    "apple_ws.unregister": "PassKit web service: authenticated by each pass's token",
    "apple_ws.latest_pass": "PassKit web service: authenticated by each pass's token",
    "health.healthz": "liveness probe: says only that the process answers",
    "health.readyz": "readiness probe: the state of each dependency, no merchant data",
    "health.metrics": "Prometheus counts, no merchant data (a bearer token when "
                      "METRICS_TOKEN is set)",
}
"""Routes with parameters that are not a merchant's objects, with the reason."""

FIXED = {"kind": "logo", "fmt": "pdf", "slug": "signups", "email": "nobody@example.test"}
"""Values of the parameters that name no object."""

API_BODY = {"points": 5, "reason": "security sweep", "name": "Sweep"}
"""A JSON body most writes accept, so they get as far as loading the object."""

SECTION_ITEM = {"tiers": "tier_id", "rewards": "reward_id", "locations": "location_id"}
"""Which id a designer section's item_id is, by section."""

CASHIER_ALLOWED = {
    "dashboard.home": "the home page shows a cashier their tools",
    "dashboard.members": "cashiers look customers up",
    "dashboard.member_page": "cashiers serve a customer",
    "dashboard.member_earn": "cashiers add points",
    "dashboard.member_redeem": "cashiers redeem rewards",
    "dashboard.member_undo": "a cashier may undo their own last entry",
    "dashboard.member_resend": "a cashier may resend a card to a customer",
    "dashboard.scan": "the scanner is the cashier's page",
    "dashboard.scan_member": "the scanner's member view",
    "dashboard.scan_earn": "the scanner's earn form",
    "dashboard.scan_redeem": "the scanner's redeem form",
    "dashboard.scan_enroll": "the scanner's enrol form",
    "dashboard.status_page": "the service status, shown to every signed-in user",
    "dashboard.switch_merchant": "choose which business to work for",
    "dashboard.language": "choose the dashboard's language",
    "dashboard.logout": "log out",
    "dashboard.login": "log in",
    "dashboard.signup": "sign up a new business",
    "dashboard.forgot_password": "ask for a password reset",
}
"""Dashboard routes a cashier may use, with the reason; every other one answers 403."""


def ok(resp: Any) -> dict[str, Any]:
    """The JSON of a 2xx answer."""
    assert resp.status_code < 300, (resp.status_code, resp.get_data(True)[:300])
    return dict(resp.get_json())


def objects_of(app: Flask, api: Api, who: str = "bob") -> dict[str, int]:
    """One object of each kind for the merchant of this key (its member is `who`); their
    ids by parameter name."""
    pid = ok(api.post("/programs", {"name": f"{who.title()} Rewards", "template": "cafe"}))["id"]
    member = ok(api.post(f"/programs/{pid}/members", {"email": f"{who}@example.test",
                                                      "name": f"{who.title()} Other"}))
    earned = ok(api.post(f"/members/{member['id']}/earn", {"points": 500}))
    ids = {"program_id": pid, "member_id": member["id"],
           "transaction_id": earned["transaction"]["id"],
           "entry_id": earned["transaction"]["id"]}
    for name, path, body in (
            ("tier_id", f"/programs/{pid}/tiers", {"name": "Gold", "threshold": "100"}),
            ("reward_id", f"/programs/{pid}/rewards",
             {"name": "Cake", "kind": "free_item", "points_cost": 50}),
            ("cause_id", f"/programs/{pid}/causes", {"name": "Trees"}),
            ("location_id", f"/programs/{pid}/locations",
             {"name": "Silom", "latitude": 13.7, "longitude": 100.5}),
            ("webhook_id", "/webhooks", {"url": "https://hooks.example.test/other",
                                         "events": ["points.changed"]})):
        ids[name] = ok(api.post(path, body))["id"]
    csv = b"email,name\ncarl@example.test,Carl\n"
    form = {"file": (io.BytesIO(csv), "list.csv", "text/csv"),
            "consent_basis": "Customers of our paper card who agreed to e-mails"}
    ids["import_id"] = ok(api.client.post(f"/api/v1/programs/{pid}/imports", data=form,
                                          headers=api.headers,
                                          content_type="multipart/form-data"))["id"]
    with app.app_context():
        program = db.session.get(Program, pid)
        assert program is not None
        ids["version"] = int(getattr(program, "version", 1) or 1)
        ids["key_id"] = db.session.scalars(select(ApiKey.id).where(
            ApiKey.merchant_id == program.merchant_id)).first() or 0
        delivery = WebhookDelivery(webhook_id=ids["webhook_id"], event="points.changed",
                                   payload={})
        db.session.add(delivery)
        db.session.commit()
        ids["delivery_id"] = delivery.id
    return ids


def snapshot(api: Api, ids: dict[str, int]) -> list[Any]:
    """What the merchant's own key reads about its objects (to prove nothing changed)."""
    pid, mid = ids["program_id"], ids["member_id"]
    paths = [f"/programs/{pid}", f"/programs/{pid}/rules", f"/programs/{pid}/tiers",
             f"/programs/{pid}/rewards", f"/programs/{pid}/causes",
             f"/programs/{pid}/locations", f"/programs/{pid}/mail-settings",
             f"/members/{mid}", f"/members/{mid}/transactions", "/webhooks",
             f"/webhooks/{ids['webhook_id']}", f"/imports/{ids['import_id']}"]
    return [ok(api.get(path)) for path in paths]


def fillings(rule: Rule, ids: dict[str, int]) -> Iterator[dict[str, Any]]:
    """Every way to fill the rule's parameters with the given ids (fails on an unknown one)."""
    choices: dict[str, list[Any]] = {}
    for name, converter in rule._converters.items():
        if isinstance(converter, AnyConverter):
            choices[name] = sorted(converter.items)
        elif name in ids and name != "item_id":
            choices[name] = [ids[name]]
        elif name in FIXED:
            choices[name] = [FIXED[name]]
        elif name != "item_id":
            pytest.fail(f"{rule.rule} ({rule.endpoint}): no known object for <{name}>; map "
                        "it in tests/test_security.py or list the route in PUBLIC")
    names = list(choices)
    for combo in itertools.product(*(choices[n] for n in names)):
        values = dict(zip(names, combo, strict=True))
        if "item_id" in rule.arguments:
            values["item_id"] = ids[SECTION_ITEM[values["key"]]]
        yield values


def path_of(rule: Rule, values: dict[str, Any]) -> str:
    """The URL of the rule with these values."""
    return re.sub(r"<(?:[^:<>]+:)?(\w+)>", lambda m: str(values[m.group(1)]), rule.rule)


def missing(values: dict[str, Any]) -> dict[str, int]:
    """Ids that name no object, for the id parameters among these values."""
    return {name: 2**31 - 2 for name, value in values.items() if isinstance(value, int)}


def has_id(rule: Rule) -> bool:
    """Whether the rule takes an `<int:...>` id."""
    return any(isinstance(c, IntegerConverter) for c in rule._converters.values())


def rules(app: Flask, inside: bool) -> list[Rule]:
    """The url_map's rules with parameters, inside /api/v1 or (inside=False) outside it."""
    found = [r for r in app.url_map.iter_rules()
             if r.arguments and r.rule.startswith("/api/v1") == inside
             and r.endpoint not in PUBLIC]
    return sorted(found, key=lambda r: r.rule)


def methods_of(rule: Rule) -> list[str]:
    """The rule's methods that a client would send (no HEAD, no OPTIONS)."""
    return [m for m in METHODS if m in (rule.methods or ())]


@pytest.fixture
def merchants(app: Flask) -> tuple[Api, Api, dict[str, int]]:
    """Merchant A's API client, merchant B's, and one object of each kind of B's."""
    a_key = new_owner(app)
    b_key = new_owner(app, "Other Shop", OTHER)
    a, b = Api(app.test_client(), a_key), Api(app.test_client(), b_key)
    objects_of(app, a, "ann")  # A has objects of its own too: ids that differ from B's
    return a, b, objects_of(app, b)


def test_every_api_route_with_an_id_refuses_another_merchants_object(
        app: Flask, merchants: tuple[Api, Api, dict[str, int]]) -> None:
    a, b, ids = merchants
    before = snapshot(b, ids)
    checked = 0
    for rule in rules(app, inside=True):
        if not has_id(rule):
            continue
        for values in fillings(rule, ids):
            path = path_of(rule, values)
            nowhere = path_of(rule, {**values, **missing(values)})
            for method in methods_of(rule):
                resp = a.client.open(path, method=method, headers=a.headers, json=API_BODY)
                if resp.status_code in (400, 415, 422):  # the body is checked first: then
                    same = a.client.open(nowhere, method=method, headers=a.headers,
                                         json=API_BODY)  # the same answer as for no object
                    assert (same.status_code, same.get_json()) == (resp.status_code,
                                                                   resp.get_json()), path
                else:
                    assert resp.status_code in (403, 404), (method, path, resp.status_code,
                                                            resp.get_data(True)[:300])
                checked += 1
                if method == "GET":
                    own = b.client.get(path, headers=b.headers)
                    assert own.status_code == 200, ("B's own", path, own.status_code)
    assert checked > 40
    assert snapshot(b, ids) == before


def dashboard_body(session: FlaskClient, method: str) -> dict[str, Any]:
    """Keyword arguments of a dashboard request: a valid CSRF token on every POST."""
    if method == "GET":
        return {}
    return {"data": {"csrf_token": csrf_of(session, "/"), "points": "5", "name": "X",
                     "file": (io.BytesIO(b"email\nx@example.test\n"), "x.csv")},
            "content_type": "multipart/form-data"}


def test_every_dashboard_route_with_an_id_refuses_another_merchants_object(
        app: Flask, merchants: tuple[Api, Api, dict[str, int]]) -> None:
    _a, b, ids = merchants
    before = snapshot(b, ids)
    owner, other = app.test_client(), app.test_client()
    assert log_in(owner).status_code == 302
    assert log_in(other, OTHER).status_code == 302
    checked = 0
    for rule in rules(app, inside=False):
        for values in fillings(rule, ids):
            path = path_of(rule, values)
            for method in methods_of(rule):
                resp = owner.open(path, method=method, **dashboard_body(owner, method))
                assert resp.status_code in (403, 404), (method, path, resp.status_code,
                                                        resp.get_data(True)[:300])
                checked += 1
                if method == "GET":
                    own = other.get(path)
                    assert own.status_code in (200, 302), ("B's own", path, own.status_code)
    assert checked > 30
    assert snapshot(b, ids) == before
    export = owner.get("/members/export.csv").get_data(True)
    listed = owner.get("/members?q=bob").get_data(True)
    assert "bob@example.test" not in export and "bob@example.test" not in listed


def cashier_of(app: Flask, owner: FlaskClient) -> FlaskClient:
    """A logged-in cashier of the owner's merchant, invited through the staff page."""
    invited = post(owner, "/staff/invite", {"email": "cash@example.test", "role": "cashier"},
                   page="/staff")
    assert invited.status_code == 200
    path = link_in(mails(app)[-1], app.config["SETTINGS"].BASE_URL)
    cashier = app.test_client()
    joined = cashier.post(path, data={"csrf_token": csrf_of(cashier, path),
                                      "password": "till password 1"})
    assert joined.status_code == 302
    return cashier


def test_a_cashier_is_refused_every_owner_and_manager_page(app: Flask) -> None:
    key = new_owner(app)
    ids = objects_of(app, Api(app.test_client(), key))
    owner = app.test_client()
    log_in(owner)
    cashier = cashier_of(app, owner)
    checked = 0
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if (rule.rule.startswith(("/api/v1", "/wallet/v1")) or rule.endpoint in PUBLIC
                or rule.endpoint in CASHIER_ALLOWED):
            continue
        for values in fillings(rule, ids):
            path = path_of(rule, values)
            for method in methods_of(rule):
                resp = cashier.open(path, method=method, **dashboard_body(cashier, method))
                assert resp.status_code == 403, (method, path, resp.status_code)
                checked += 1
    assert checked > 30
    unknown = set(CASHIER_ALLOWED) - {r.endpoint for r in app.url_map.iter_rules()}
    assert not unknown, f"CASHIER_ALLOWED names routes that no longer exist: {unknown}"


def test_the_public_list_names_only_existing_routes(app: Flask) -> None:
    unknown = set(PUBLIC) - {r.endpoint for r in app.url_map.iter_rules()}
    assert not unknown, f"PUBLIC names routes that no longer exist: {unknown}"


# --- secure headers -----------------------------------------------------------------------


def assert_secure(resp: Any, where: str) -> None:
    """The answer carries the secure headers: no inline script, no framing, no sniffing."""
    policy = resp.headers.get("Content-Security-Policy", "")
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy.split(
        "script-src")[1].split(";")[0], (where, policy)
    assert "frame-ancestors 'none'" in policy, (where, policy)
    assert resp.headers.get("X-Content-Type-Options") == "nosniff", where
    assert resp.headers.get("Referrer-Policy") in ("strict-origin-when-cross-origin",
                                                   "no-referrer"), where


def test_every_page_sends_the_secure_headers(app: Flask) -> None:
    key = new_owner(app)
    api = Api(app.test_client(), key)
    ids = objects_of(app, api)
    owner = app.test_client()
    log_in(owner)
    seen = 0
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if "GET" not in (rule.methods or ()) or rule.endpoint in PUBLIC:
            continue
        for values in fillings(rule, ids):
            path = path_of(rule, values)
            resp = owner.get(path, headers=api.headers if path.startswith("/api/") else {})
            assert resp.status_code < 500, path
            assert_secure(resp, path)
            seen += 1
    assert seen > 40
    links = ok(api.get(f"/members/{ids['member_id']}"))["links"].values()
    pages = [u.split("/", 3)[3] for u in links if "/cards/" in u and not u.endswith(".pkpass")]
    assert pages, links
    for path in pages:
        resp = app.test_client().get("/" + path)
        assert resp.status_code == 200, path
        assert_secure(resp, path)
        assert "default-src 'none'" in resp.headers["Content-Security-Policy"]  # theirs kept
    assert_secure(app.test_client().get("/login"), "/login")
    assert_secure(app.test_client().get("/no/such/page"), "a 404")


def test_dashboard_templates_have_no_inline_script() -> None:
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent / "app"
    inline = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>|\son[a-z]+\s*=|javascript:", re.I)
    found = [str(p.relative_to(root)) for p in root.rglob("*.html")
             if inline.search(p.read_text())]
    assert not found, f"inline script (refused by the CSP) in {found}"


# --- rate limits --------------------------------------------------------------------------


def test_failed_logins_are_answered_429_with_retry_after(make_app: Any) -> None:
    app = make_app(LOGIN_MAX_FAILURES=2, LOGIN_WINDOW_MINUTES=15)
    new_owner(app)
    client = app.test_client()
    codes = [log_in(client, password="wrong password!").status_code for _ in range(3)]
    assert codes == [401, 401, 429]
    blocked = log_in(client)  # even the right password waits for the window
    assert blocked.status_code == 429
    assert 0 < int(blocked.headers["Retry-After"]) <= 15 * 60 + 1


def test_signup_floods_are_answered_429_with_retry_after(make_app: Any) -> None:
    app = make_app(SIGNUP_RATE_LIMIT=1)
    pid = ok(Api(app.test_client(), new_owner(app)).post(
        "/programs", {"name": "Cafe", "template": "cafe"}))["id"]
    client = app.test_client()
    first = client.post(f"/join/{pid}", data={"email": "a@example.test"})
    second = client.post(f"/join/{pid}", data={"email": "b@example.test"})
    assert first.status_code == 303
    assert second.status_code == 429 and int(second.headers["Retry-After"]) > 0


def test_an_api_key_past_its_rate_is_answered_429_json_with_retry_after(
        make_app: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from app.api import ratelimit

    monkeypatch.setattr(ratelimit, "clock", lambda: 6_000_030.0)  # mid-window, fixed
    app = make_app(API_RATE_LIMIT=3)
    api = Api(app.test_client(), new_owner(app))
    other = Api(app.test_client(), new_owner(app, "Other Shop", OTHER))
    codes = [api.get("/programs").status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    limited = api.get("/programs")
    assert limited.status_code == 429
    assert limited.get_json()["error"]["code"] == "rate_limited"
    assert limited.headers["Retry-After"] == "31"
    assert other.get("/programs").status_code == 200  # per key


def test_an_api_rate_limit_of_zero_is_off(make_app: Any) -> None:
    app = make_app(API_RATE_LIMIT=0)
    api = Api(app.test_client(), new_owner(app))
    assert {api.get("/programs").status_code for _ in range(20)} == {200}


def test_program_ids_in_forms_and_queries_are_the_merchants_own(
        app: Flask, merchants: tuple[Api, Api, dict[str, int]]) -> None:
    _a, b, ids = merchants
    before = snapshot(b, ids)
    owner = app.test_client()
    log_in(owner)
    pid = str(ids["program_id"])
    csv = b"email,name\ndan@example.test,Dan\n"
    for path in ("/distribution/uploads", "/distribution/imports"):
        resp = owner.post(path, data={"csrf_token": csrf_of(owner, "/"), "program": pid,
                                      "file": (io.BytesIO(csv), "list.csv"),
                                      "consent_basis": "Customers who agreed to e-mails"},
                          content_type="multipart/form-data")
        assert resp.status_code in (403, 404), (path, resp.status_code)
    enrol = post(owner, "/scan/enroll", {"program": pid, "email": "eve@example.test"})
    assert enrol.status_code in (403, 404, 422)  # the scanner page again, with the error
    assert "Bob Rewards" not in enrol.get_data(True)
    limits = post(owner, "/scan/settings", {"program": pid, "cooldown": "5", "per_day": "1"})
    assert limits.status_code in (403, 404)
    for path in (f"/members?program={pid}", f"/members/export.csv?program={pid}"):
        resp = owner.get(path)
        assert "bob@example.test" not in resp.get_data(True), path
    assert snapshot(b, ids) == before


# --- files and keys -----------------------------------------------------------------------


def png() -> bytes:
    """A small opaque PNG."""
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (480, 150), "#225588").save(out, "PNG")
    return out.getvalue()


def test_an_uploaded_file_named_to_escape_is_kept_under_a_generated_name(
        app: Flask, tmp_path: Any) -> None:
    api = Api(app.test_client(), new_owner(app))
    pid = ok(api.post("/programs", {"name": "Cafe", "template": "cafe"}))["id"]
    sneaky = "../../x.py"
    image = api.client.put(f"/api/v1/programs/{pid}/images/logo", headers=api.headers,
                           data={"file": (io.BytesIO(png()), sneaky)},
                           content_type="multipart/form-data")
    assert image.status_code == 200, image.get_json()
    assert all(name.startswith("logo") and name.endswith(".png")
               for name in image.get_json()["files"])
    listed = api.client.post(f"/api/v1/programs/{pid}/imports", headers=api.headers,
                             data={"file": (io.BytesIO(b"email\nf@example.test\n"), sneaky),
                                   "consent_basis": "Customers who agreed to e-mails"},
                             content_type="multipart/form-data")
    assert listed.status_code == 202, listed.get_json()
    assert sneaky not in listed.get_data(True)
    assert not [p for p in tmp_path.parent.rglob("x.py")], "an upload named a path was written"


def test_private_keys_and_the_secret_key_are_readable_by_the_service_only(
        make_app: Any, tmp_path: Any) -> None:
    import stat

    from app.wallet.apple.certs import create_dev_identity

    paths = create_dev_identity(tmp_path / "certs")
    assert stat.S_IMODE(paths["key"].stat().st_mode) == 0o600
    app = make_app(SECRET_KEY="", APPLE_CERT="", APPLE_KEY="", APPLE_WWDR="")
    data = tmp_path / "data"
    assert stat.S_IMODE((data / "secret_key").stat().st_mode) == 0o600
    assert app.secret_key
    for key in data.rglob("*key*.pem"):
        assert stat.S_IMODE(key.stat().st_mode) == 0o600, key


def test_a_route_with_an_unknown_parameter_fails_the_sweep(app: Flask) -> None:
    app.add_url_rule("/api/v1/widgets/<int:widget_id>", "api.widget", lambda widget_id: "")
    rule = next(r for r in app.url_map.iter_rules() if r.endpoint == "api.widget")
    with pytest.raises(pytest.fail.Exception, match="no known object for <widget_id>"):
        list(fillings(rule, {"program_id": 1}))


def int_names(rule: Rule) -> list[str]:
    """The rule's `<int:...>` parameters, in path order."""
    return [n for n in re.findall(r"<(?:[^:<>]+:)?(\w+)>", rule.rule)
            if isinstance(rule._converters[n], IntegerConverter)]


def test_an_own_object_does_not_open_another_merchants_inner_object(app: Flask) -> None:
    a = Api(app.test_client(), new_owner(app))
    b = Api(app.test_client(), new_owner(app, "Other Shop", OTHER))
    own, theirs = objects_of(app, a, "ann"), objects_of(app, b)
    before = snapshot(b, theirs)
    owner = app.test_client()
    log_in(owner)
    checked = 0
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        names = int_names(rule)
        if len(names) < 2 or rule.endpoint in PUBLIC:
            continue
        inner = list(SECTION_ITEM.values()) if names[-1] == "item_id" else names[-1:]
        mixed = {**own, **{k: theirs[k] for k in inner}}  # A's outer object, B's inner one
        for values in fillings(rule, mixed):
            path = path_of(rule, values)
            for method in methods_of(rule):
                if path.startswith("/api/v1"):
                    resp = a.client.open(path, method=method, headers=a.headers,
                                         json=API_BODY)
                    if resp.status_code in (400, 415, 422):  # the body is checked first
                        nowhere = path_of(rule, {**values, names[-1]: 2**31 - 2})
                        same = a.client.open(nowhere, method=method, headers=a.headers,
                                             json=API_BODY)
                        assert same.get_json() == resp.get_json(), path
                        continue
                else:
                    resp = owner.open(path, method=method, **dashboard_body(owner, method))
                    if resp.status_code == 302:  # back to A's own member, with the error
                        assert "done=" not in resp.headers["Location"], path
                        continue
                assert resp.status_code in (403, 404), (method, path, resp.status_code)
                checked += 1
    assert checked >= 5
    assert snapshot(b, theirs) == before
