"""The loyalty engine through the API: ledger, earning rules, tiers, rewards, bonuses,
expiry, donations, idempotency, bad input."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select, update

from app.extensions import db
from app.jobs import run_sweep_now
from app.loyalty.ledger import ledger_balance
from app.models import IdempotencyRecord, LedgerEntry, Member
from app.models.base import utcnow
from tests.conftest import Api


def member_row(app: Flask, member_id: int) -> Member:
    """The member as stored."""
    with app.app_context():
        member = db.session.get(Member, member_id)
        assert member is not None
        db.session.expunge(member)
        return member


def entries(app: Flask) -> int:
    """How many ledger entries exist."""
    with app.app_context():
        return int(db.session.scalar(select(func.count()).select_from(LedgerEntry)) or 0)


def earn(api: Api, member_id: int, body: dict[str, Any], **kw: Any) -> Any:
    """POST /members/{id}/earn."""
    return api.post(f"/members/{member_id}/earn", body, **kw)


def set_rules(api: Api, program: dict[str, Any], **rules: Any) -> dict[str, Any]:
    """PATCH the program's rules."""
    resp = api.patch(f"/programs/{program['id']}/rules", rules)
    assert resp.status_code == 200, resp.get_json()
    return dict(resp.get_json())


def test_earn_points_and_amount_with_floor_rounding(api: Api, app: Flask,
                                                    program: dict[str, Any],
                                                    member: dict[str, Any]) -> None:
    set_rules(api, program, points_per_unit="2", rounding="floor")
    resp = earn(api, member["id"], {"amount": "12.75"})
    assert resp.status_code == 201, resp.get_json()
    body = resp.get_json()
    assert body["transaction"]["points"] == 25 and body["transaction"]["amount"] == "12.75"
    assert body["member"]["points"] == 25
    assert body["member"]["pass_version"] > member["pass_version"]
    resp = earn(api, member["id"], {"points": 5, "source": "pos", "actor": "till 3"})
    assert resp.get_json()["member"]["points"] == 30
    assert member_row(app, member["id"]).points == 30


def test_purchase_points_rounding_and_multiplier() -> None:
    from app.loyalty.rules import defaults, purchase_points
    from app.models import LoyaltyRules

    rules = LoyaltyRules(**{**defaults(), "points_per_unit": Decimal("1.5")})
    assert purchase_points(rules, Decimal("9.99"), Decimal("1")) == 14  # 14.985 floored
    rules.rounding = "round"
    assert purchase_points(rules, Decimal("9.99"), Decimal("1")) == 15
    rules.rounding = "ceil"
    assert purchase_points(rules, Decimal("0.01"), Decimal("1")) == 1
    rules.rounding, rules.points_per_purchase = "floor", 3
    assert purchase_points(rules, Decimal("10"), Decimal("2")) == 33


def test_rules_defaults_update_and_validation(api: Api, program: dict[str, Any],
                                              other_api: Api) -> None:
    got = api.get(f"/programs/{program['id']}/rules").get_json()
    assert got["points_per_unit"] == "1" and got["rounding"] == "floor"
    assert got["expiry_days"] is None and got["mode"] == "points"
    updated = set_rules(api, program, points_per_unit="2.5", welcome_bonus=50,
                        expiry_days=365, tier_window_months=12)
    assert updated["points_per_unit"] == "2.5" and updated["welcome_bonus"] == 50
    for bad in ({"rounding": "up"}, {"points_per_unit": "abc"}, {"welcome_bonus": -1},
                {"expiry_days": 0}, {"unknown": 1}, {"welcome_bonus": True}):
        resp = api.patch(f"/programs/{program['id']}/rules", bad)
        assert resp.status_code == 422, bad
    assert api.get(f"/programs/{program['id']}/rules").get_json() == updated
    assert other_api.get(f"/programs/{program['id']}/rules").status_code == 404


def enroll(api: Api, program: dict[str, Any], email: str, **extra: Any) -> dict[str, Any]:
    """Enroll a member; returns its JSON."""
    resp = api.post(f"/programs/{program['id']}/members", {"email": email, **extra})
    assert resp.status_code == 201, resp.get_json()
    return dict(resp.get_json())


def add_tiers(api: Api, program: dict[str, Any]) -> list[dict[str, Any]]:
    """Silver at 100 (x1.5, its own colours) and Gold at 500 (x2)."""
    out = []
    for body in ({"name": "Silver", "threshold": "100", "multiplier": "1.5",
                  "perks": "Free refills", "background_color": "#C0C0C0"},
                 {"name": "Gold", "threshold": "500", "multiplier": "2"}):
        resp = api.post(f"/programs/{program['id']}/tiers", body)
        assert resp.status_code == 201, resp.get_json()
        out.append(resp.get_json())
    return out


def test_tier_promotion_multiplier_and_next_tier(api: Api, app: Flask,
                                                 program: dict[str, Any]) -> None:
    add_tiers(api, program)
    ann = enroll(api, program, "t@example.test")
    assert ann["tier"] is None and ann["next_tier"] == {"name": "Silver", "points_needed": 100}
    body = earn(api, ann["id"], {"amount": "99.99"}).get_json()["member"]
    assert body["points"] == 99 and body["tier"] is None
    assert body["next_tier"]["points_needed"] == 1
    body = earn(api, ann["id"], {"points": 1}).get_json()["member"]
    assert body["tier"]["name"] == "Silver" and body["tier"]["perks"] == "Free refills"
    assert body["next_tier"] == {"name": "Gold", "points_needed": 400}
    body = earn(api, ann["id"], {"amount": "10"}).get_json()
    assert body["transaction"]["points"] == 15  # Silver earns x1.5
    with app.app_context():
        from app.wallet.apple.passjson import field_groups, pass_texts
        from app.wallet.content import Line, card_content
        from app.wallet.snapshot import load_snapshot

        member = db.session.get(Member, ann["id"])
        content = card_content(load_snapshot(member))
        assert content.tier == Line("Tier", "Silver")
        assert ("tier", content.tier, "Your tier is now %@") in field_groups(content)[
            "secondaryFields"]
        program = member.program
        assert content.style.background_color == "#C0C0C0"  # the tier's colour
        assert content.style.foreground_color == program.foreground_color  # not set by it
        texts = pass_texts(content)
        assert "Silver" not in texts  # member data stays out of pass.strings
        assert {"Tier", "Your tier is now %@", "New reward available: %@"} <= set(texts)


def test_tier_demotion_at_end_of_window(api: Api, app: Flask, program: dict[str, Any]) -> None:
    add_tiers(api, program)
    set_rules(api, program, tier_window_months=12)
    ann = enroll(api, program, "d@example.test")
    body = earn(api, ann["id"], {"points": 600}).get_json()["member"]
    assert body["tier"]["name"] == "Gold" and body["tier"]["until"] is not None
    with app.app_context():  # a year and a day later, only 150 points earned in the window
        past = utcnow() - timedelta(days=400)
        db.session.execute(update(LedgerEntry).values(created_at=past))
        db.session.execute(update(Member).where(Member.id == ann["id"])
                           .values(tier_expires_at=utcnow() - timedelta(days=1)))
        db.session.commit()
    earn(api, ann["id"], {"points": 150})
    version = member_row(app, ann["id"]).pass_version
    with app.app_context():
        assert run_sweep_now("loyalty_tier_review") == 1
        assert run_sweep_now("loyalty_tier_review") == 0  # safe to run twice
    row = member_row(app, ann["id"])
    shown = api.get(f"/members/{ann['id']}").get_json()
    assert shown["tier"]["name"] == "Silver" and row.pass_version == version + 1
    assert row.tier_expires_at is not None and row.tier_expires_at > utcnow()


def test_tier_crud_and_isolation(api: Api, other_api: Api, program: dict[str, Any]) -> None:
    silver, gold = add_tiers(api, program)
    assert api.post(f"/programs/{program['id']}/tiers",
                    {"name": "Gold", "threshold": "9"}).status_code == 409
    assert api.post(f"/programs/{program['id']}/tiers",
                    {"name": "Bad", "threshold": "-5"}).status_code == 422
    resp = api.patch(f"/tiers/{gold['id']}", {"perks": "Lounge", "label_color": None})
    assert resp.status_code == 200 and resp.get_json()["perks"] == "Lounge"
    assert other_api.patch(f"/tiers/{gold['id']}", {"perks": "x"}).status_code == 404
    ann = enroll(api, program, "c@example.test")
    earn(api, ann["id"], {"points": 100})
    assert api.client.delete(f"/api/v1/tiers/{silver['id']}",
                             headers=api.headers).status_code == 409
    assert api.client.delete(f"/api/v1/tiers/{gold['id']}",
                             headers=api.headers).status_code == 200
    names = [t["name"] for t in api.get(f"/programs/{program['id']}/tiers").get_json()["tiers"]]
    assert names == ["Silver"]


def add_reward(api: Api, program: dict[str, Any], cost: int = 100,
               name: str = "Free coffee") -> dict[str, Any]:
    """A free-item reward."""
    resp = api.post(f"/programs/{program['id']}/rewards",
                    {"name": name, "kind": "free_item", "points_cost": cost})
    assert resp.status_code == 201, resp.get_json()
    return dict(resp.get_json())


def test_rewards_redeem_and_void(api: Api, app: Flask, program: dict[str, Any],
                                 member: dict[str, Any]) -> None:
    coffee = add_reward(api, program, 100)
    earn(api, member["id"], {"points": 150})
    resp = api.post(f"/members/{member['id']}/redeem", {"reward_id": coffee["id"]})
    assert resp.status_code == 201, resp.get_json()
    tx = resp.get_json()["transaction"]
    assert tx["points"] == -100 and tx["reward_id"] == coffee["id"]
    assert resp.get_json()["member"]["points"] == 50
    before = entries(app)
    resp = api.post(f"/members/{member['id']}/redeem", {"reward_id": coffee["id"]})
    assert resp.status_code == 409 and resp.get_json()["error"]["code"] == "insufficient_points"
    assert entries(app) == before and member_row(app, member["id"]).points == 50
    resp = api.post(f"/transactions/{tx['id']}/void", {"reason": "wrong item"})
    assert resp.status_code == 201 and resp.get_json()["member"]["points"] == 150
    assert resp.get_json()["transaction"]["voids_transaction_id"] == tx["id"]
    assert api.post(f"/transactions/{tx['id']}/void").status_code == 409
    assert api.get(f"/transactions/{tx['id']}").get_json()["voided"] is True
    resp = api.post(f"/members/{member['id']}/redeem", {"points": 150})
    assert resp.status_code == 201 and resp.get_json()["member"]["points"] == 0


def test_reward_catalog_crud(api: Api, other_api: Api, program: dict[str, Any]) -> None:
    add_reward(api, program)
    pct = api.post(f"/programs/{program['id']}/rewards", {
        "name": "10% off", "kind": "percent_off", "value": "10", "points_cost": 200})
    assert pct.status_code == 201 and pct.get_json()["value"] == "10"
    for bad in ({"name": "x", "kind": "percent_off", "value": "150", "points_cost": 1},
                {"name": "x", "kind": "amount_off", "points_cost": 1},
                {"name": "x", "kind": "free_item", "points_cost": 0},
                {"name": "x", "kind": "cash", "points_cost": 5}):
        assert api.post(f"/programs/{program['id']}/rewards", bad).status_code == 422, bad
    rid = pct.get_json()["id"]
    assert other_api.patch(f"/rewards/{rid}", {"points_cost": 1}).status_code == 404
    assert api.patch(f"/rewards/{rid}", {"points_cost": 250}).get_json()["points_cost"] == 250
    assert api.client.delete(f"/api/v1/rewards/{rid}", headers=api.headers).status_code == 200
    listed = api.get(f"/programs/{program['id']}/rewards").get_json()["rewards"]
    assert [r["name"] for r in listed] == ["Free coffee"]
    everything = api.get(f"/programs/{program['id']}/rewards?all=true").get_json()["rewards"]
    assert len(everything) == 2


def test_card_shows_reward_available(api: Api, app: Flask, program: dict[str, Any],
                                     member: dict[str, Any]) -> None:
    add_reward(api, program, 50, "Cookie")
    add_reward(api, program, 100, "Free coffee")
    earn(api, member["id"], {"points": 120})
    with app.app_context():
        from app.wallet.apple.passjson import field_groups
        from app.wallet.content import Line, card_content
        from app.wallet.snapshot import load_snapshot

        content = card_content(load_snapshot(db.session.get(Member, member["id"])))
        assert content.available_reward == Line("Rewards", "Free coffee")
        assert ("reward", content.available_reward, "New reward available: %@") in (
            field_groups(content)["auxiliaryFields"])


def test_welcome_and_referral_bonuses(api: Api, app: Flask, program: dict[str, Any]) -> None:
    set_rules(api, program, welcome_bonus=20, referral_bonus=30)
    ann = enroll(api, program, "ann2@example.test")
    assert ann["points"] == 20 and len(ann["referral_code"]) == 8
    bob = enroll(api, program, "bob@example.test", referral_code=ann["referral_code"].lower())
    assert bob["points"] == 20
    resp = api.post(f"/programs/{program['id']}/members",
                    {"email": "eve@example.test", "referral_code": "NOPE1234"})
    assert resp.status_code == 422 and resp.get_json()["error"]["code"] == "unknown_referral_code"
    earn(api, bob["id"], {"amount": "5"})
    earn(api, bob["id"], {"amount": "5"})
    assert member_row(app, ann["id"]).points == 50  # credited once, on the first purchase
    kinds = [t["kind"] for t in
             api.get(f"/members/{ann['id']}/transactions").get_json()["transactions"]]
    assert kinds == ["bonus_referral", "bonus_welcome"]


def test_birthday_bonus_once_a_year(api: Api, app: Flask, program: dict[str, Any]) -> None:
    set_rules(api, program, birthday_bonus=40)
    today = utcnow().date()
    born = today.replace(year=1990) if (today.month, today.day) != (2, 29) else today
    ann = enroll(api, program, "bday@example.test", birthday=born.isoformat())
    enroll(api, program, "other@example.test", birthday="1990-01-01" if today.month != 1
           else "1990-06-01")
    assert api.post(f"/programs/{program['id']}/members",
                    {"email": "x@example.test", "birthday": "1990-13-01"}).status_code == 422
    with app.app_context():
        assert run_sweep_now("loyalty_birthdays") == 1
        assert run_sweep_now("loyalty_birthdays") == 0
    assert member_row(app, ann["id"]).points == 40


def test_manual_adjustment_needs_reason(api: Api, app: Flask, member: dict[str, Any]) -> None:
    path = f"/members/{member['id']}/adjust"
    assert api.post(path, {"points": 10}).status_code == 422
    assert api.post(path, {"points": 0, "reason": "x"}).status_code == 422
    resp = api.post(path, {"points": 10, "reason": "Goodwill", "actor": "manager"})
    assert resp.status_code == 201 and resp.get_json()["transaction"]["actor"] == "manager"
    assert api.post(path, {"points": -11, "reason": "Fix"}).status_code == 409
    assert api.post(path, {"points": -10, "reason": "Fix"}).get_json()["member"]["points"] == 0


def test_expiry_oldest_first_and_expiring_soon(api: Api, app: Flask, program: dict[str, Any],
                                              member: dict[str, Any]) -> None:
    set_rules(api, program, expiry_days=365, expiring_soon_days=30)
    first = earn(api, member["id"], {"points": 100}).get_json()["transaction"]
    earn(api, member["id"], {"points": 50})
    with app.app_context():  # the first lot is now 350 days old: it expires within 30 days
        db.session.execute(update(LedgerEntry).where(LedgerEntry.id == first["id"]).values(
            expires_at=utcnow() + timedelta(days=15)))
        db.session.commit()
    shown = api.get(f"/members/{member['id']}").get_json()
    assert [e["points"] for e in shown["expiring_points"]] == [100]
    api.post(f"/members/{member['id']}/redeem", {"points": 30})  # taken from the oldest lot
    shown = api.get(f"/members/{member['id']}").get_json()
    assert shown["expiring_points"][0]["points"] == 70
    with app.app_context():
        db.session.execute(update(LedgerEntry).where(LedgerEntry.id == first["id"]).values(
            expires_at=utcnow() - timedelta(seconds=1)))
        db.session.commit()
        assert run_sweep_now("loyalty_expiry") == 1
        assert run_sweep_now("loyalty_expiry") == 0
    row = member_row(app, member["id"])
    assert row.points == 50
    last = api.get(f"/members/{member['id']}/transactions").get_json()["transactions"][0]
    assert last["kind"] == "expire" and last["points"] == -70


def test_donations_and_totals(api: Api, app: Flask, other_api: Api, program: dict[str, Any],
                              member: dict[str, Any]) -> None:
    cause = api.post(f"/programs/{program['id']}/causes",
                     {"name": "Trees", "description": "Plant trees"}).get_json()
    earn(api, member["id"], {"points": 100})
    path = f"/members/{member['id']}/donate"
    first = api.post(path, {"cause_id": cause["id"], "points": 30}).get_json()["transaction"]
    api.post(path, {"cause_id": cause["id"], "points": 20})
    assert api.post(path, {"cause_id": cause["id"], "points": 51}).status_code == 409
    assert api.post(path, {"cause_id": 999, "points": 1}).status_code == 422
    api.post(f"/transactions/{first['id']}/void")
    causes = api.get(f"/programs/{program['id']}/causes").get_json()["causes"]
    assert causes[0]["points_donated"] == 20
    assert member_row(app, member["id"]).points == 80
    assert other_api.patch(f"/causes/{cause['id']}", {"name": "x"}).status_code == 404
    api.client.delete(f"/api/v1/causes/{cause['id']}", headers=api.headers)
    assert api.post(path, {"cause_id": cause["id"], "points": 1}).status_code == 422


def test_lookup_by_serial_email_external_id(api: Api, other_api: Api,
                                            program: dict[str, Any]) -> None:
    ann = enroll(api, program, "Look@Example.test", external_id="pos-42")
    for query in (f"serial={ann['serial_number']}", "email=look@example.test",
                  "external_id=pos-42", f"external_id=pos-42&program_id={program['id']}"):
        found = api.get(f"/members?{query}").get_json()["members"]
        assert [m["id"] for m in found] == [ann["id"]], query
        assert other_api.get(f"/members?{query}").get_json()["members"] == []
    assert api.get("/members").status_code == 422
    assert api.get("/members?email=a&serial=b").status_code == 422
    assert api.get("/members?email=nobody@example.test").get_json()["members"] == []


def test_ledger_pagination(api: Api, member: dict[str, Any]) -> None:
    for n in range(1, 6):
        earn(api, member["id"], {"points": n})
    page = api.get(f"/members/{member['id']}/transactions?limit=2").get_json()
    assert [t["points"] for t in page["transactions"]] == [5, 4]
    page = api.get(f"/members/{member['id']}/transactions?limit=2"
                   f"&before={page['next_before']}").get_json()
    assert [t["points"] for t in page["transactions"]] == [3, 2]
    assert api.get(f"/members/{member['id']}/transactions?limit=0").status_code == 422


def test_idempotent_writes(api: Api, other_api: Api, app: Flask, program: dict[str, Any],
                           member: dict[str, Any]) -> None:
    key = {"Idempotency-Key": "till-7-receipt-1001"}
    first = earn(api, member["id"], {"amount": "10.00"}, headers=key)
    again = earn(api, member["id"], {"amount": "10.00"}, headers=key)
    assert first.status_code == again.status_code == 201
    assert first.get_json() == again.get_json()
    assert member_row(app, member["id"]).points == 10 and entries(app) == 1
    other = earn(api, member["id"], {"amount": "11.00"}, headers=key)
    assert other.status_code == 422
    assert other.get_json()["error"]["code"] == "idempotency_key_reused"
    assert entries(app) == 1
    theirs = enroll(other_api, other_api.post("/programs", {"name": "O", "template": "cafe"})
                    .get_json(), "o@example.test")
    assert earn(other_api, theirs["id"], {"points": 3}, headers=key).status_code == 201
    tx = first.get_json()["transaction"]["id"]
    voids = [api.post(f"/transactions/{tx}/void", headers={"Idempotency-Key": "v1"})
             for _ in range(2)]
    assert [v.status_code for v in voids] == [201, 201]
    assert voids[0].get_json() == voids[1].get_json()
    assert member_row(app, member["id"]).points == 0
    failed = earn(api, member["id"], {"points": -1}, headers={"Idempotency-Key": "bad"})
    assert failed.status_code == 422
    assert earn(api, member["id"], {"points": 1},
                headers={"Idempotency-Key": "bad"}).status_code == 201
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(IdempotencyRecord)) == 4
    assert earn(api, member["id"], {"points": 1},
                headers={"Idempotency-Key": "x" * 201}).status_code == 422


@pytest.mark.parametrize("path, body, status", [
    ("earn", {"points": 0}, 422),
    ("earn", {"points": -5}, 422),
    ("earn", {"points": 1.5}, 422),
    ("earn", {"points": "10"}, 422),
    ("earn", {"amount": "abc"}, 422),
    ("earn", {"amount": "-1"}, 422),
    ("earn", {"amount": "0"}, 422),
    ("earn", {"amount": "1.001"}, 422),
    ("earn", {"amount": "NaN"}, 422),
    ("earn", {"amount": "1e400"}, 422),
    ("earn", {"points": 1, "amount": "1"}, 422),
    ("earn", {}, 422),
    ("earn", {"points": 1, "bonus": 2}, 422),
    ("redeem", {"points": 11}, 409),
    ("redeem", {"reward_id": 424242}, 422),
    ("redeem", {"points": 0}, 422),
    ("redeem", {}, 422),
])
def test_bad_transactions_change_nothing(api: Api, app: Flask, member: dict[str, Any],
                                         path: str, body: dict[str, Any], status: int) -> None:
    earn(api, member["id"], {"points": 10})
    before = (entries(app), member_row(app, member["id"]).pass_version)
    resp = api.post(f"/members/{member['id']}/{path}", body)
    assert resp.status_code == status, resp.get_json()
    assert resp.get_json()["error"]["message"]
    assert (entries(app), member_row(app, member["id"]).pass_version) == before
    assert member_row(app, member["id"]).points == 10


def test_other_merchants_member_and_transaction(api: Api, other_api: Api, app: Flask,
                                                member: dict[str, Any]) -> None:
    tx = earn(api, member["id"], {"points": 10}).get_json()["transaction"]
    for path, extra in (("earn", {}), ("redeem", {}), ("adjust", {}), ("donate", {"cause_id": 1})):
        resp = other_api.post(f"/members/{member['id']}/{path}",
                              {"points": 1, "reason": "x", **extra})  # valid: bodies parse first
        assert resp.status_code == 404, path
    assert other_api.post(f"/transactions/{tx['id']}/void").status_code == 404
    assert other_api.get(f"/transactions/{tx['id']}").status_code == 404
    assert other_api.get(f"/members/{member['id']}/transactions").status_code == 404
    assert entries(app) == 1 and member_row(app, member["id"]).points == 10


def test_void_earn_only_while_points_remain(api: Api, app: Flask, member: dict[str, Any]) -> None:
    tx = earn(api, member["id"], {"amount": "20"}).get_json()["transaction"]
    api.post(f"/members/{member['id']}/redeem", {"points": 15})
    resp = api.post(f"/transactions/{tx['id']}/void")
    assert resp.status_code == 409 and resp.get_json()["error"]["code"] == "insufficient_points"
    api.post(f"/members/{member['id']}/adjust", {"points": 15, "reason": "refund"})
    resp = api.post(f"/transactions/{tx['id']}/void")
    assert resp.status_code == 201 and resp.get_json()["transaction"]["amount"] == "-20.00"
    void_id = resp.get_json()["transaction"]["id"]
    assert api.post(f"/transactions/{void_id}/void").status_code == 409


def test_ledger_never_drifts_from_cached_balance(api: Api, app: Flask, program: dict[str, Any],
                                                 member: dict[str, Any]) -> None:
    set_rules(api, program, expiry_days=30, welcome_bonus=5, points_per_unit="3")
    coffee = add_reward(api, program, 40)
    cause = api.post(f"/programs/{program['id']}/causes", {"name": "Trees"}).get_json()
    bob = enroll(api, program, "mix@example.test")
    txs = []
    for i in range(12):
        txs.append(earn(api, bob["id"], {"amount": f"{i + 3}.37"}).get_json()["transaction"])
        api.post(f"/members/{bob['id']}/redeem", {"reward_id": coffee["id"]})
        api.post(f"/members/{bob['id']}/donate", {"cause_id": cause["id"], "points": i})
        if i % 3 == 0:
            api.post(f"/transactions/{txs[i]['id']}/void")
        if i % 4 == 1:
            api.post(f"/members/{bob['id']}/adjust", {"points": -3, "reason": "fix"})
    with app.app_context():
        db.session.execute(update(LedgerEntry).where(LedgerEntry.id == txs[1]["id"])
                           .values(expires_at=utcnow() - timedelta(seconds=1)))
        db.session.commit()
        run_sweep_now("loyalty_expiry")
        for member_id in (member["id"], bob["id"]):
            cached = db.session.get(Member, member_id).points
            assert ledger_balance(member_id) == (cached, cached)
            assert cached >= 0


def test_spend_based_tiers_and_fixed_purchase_points(api: Api, app: Flask,
                                                     program: dict[str, Any]) -> None:
    set_rules(api, program, tier_basis="spend", points_per_unit="1", points_per_purchase=2)
    api.post(f"/programs/{program['id']}/tiers", {"name": "VIP", "threshold": "50.00"})
    ann = enroll(api, program, "spend@example.test")
    assert ann["next_tier"] == {"name": "VIP", "amount_needed": "50.00"}
    body = earn(api, ann["id"], {"amount": "30.50"}).get_json()
    assert body["transaction"]["points"] == 32  # floor(30.50) + 2 per purchase
    assert body["member"]["next_tier"]["amount_needed"] == "19.50"
    earn(api, ann["id"], {"points": 500})  # fixed awards are not spend
    assert api.get(f"/members/{ann['id']}").get_json()["tier"] is None
    assert earn(api, ann["id"], {"amount": "19.50"}).get_json()["member"]["tier"]["name"] == "VIP"


def test_old_idempotency_keys_are_forgotten(api: Api, app: Flask, member: dict[str, Any]) -> None:
    earn(api, member["id"], {"points": 1}, headers={"Idempotency-Key": "old"})
    earn(api, member["id"], {"points": 1}, headers={"Idempotency-Key": "new"})
    with app.app_context():
        db.session.execute(update(IdempotencyRecord).where(IdempotencyRecord.key == "old")
                           .values(created_at=utcnow() - timedelta(days=31)))
        db.session.commit()
        assert run_sweep_now("idempotency_cleanup") == 1
        keys = list(db.session.scalars(select(IdempotencyRecord.key)))
    assert keys == ["new"]


def test_leap_day_birthdays_fall_on_28_february(api: Api, app: Flask,
                                                program: dict[str, Any]) -> None:
    from datetime import date

    from app.loyalty.bonuses import birthdays_due

    set_rules(api, program, birthday_bonus=10)
    leap = enroll(api, program, "leap@example.test", birthday="2000-02-29")
    with app.app_context():
        assert birthdays_due(date(2027, 2, 28)) == [leap["id"]]
        assert birthdays_due(date(2028, 2, 28)) == []
        assert birthdays_due(date(2028, 2, 29)) == [leap["id"]]


def test_catalog_and_rule_changes_mark_cards_changed(api: Api, app: Flask,
                                                     program: dict[str, Any],
                                                     member: dict[str, Any]) -> None:
    version = member_row(app, member["id"]).pass_version
    add_reward(api, program, 10)
    assert member_row(app, member["id"]).pass_version == version + 1
    set_rules(api, program, welcome_bonus=5)  # not shown on the card
    assert member_row(app, member["id"]).pass_version == version + 1
    design = api.get(f"/programs/{program['id']}").get_json()["design_version"]
    set_rules(api, program, mode="stamps")  # the whole card changes
    assert member_row(app, member["id"]).pass_version == version + 2
    assert api.get(f"/programs/{program['id']}").get_json()["design_version"] == design + 1


def test_translatable_texts_do_not_depend_on_the_member(api: Api, app: Flask,
                                                        program: dict[str, Any]) -> None:
    add_tiers(api, program)
    add_reward(api, program, 10)
    rich = enroll(api, program, "rich@example.test")
    earn(api, rich["id"], {"points": 600})
    poor = enroll(api, program, "poor@example.test")
    with app.app_context():
        from app.wallet.apple.passjson import pass_texts
        from app.wallet.content import card_content
        from app.wallet.snapshot import load_snapshot

        texts = [pass_texts(card_content(load_snapshot(db.session.get(Member, m["id"]))))
                 for m in (rich, poor)]
    assert texts[0] == texts[1]  # one pass.strings bundle serves both cards


def balance_checked(app: Flask, member_id: int) -> int:
    """The member's cached balance, after checking the ledger and the lots add up to it."""
    with app.app_context():
        cached = db.session.get(Member, member_id).points
        assert ledger_balance(member_id) == (cached, cached)
        assert cached >= 0
        return int(cached)


def expire_now(app: Flask, *entry_ids: int) -> None:
    """Make these lots due and run the expiry sweep."""
    with app.app_context():
        db.session.execute(update(LedgerEntry).where(LedgerEntry.id.in_(entry_ids))
                           .values(expires_at=utcnow() - timedelta(seconds=1)))
        db.session.commit()
        run_sweep_now("loyalty_expiry")


def test_void_of_an_expired_earn_does_not_take_the_points_twice(
        api: Api, app: Flask, program: dict[str, Any], member: dict[str, Any]) -> None:
    set_rules(api, program, expiry_days=365)
    first = earn(api, member["id"], {"amount": "100"}).get_json()["transaction"]
    expire_now(app, first["id"])
    assert balance_checked(app, member["id"]) == 0
    earn(api, member["id"], {"points": 100})
    resp = api.post(f"/transactions/{first['id']}/void")
    assert resp.status_code == 201, resp.get_json()
    tx = resp.get_json()["transaction"]
    assert tx["points"] == 0 and tx["amount"] == "-100.00"
    assert "100 of its points had already expired" in tx["reason"]
    assert resp.get_json()["member"]["points"] == 100
    assert balance_checked(app, member["id"]) == 100
    assert api.post(f"/transactions/{first['id']}/void").status_code == 409


def test_void_of_a_partly_spent_earn_takes_the_spent_part_from_other_points(
        api: Api, app: Flask, member: dict[str, Any]) -> None:
    first = earn(api, member["id"], {"points": 100}).get_json()["transaction"]
    api.post(f"/members/{member['id']}/redeem", {"points": 30})  # 30 of the first lot
    earn(api, member["id"], {"points": 50})
    resp = api.post(f"/transactions/{first['id']}/void")
    assert resp.status_code == 201, resp.get_json()
    assert resp.get_json()["transaction"]["points"] == -100  # 70 left in it + 30 spent
    assert balance_checked(app, member["id"]) == 20


def test_void_after_partial_expiry_takes_back_only_what_was_spent(
        api: Api, app: Flask, program: dict[str, Any], member: dict[str, Any]) -> None:
    set_rules(api, program, expiry_days=365)
    first = earn(api, member["id"], {"points": 100}).get_json()["transaction"]
    api.post(f"/members/{member['id']}/redeem", {"points": 30})
    expire_now(app, first["id"])  # the other 70 expire
    assert balance_checked(app, member["id"]) == 0
    resp = api.post(f"/transactions/{first['id']}/void")  # nothing to give the 30 back from
    assert resp.status_code == 409
    error = resp.get_json()["error"]
    assert error["code"] == "insufficient_points" and "70 expired" in error["message"]
    earn(api, member["id"], {"points": 100})
    resp = api.post(f"/transactions/{first['id']}/void")
    assert resp.status_code == 201 and resp.get_json()["transaction"]["points"] == -30
    assert balance_checked(app, member["id"]) == 70


def test_void_of_a_partly_expired_lot_still_holding_points(
        api: Api, app: Flask, program: dict[str, Any], member: dict[str, Any]) -> None:
    set_rules(api, program, expiry_days=365)
    first = earn(api, member["id"], {"points": 100}).get_json()["transaction"]
    earn(api, member["id"], {"points": 100})
    redeemed = api.post(f"/members/{member['id']}/redeem", {"points": 30}).get_json()
    expire_now(app, first["id"])  # the other 70 of the first lot expire
    api.post(f"/transactions/{redeemed['transaction']['id']}/void")  # 30 back into it
    assert balance_checked(app, member["id"]) == 130
    resp = api.post(f"/transactions/{first['id']}/void")  # 30 left in it, 70 expired
    assert resp.status_code == 201 and resp.get_json()["transaction"]["points"] == -30
    assert balance_checked(app, member["id"]) == 100
    with app.app_context():
        assert run_sweep_now("loyalty_expiry") == 0  # nothing of the first lot is left


def test_voided_redemption_points_keep_their_expiry(
        api: Api, app: Flask, program: dict[str, Any], member: dict[str, Any]) -> None:
    set_rules(api, program, expiry_days=365, expiring_soon_days=30)
    first = earn(api, member["id"], {"points": 100}).get_json()["transaction"]
    soon = utcnow() + timedelta(days=10)
    with app.app_context():
        db.session.execute(update(LedgerEntry).where(LedgerEntry.id == first["id"])
                           .values(expires_at=soon))
        db.session.commit()
    second = earn(api, member["id"], {"points": 50}).get_json()["transaction"]
    redeemed = api.post(f"/members/{member['id']}/redeem", {"points": 120}).get_json()
    assert api.get(f"/members/{member['id']}").get_json()["expiring_points"] == []
    resp = api.post(f"/transactions/{redeemed['transaction']['id']}/void")
    assert resp.status_code == 201 and resp.get_json()["member"]["points"] == 150
    assert resp.get_json()["transaction"]["expires_at"] is None  # not a lot of its own
    shown = api.get(f"/members/{member['id']}").get_json()["expiring_points"]
    assert shown == [{"points": 100, "expires_at": soon.date().isoformat()}]
    with app.app_context():
        lots = dict(db.session.execute(select(LedgerEntry.id, LedgerEntry.remaining)
                                       .where(LedgerEntry.remaining > 0)).all())
    assert lots == {first["id"]: 100, second["id"]: 50}
    assert balance_checked(app, member["id"]) == 150


def test_points_of_a_redemption_voided_after_their_expiry_expire_once(
        api: Api, app: Flask, program: dict[str, Any], member: dict[str, Any]) -> None:
    set_rules(api, program, expiry_days=365)
    first = earn(api, member["id"], {"points": 100}).get_json()["transaction"]
    redeemed = api.post(f"/members/{member['id']}/redeem", {"points": 100}).get_json()
    expire_now(app, first["id"])  # nothing left in the lot to expire yet
    earn(api, member["id"], {"points": 50})
    api.post(f"/transactions/{redeemed['transaction']['id']}/void")
    assert balance_checked(app, member["id"]) == 150
    with app.app_context():
        assert run_sweep_now("loyalty_expiry") == 1  # the returned 100 are past their expiry
    assert balance_checked(app, member["id"]) == 50
    resp = api.post(f"/transactions/{first['id']}/void")  # all of it expired already
    assert resp.status_code == 201 and resp.get_json()["transaction"]["points"] == 0
    assert balance_checked(app, member["id"]) == 50


def test_void_refuses_when_the_lots_do_not_replay(api: Api, app: Flask,
                                                  member: dict[str, Any]) -> None:
    first = earn(api, member["id"], {"points": 100}).get_json()["transaction"]
    second = earn(api, member["id"], {"points": 50}).get_json()["transaction"]
    api.post(f"/members/{member['id']}/redeem", {"points": 30})
    with app.app_context():  # as if the redemption had taken from the second lot
        db.session.execute(update(LedgerEntry).where(LedgerEntry.id == first["id"])
                           .values(remaining=100))
        db.session.execute(update(LedgerEntry).where(LedgerEntry.id == second["id"])
                           .values(remaining=20))
        db.session.commit()
    before = entries(app)
    resp = api.post(f"/transactions/{first['id']}/void")
    assert resp.status_code == 500 and resp.get_json()["error"]["code"] == "ledger_mismatch"
    assert entries(app) == before


def test_balance_limit_and_odd_query_numbers(api: Api, app: Flask, program: dict[str, Any],
                                             member: dict[str, Any]) -> None:
    set_rules(api, program, points_per_unit="100000")
    resp = earn(api, member["id"], {"amount": "30000"})  # 3e9 points: past 32 bits
    assert resp.status_code == 422
    assert resp.get_json()["error"]["code"] == "balance_limit"
    assert member_row(app, member["id"]).points == 0
    assert entries(app) == 0
    for query in ("limit=%C2%B2", "before=%C2%B2", "limit=-1", "limit=abc"):
        assert api.get(f"/members/{member['id']}/transactions?{query}").status_code == 422
