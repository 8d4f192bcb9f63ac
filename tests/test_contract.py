"""The API keeps its published contract: a bounded schemathesis run against the generated
OpenAPI document finds no server error and no answer off its schema, and the drift found
between the old hand-written schema and the validators stays fixed."""

from __future__ import annotations

import time
from typing import Any

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from tests.conftest import Api

MAX_EXAMPLES = 15
TIME_BOUND = 45.0  # seconds for the whole run on one database


def fixtures(api: Api) -> dict[str, int]:
    """One object of each kind, so that the id routes have something to find."""
    program = api.post("/programs", {"name": "Fuzz Cafe", "template": "cafe"}).get_json()
    pid = program["id"]
    member = api.post(f"/programs/{pid}/members", {"email": "fuzz@example.test"}).get_json()
    earned = api.post(f"/members/{member['id']}/earn", {"points": 500}).get_json()
    ids = {"program_id": pid, "member_id": member["id"],
           "transaction_id": earned["transaction"]["id"]}
    for name, path, body in (
            ("tier_id", f"/programs/{pid}/tiers", {"name": "Gold", "threshold": "100"}),
            ("reward_id", f"/programs/{pid}/rewards",
             {"name": "Cake", "kind": "free_item", "points_cost": 50}),
            ("cause_id", f"/programs/{pid}/causes", {"name": "Trees"}),
            ("webhook_id", "/webhooks", {"url": "https://hooks.example.test/fuzz",
                                         "events": ["points.changed"]})):
        resp = api.post(path, body)
        assert resp.status_code == 201, resp.get_json()
        ids[name] = resp.get_json()["id"]
    return ids


def test_schemathesis_finds_no_server_error_and_no_answer_off_schema(app: Flask,
                                                                     api: Api) -> None:
    ids = fixtures(api)
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    checks = [not_a_server_error, response_schema_conformance]
    failures: list[str] = []
    statuses: list[int] = []
    started = time.monotonic()
    operations = [result.ok() for result in schema.get_all_operations()]
    documented = api.get("/openapi.json").get_json()["paths"]
    assert len(operations) == sum(len(ops) for ops in documented.values()) > 30
    for operation in operations:
        names = [p.name for p in operation.path_parameters]
        fixed = {n: ids[n] for n in names if n in ids}
        strategy = operation.as_strategy(path_parameters=fixed or None)

        @settings(max_examples=MAX_EXAMPLES, deadline=None, database=None,
                  phases=[Phase.generate], suppress_health_check=list(HealthCheck))
        @given(case=strategy)
        def run(case: Any) -> None:
            try:
                answer = case.call_and_validate(headers=api.headers, checks=checks)
                statuses.append(answer.status_code)
            except Exception as exc:  # schemathesis' failures, collected and reported below
                failures.append(f"{case.operation.label}: {_describe(exc)}")

        run()
    elapsed = time.monotonic() - started
    assert not failures, "\n\n".join(failures[:5])
    assert sum(200 <= s < 300 for s in statuses) > len(statuses) / 3  # not all refused
    assert elapsed < TIME_BOUND, f"the run took {elapsed:.0f} s"


def _describe(exc: BaseException) -> str:
    """A failure in a few lines (schemathesis groups them)."""
    inner = exc.exceptions if isinstance(exc, BaseExceptionGroup) else [exc]
    return " | ".join(f"{type(e).__name__}: {str(e)[:400]}" for e in inner)


# --- drift between the published schema and what the API does -----------------------------


def component(api: Api, name: str) -> dict[str, Any]:
    """A component schema of the published document."""
    return dict(api.get("/openapi.json").get_json()["components"]["schemas"][name])


def test_published_schemas_say_what_the_api_accepts(api: Api) -> None:
    member_create = component(api, "MemberCreate")
    assert {"birthday", "referral_code"} <= set(member_create["properties"])
    assert member_create["additionalProperties"] is False
    transaction = component(api, "Transaction")
    assert transaction["properties"]["source"]["enum"] == ["pos", "api", "system"]
    amount = transaction["properties"]["amount"]["anyOf"][0]
    assert amount["pattern"].startswith("^-?")  # voids carry negative amounts
    assert {"required": ["points"]} in component(api, "Earn")["allOf"][0]["oneOf"]
    redeem = component(api, "Redeem")["allOf"][0]["oneOf"]
    assert redeem == [{"required": ["points"]}, {"required": ["reward_id"]}]
    earn_amount = component(api, "Earn")["properties"]["amount"]["anyOf"]
    assert earn_amount[0]["pattern"] == "^[0-9]{1,10}(\\.[0-9]{1,2})?$"
    assert earn_amount[1] == {"type": "integer", "minimum": 1, "maximum": 9999999999}
    rules = component(api, "RulesUpdate")["properties"]
    assert rules["stamps_required"]["maximum"] == 20
    assert component(api, "Program")["properties"]["timezone"]["type"] == "string"


@pytest.mark.parametrize("body", [{"amount": "1e5"}, {"amount": 1e5}, {"amount": 12.5},
                                  {"amount": "1,000"}, {"amount": " "}, {"points": "10"},
                                  {"points": True}, {"points": 1, "amount": "1"}, {}])
def test_amounts_are_plain_decimal_strings(api: Api, member: dict[str, Any],
                                           body: dict[str, Any]) -> None:
    resp = api.post(f"/members/{member['id']}/earn", body)
    assert resp.status_code == 422, resp.get_json()
    error = resp.get_json()["error"]
    assert error["code"] == "validation_error"
    assert api.get(f"/members/{member['id']}").get_json()["points"] == 0


def test_validation_errors_name_the_field(api: Api, program: dict[str, Any]) -> None:
    resp = api.post(f"/programs/{program['id']}/tiers", {"name": "Gold", "threshold": "1e3"})
    assert resp.status_code == 422
    error = resp.get_json()["error"]
    assert error["message"].startswith("'threshold'")
    assert error["details"]["fields"][0]["field"] == "threshold"
    resp = api.patch(f"/programs/{program['id']}",
                     {"locations": [{"latitude": 10, "longitude": 200}]})
    assert resp.get_json()["error"]["details"]["fields"][0]["field"] == "locations[0].longitude"
    resp = api.post(f"/programs/{program['id']}/members", {"email": "a@b.co", "nick": "A"})
    assert resp.get_json()["error"]["message"].startswith("Unknown field 'nick'.")


def test_enrollment_takes_birthday_and_referral_code(api: Api, program: dict[str, Any],
                                                     member: dict[str, Any]) -> None:
    code = member["referral_code"]
    resp = api.post(f"/programs/{program['id']}/members",
                    {"email": "bo@example.test", "birthday": "1990-04-01",
                     "referral_code": code.lower()})
    assert resp.status_code == 201, resp.get_json()
    assert resp.get_json()["birthday"] == "1990-04-01"
    bad = api.post(f"/programs/{program['id']}/members",
                   {"email": "cy@example.test", "birthday": "1990-02-30"})
    assert bad.status_code == 422 and "'birthday'" in bad.get_json()["error"]["message"]


def test_void_of_a_purchase_answers_a_negative_amount_the_schema_allows(
        api: Api, member: dict[str, Any]) -> None:
    import re

    tx = api.post(f"/members/{member['id']}/earn", {"amount": "20"}).get_json()["transaction"]
    void = api.post(f"/transactions/{tx['id']}/void").get_json()["transaction"]
    pattern = component(api, "Transaction")["properties"]["amount"]["anyOf"][0]["pattern"]
    assert void["amount"] == "-20.00" and re.match(pattern, void["amount"])


@pytest.mark.parametrize(("path", "body"), [
    ("redeem", {"reward_id": 2**40}), ("donate", {"points": 1, "cause_id": 2**40})])
def test_ids_in_bodies_beyond_32_bits_are_refused_not_a_500(api: Api, member: dict[str, Any],
                                                            path: str, body: dict[str, Any]
                                                            ) -> None:
    resp = api.post(f"/members/{member['id']}/{path}", body)  # found by schemathesis on PG
    assert resp.status_code == 422
    assert resp.get_json()["error"]["details"]["fields"][0]["field"] in ("reward_id", "cause_id")
    assert api.get(f"/members?program_id={2**40}&email=a@b.co").status_code == 422


def test_the_same_models_parse_form_and_csv_text() -> None:
    from datetime import date
    from decimal import Decimal

    from app.errors import ValidationError
    from app.loyalty.schemas import Earn, RewardUpdate, RulesUpdate
    from app.members.schemas import MemberCreate
    from app.validation import parse

    member = parse(MemberCreate, {"email": " Ann@Example.TEST ", "birthday": "1990-04-01",
                                  "language": "th_TH"})
    assert member.given() == {"email": "ann@example.test", "birthday": date(1990, 4, 1),
                              "language": "th"}
    assert parse(Earn, {"amount": "12.50"}).amount == Decimal("12.50")
    assert parse(Earn, {"points": " 10 "}).points == 10
    assert parse(RulesUpdate, {"expiry_days": "30"}).given() == {"expiry_days": 30}
    assert parse(RewardUpdate, {"active": "on"}).given() == {"active": True}
    with pytest.raises(ValidationError, match="'amount'"):
        parse(Earn, {"amount": "1e5"})


def test_deeply_nested_json_with_an_idempotency_key_is_a_4xx(api: Api) -> None:
    raw = "[" * 100_000 + "]" * 100_000
    resp = api.client.post("/api/v1/programs", data=raw, headers={
        **api.headers, "Content-Type": "application/json", "Idempotency-Key": "deep"})
    assert resp.status_code == 400
    assert resp.get_json()["error"]["code"] == "invalid_json"


# --- smaller findings ----------------------------------------------------------------------


def test_image_upload_without_content_type_is_told_what_to_send(
        api: Api, program: dict[str, Any]) -> None:
    from tests.test_idempotency import png

    url = f"/api/v1/programs/{program['id']}/images/logo"
    resp = api.client.put(url, data=png((1, 2, 3)), headers=api.headers)
    assert resp.status_code == 415
    assert "Content-Type: image/png" in resp.get_json()["error"]["message"]
    resp = api.client.put(url, data=png((1, 2, 3)),
                          headers={**api.headers, "Content-Type": "image/png"})
    assert resp.status_code == 200


@pytest.mark.parametrize("url", ["https://user:secret@hooks.example.test/x",
                                 "https://token@hooks.example.test/x"])
def test_webhook_urls_with_credentials_are_refused(api: Api, url: str) -> None:
    resp = api.post("/webhooks", {"url": url, "events": ["points.changed"]})
    assert resp.status_code == 422
    error = resp.get_json()["error"]
    assert "user name or password" in error["message"]
    assert "secret" not in resp.get_data(as_text=True).replace("secret instead", "")
    assert api.get("/webhooks").get_json() == {"webhooks": []}
    hook = api.post("/webhooks", {"url": "https://hooks.example.test/x",
                                  "events": ["points.changed"]}).get_json()
    assert api.patch(f"/webhooks/{hook['id']}", {"url": url}).status_code == 422
    assert api.get(f"/webhooks/{hook['id']}").get_json()["url"] == "https://hooks.example.test/x"
