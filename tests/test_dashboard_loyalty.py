"""The designer's tiers, rewards, earning rules and store locations pages: the API's input
models and operations behind dashboard forms, errors next to the field in five languages,
and installed cards marked changed through the update pipeline."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from app.extensions import db
from app.i18n import catalog
from app.models import LoyaltyRules, Member, Reward, StoreLocation, Tier
from tests.conftest import BASE_URL, Api
from tests.dashboard_helpers import csrf_of, link_in, log_in, mails, new_owner, post

SECTIONS = ("tiers", "rewards", "rules", "locations")


def designer(app: Flask, client: FlaskClient) -> tuple[str, str, int]:
    """An owner logged in with a cafe card; (designer path, API key, program id)."""
    key = new_owner(app)
    log_in(client)
    made = post(client, "/design", {"name": "Bean Rewards", "template": "cafe"}, page="/design")
    assert made.status_code == 302, made.get_data(True)
    path = made.headers["Location"]
    return path, key, int(path.rsplit("/", 1)[1])


def send(client: FlaskClient, path: str, data: dict[str, Any]) -> Any:
    """POST a dashboard form to `path` with the session's CSRF token."""
    return client.post(path, data={"csrf_token": csrf_of(client, "/"), **data})


def error_of(html: str, field: str) -> str:
    """The message shown next to a field (empty when hidden)."""
    found = re.search(rf'<p class="error" id="e-{field}" role="alert"\s*>([^<]*)</p>', html)
    assert found, f"no error paragraph for {field}"
    return found.group(1).strip()


def pass_versions(app: Flask, program_id: int) -> list[int]:
    """Every member's pass version of the program."""
    with app.app_context():
        return list(db.session.scalars(select(Member.pass_version).where(
            Member.program_id == program_id).order_by(Member.id)))


def test_tiers_are_added_changed_and_deleted(app: Flask, client: FlaskClient) -> None:
    path, _key, program_id = designer(app, client)
    tiers = f"{path}/tiers"
    page = client.get(path).get_data(True)
    assert f'href="{tiers}"' in page  # reached from the designer
    added = send(client, tiers, {"name": "Gold", "threshold": "100", "multiplier": "1.5",
                                 "perks": "Free upsize", "background_color": "#c9a227",
                                 "foreground_color": "", "label_color": ""})
    assert added.status_code == 302 and "done=added" in added.headers["Location"]
    with app.app_context():
        tier = db.session.scalars(select(Tier)).one()
        assert (tier.name, tier.threshold, tier.multiplier) == ("Gold", 100, Decimal("1.5"))
        assert tier.background_color == "#C9A227" and tier.foreground_color is None
        tier_id = tier.id
    listing = client.get(tiers).get_data(True)
    assert "Gold" in listing and "Free upsize" in listing  # the preview's sample reaches it
    changed = send(client, f"{tiers}/{tier_id}", {"name": "Gold", "threshold": "150",
                                                  "multiplier": "2", "perks": "",
                                                  "background_color": "",
                                                  "foreground_color": "",
                                                  "label_color": ""})
    assert changed.status_code == 302
    with app.app_context():
        again = db.session.get(Tier, tier_id)
        assert again is not None and again.threshold == 150 and again.perks == ""
        assert again.background_color is None
    gone = send(client, f"{tiers}/{tier_id}/remove", {})
    assert gone.status_code == 302
    with app.app_context():
        assert db.session.get(Tier, tier_id) is None


def test_a_duplicate_tier_name_shows_at_the_name(app: Flask, client: FlaskClient) -> None:
    path, _key, _pid = designer(app, client)
    tiers = f"{path}/tiers"
    send(client, tiers, {"name": "Gold", "threshold": "100"})
    again = send(client, tiers, {"name": "Gold", "threshold": "200"})
    assert again.status_code == 422
    assert error_of(again.get_data(True), "name") == "Another tier already has this name."


def test_rewards_are_added_changed_and_retired(app: Flask, client: FlaskClient,
                                               api: Api) -> None:
    path, key, program_id = designer(app, client)
    member = Api(app.test_client(), key).post(f"/programs/{program_id}/members",
                                              {"email": "ann@example.test"})
    assert member.status_code == 201
    before = pass_versions(app, program_id)
    rewards = f"{path}/rewards"
    added = send(client, rewards, {"name": "Free latte", "kind": "free_item", "value": "",
                                   "points_cost": "100", "active": "true"})
    assert added.status_code == 302
    after = pass_versions(app, program_id)
    assert after[0] > before[0]  # the installed card is marked changed (the update pipeline)
    with app.app_context():
        reward = db.session.scalars(select(Reward)).one()
        assert (reward.name, reward.kind, reward.value, reward.points_cost, reward.active) == (
            "Free latte", "free_item", None, 100, True)
        reward_id = reward.id
    listed = Api(app.test_client(), key).get(f"/programs/{program_id}/rewards").get_json()
    assert [r["name"] for r in listed["rewards"]] == ["Free latte"]  # the API sees it
    changed = send(client, f"{rewards}/{reward_id}", {"name": "10% off", "kind": "percent_off",
                                                      "value": "10", "points_cost": "80",
                                                      "active": "true"})
    assert changed.status_code == 302
    retired = send(client, f"{rewards}/{reward_id}/remove", {})
    assert retired.status_code == 302
    with app.app_context():
        again = db.session.get(Reward, reward_id)
        assert again is not None and again.kind == "percent_off" and again.value == 10
        assert again.active is False
    assert "Retired" in client.get(rewards).get_data(True)


def test_a_reward_value_that_does_not_fit_its_kind_shows_at_the_value(
        app: Flask, client: FlaskClient) -> None:
    path, _key, _pid = designer(app, client)
    refused = send(client, f"{path}/rewards", {"name": "Half", "kind": "percent_off",
                                               "value": "150", "points_cost": "10"})
    assert refused.status_code == 422
    assert error_of(refused.get_data(True), "value") == "A percentage is at most 100."
    assert "percent_off reward" not in refused.get_data(True)  # no API words in a banner
    missing = send(client, f"{path}/rewards", {"name": "Half", "kind": "amount_off",
                                               "value": "", "points_cost": "0"})
    html = missing.get_data(True)
    assert error_of(html, "points_cost") == "Must be a whole number from 1 to 1000000000."
    with app.app_context():
        assert db.session.scalars(select(Reward)).all() == []


def test_the_earning_rules_and_point_value(app: Flask, client: FlaskClient) -> None:
    path, key, program_id = designer(app, client)
    rules = f"{path}/rules"
    assert 'name="point_value"' in client.get(rules).get_data(True)
    saved = send(client, rules, {"mode": "points", "points_per_unit": "2", "rounding": "round",
                                 "points_per_purchase": "5", "stamps_required": "10",
                                 "welcome_bonus": "50", "referral_bonus": "0",
                                 "birthday_bonus": "0", "expiry_days": "",
                                 "expiring_soon_days": "30", "tier_basis": "points",
                                 "tier_window_months": "12", "point_value": "0.25"})
    assert saved.status_code == 302, saved.get_data(True)
    answer = Api(app.test_client(), key).get(f"/programs/{program_id}/rules").get_json()
    assert answer["points_per_unit"] == "2" and answer["point_value"] == "0.25"
    assert answer["expiry_days"] is None and answer["tier_window_months"] == 12
    bad = send(client, rules, {"points_per_unit": "-1", "point_value": "0.12345"})
    html = bad.get_data(True)
    assert bad.status_code == 422
    assert error_of(html, "points_per_unit") == "Must be at least 0 and at most 100000."
    assert error_of(html, "point_value") == "Has more than 4 decimal places."
    with app.app_context():
        kept = db.session.scalars(select(LoyaltyRules)).one()
        assert kept.point_value == Decimal("0.25")


def test_store_locations_reach_the_cards(app: Flask, client: FlaskClient) -> None:
    path, key, program_id = designer(app, client)
    api = Api(app.test_client(), key)
    api.post(f"/programs/{program_id}/members", {"email": "ann@example.test"})
    before = pass_versions(app, program_id)
    places = f"{path}/locations"
    added = send(client, places, {"name": "Silom", "address": "1 Silom Rd, Bangkok",
                                  "latitude": "13.7563", "longitude": "100.5018",
                                  "timezone": "", "relevant_text": "Bean There Silom"})
    assert added.status_code == 302, added.get_data(True)
    assert pass_versions(app, program_id)[0] > before[0]
    listed = api.get(f"/programs/{program_id}/locations").get_json()["locations"]
    assert [(p["name"], p["latitude"], p["timezone"]) for p in listed] == [
        ("Silom", 13.7563, None)]
    location_id = listed[0]["id"]
    moved = send(client, f"{places}/{location_id}", {
        "name": "Silom", "address": "", "latitude": "13.75", "longitude": "100.5",
        "timezone": "Asia/Bangkok", "relevant_text": ""})
    assert moved.status_code == 302
    with app.app_context():
        row = db.session.get(StoreLocation, location_id)
        assert row is not None and row.latitude == 13.75 and row.timezone == "Asia/Bangkok"
    send(client, f"{places}/{location_id}/remove", {})
    assert api.get(f"/programs/{program_id}/locations").get_json()["locations"] == []


@pytest.mark.parametrize("lang, empty, coordinate", [
    ("en", "Must not be empty.", "Must be a number from -90 to 90."),
    ("th", "ต้องไม่เว้นว่าง", "ต้องเป็นตัวเลขตั้งแต่ -90 ถึง 90"),
    ("zh-Hant", "不可留空。", "須為 -90 到 90 的數字。"),
    ("vi", "Không được để trống.", "Phải là số từ -90 đến 90."),
    ("ms", "Tidak boleh kosong.", "Mesti nombor dari -90 hingga 90."),
])
def test_field_errors_are_in_the_readers_language(app: Flask, client: FlaskClient, lang: str,
                                                  empty: str, coordinate: str) -> None:
    path, _key, _pid = designer(app, client)
    post(client, "/language", {"lang": lang, "next": "/"})
    refused = send(client, f"{path}/locations", {"name": " ", "latitude": "91",
                                                 "longitude": "100"})
    html = refused.get_data(True)
    assert refused.status_code == 422
    assert error_of(html, "name") == empty
    assert error_of(html, "latitude") == coordinate
    assert 'aria-invalid="true"' in html


def rule_failures() -> list[Any]:
    """The RuleError of every way the shared field rules can refuse a value."""
    from app.loyalty.schemas import check_reward_value
    from app.validation import (
        COLOR,
        CURRENCY_CODE,
        EMAIL_ADDRESS,
        FLAG,
        LATITUDE,
        TIMEZONE,
        RuleError,
        decimal,
        integer,
        normalize_phone,
        one_of,
        text,
    )

    attempts: list[Any] = [
        lambda: text(5).check(3), lambda: text(5).check("a\x00"), lambda: text(5).check(" "),
        lambda: text(5).check("toolong"), lambda: COLOR.check("red"),
        lambda: EMAIL_ADDRESS.check("nobody"), lambda: CURRENCY_CODE.check("baht"),
        lambda: TIMEZONE.check(""), lambda: TIMEZONE.check("Mars/Olympus"),
        lambda: one_of("a", "b").check("c"), lambda: decimal(Decimal(0), Decimal(9)).check("x"),
        lambda: decimal(Decimal(0), Decimal(9)).check("1.234"),
        lambda: decimal(Decimal(0), Decimal(9)).check("0"),
        lambda: decimal(Decimal(0), Decimal(9), low_inclusive=True).check("10"),
        lambda: integer(1, 5).check(9), lambda: FLAG.check("maybe"),
        lambda: LATITUDE.check(91.0), lambda: normalize_phone(5),
        lambda: normalize_phone("123", "TH"), lambda: normalize_phone("123"),
        lambda: COLOR._run(None, None),  # type: ignore[arg-type]
        lambda: check_reward_value("free_item", Decimal(1)),
        lambda: check_reward_value("amount_off", None),
        lambda: check_reward_value("percent_off", None),
        lambda: check_reward_value("percent_off", Decimal(101))]
    out = []
    for attempt in attempts:
        with pytest.raises(RuleError) as caught:
            attempt()
        out.append(caught.value)
    return out


def test_every_shared_rule_message_is_translated_in_five_languages() -> None:
    CATALOG = catalog()
    from app.dashboard.i18n import WORDING, rule_message

    failures = rule_failures()
    assert len({f.template for f in failures}) == len(failures)  # each a message of its own
    for failure in failures:
        sentence = WORDING.get(failure.template) or failure.template  # the rule's own words
        assert sentence in CATALOG, sentence
        with Flask(__name__).test_request_context():
            english = rule_message(failure.template, failure.values, "en")
            shown = {lang: rule_message(failure.template, failure.values, lang)
                     for lang in ("th", "zh-Hant", "vi", "ms")}
        written = sentence.format(**{k: str(v) for k, v in failure.values.items()})
        assert english == written[:1].upper() + written[1:]  # a sentence next to the field
        assert all(text and text != english for text in shown.values()), (english, shown)
    assert {"is required."} <= set(WORDING)  # a missing field, too


def test_every_label_of_the_new_pages_is_translated() -> None:
    CATALOG = catalog()
    from app.dashboard.loyalty import CODE_MESSAGES, RULE_FIELDS, SECTIONS

    texts: set[str] = {m for _f, m in CODE_MESSAGES.values()}
    for spec in RULE_FIELDS:
        texts |= {spec.label, spec.hint, spec.group} | {label for _v, label in spec.choices}
    for section in SECTIONS.values():
        texts |= {section.title, section.add_title, section.empty, section.intro,
                  section.confirm, section.remove_label}
        for spec in section.fields:
            texts |= {spec.label, spec.hint} | {label for _v, label in spec.choices}
    missing = sorted(t for t in texts - {""} if t not in CATALOG)
    assert not missing, missing


def test_a_cashier_is_refused_every_new_page(app: Flask, client: FlaskClient) -> None:
    path, _key, _pid = designer(app, client)
    post(client, "/staff/invite", {"email": "c@example.test", "role": "cashier"}, page="/staff")
    invite = link_in(mails(app)[-1], BASE_URL)
    cashier = app.test_client()
    cashier.post(invite, data={"csrf_token": csrf_of(cashier, invite),
                               "password": "cashier password"})
    token = csrf_of(cashier, "/")
    for section in SECTIONS:
        assert cashier.get(f"{path}/{section}").status_code == 403, section
        refused = cashier.post(f"{path}/{section}", data={"csrf_token": token, "name": "X",
                                                          "threshold": "1"})
        assert refused.status_code == 403, section
    with app.app_context():
        assert db.session.scalars(select(Tier)).all() == []


def test_a_form_without_the_csrf_token_is_refused(app: Flask, client: FlaskClient) -> None:
    path, _key, _pid = designer(app, client)
    refused = client.post(f"{path}/tiers", data={"name": "Gold", "threshold": "1"})
    assert refused.status_code == 400
    with app.app_context():
        assert db.session.scalars(select(Tier)).all() == []


def test_another_merchants_tier_is_not_found(app: Flask, client: FlaskClient,
                                             other_api: Api) -> None:
    path, _key, _pid = designer(app, client)
    theirs = other_api.post("/programs", {"name": "Theirs", "template": "cafe"}).get_json()
    tier = other_api.post(f"/programs/{theirs['id']}/tiers",
                          {"name": "Gold", "threshold": "1"}).get_json()
    assert client.get(f"{path}/tiers/{tier['id']}").status_code == 404
    assert send(client, f"{path}/tiers/{tier['id']}/remove", {}).status_code == 404


def test_a_tier_members_hold_is_not_deleted_and_the_page_says_why(
        app: Flask, client: FlaskClient) -> None:
    path, key, program_id = designer(app, client)
    api = Api(app.test_client(), key)
    send(client, f"{path}/tiers", {"name": "Silver", "threshold": "10"})
    member = api.post(f"/programs/{program_id}/members", {"email": "ann@example.test"})
    earned = api.post(f"/members/{member.get_json()['id']}/earn", {"points": 20})
    assert earned.status_code == 201 and earned.get_json()["member"]["tier"]["name"] == "Silver"
    with app.app_context():
        tier_id = db.session.scalars(select(Tier.id)).one()
    post(client, "/language", {"lang": "vi", "next": "/"})
    refused = send(client, f"{path}/tiers/{tier_id}/remove", {})
    assert refused.status_code == 409
    assert "Có thành viên đang giữ hạng này nên chưa thể xóa" in refused.get_data(True)
    with app.app_context():
        assert db.session.get(Tier, tier_id) is not None
