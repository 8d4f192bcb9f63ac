"""Loyalty routes: earning rules, tiers, rewards, causes, the POS transactions and the ledger."""

from __future__ import annotations

from typing import Any

from flask import g, request
from sqlalchemy import select

from app.api import bp, json_body
from app.api.idempotency import current_key, write
from app.api.openapi import errors, id_param, json_content, ok, ref
from app.api.serializers import member_json
from app.errors import ValidationError
from app.extensions import db
from app.loyalty import catalog, ledger, operations, rules, stamps, tiers
from app.members.operations import get_member
from app.models import LedgerEntry, Member, Program
from app.programs.operations import design_changed, get_program
from app.validation import whole_number

Answer = tuple[dict[str, Any], int]


def optional_body() -> dict[str, Any]:
    """The JSON body, or {} when the request has none."""
    return json_body() if request.get_data(cache=True) else {}


def int_arg(name: str, default: int | None, low: int, high: int) -> int | None:
    """An integer query parameter within bounds."""
    return whole_number(request.args.get(name), name, default, low, high)


# --- earning rules -------------------------------------------------------------------


@bp.get("/programs/<int:program_id>/rules")
def get_rules(program_id: int):  # type: ignore[no-untyped-def]
    """Show a program's earning, bonus, tier, expiry and stamp rules."""
    return rules.rules_json(rules.rules_of(get_program(g.merchant, program_id)))


@bp.patch("/programs/<int:program_id>/rules")
@write
def update_rules(program_id: int) -> Answer:
    """Change a program's rules (cards are redrawn when mode, stamps or expiry change)."""
    program = get_program(g.merchant, program_id)
    updated, card_changed = rules.update_rules(program, json_body())
    if card_changed:
        design_changed(program)
    return rules.rules_json(updated), 200


@bp.put("/programs/<int:program_id>/stamp")
@write
def upload_stamp(program_id: int) -> Answer:
    """Upload the stamp artwork of a stamp card (PNG or JPEG, raw body or multipart 'file')."""
    program = get_program(g.merchant, program_id)
    upload = request.files.get("file")
    data = upload.read() if upload is not None else request.get_data()
    if not data:
        raise ValidationError("Send the image as the request body or as a multipart field "
                              "'file'.", code="missing_image")
    stamps.set_artwork(program, data)
    design_changed(program)
    return {"kind": stamps.ART_KIND, "design_version": program.design_version}, 200


# --- tiers ---------------------------------------------------------------------------


@bp.get("/programs/<int:program_id>/tiers")
def list_tiers(program_id: int):  # type: ignore[no-untyped-def]
    """List a program's tiers, lowest first."""
    program = get_program(g.merchant, program_id)
    return {"tiers": [tiers.tier_json(t) for t in tiers.tiers_of(program)]}


@bp.post("/programs/<int:program_id>/tiers")
@write
def create_tier(program_id: int) -> Answer:
    """Add a tier."""
    tier = tiers.create_tier(get_program(g.merchant, program_id), json_body())
    return tiers.tier_json(tier), 201


@bp.patch("/tiers/<int:tier_id>")
@write
def update_tier(tier_id: int) -> Answer:
    """Change a tier (its holders' cards are redrawn)."""
    return tiers.tier_json(tiers.update_tier(tiers.get_tier(g.merchant, tier_id),
                                             json_body())), 200


@bp.delete("/tiers/<int:tier_id>")
@write
def delete_tier(tier_id: int) -> Answer:
    """Delete a tier nobody holds."""
    tiers.delete_tier(tiers.get_tier(g.merchant, tier_id))
    return {"id": tier_id, "deleted": True}, 200


# --- rewards and causes --------------------------------------------------------------


@bp.get("/programs/<int:program_id>/rewards")
def list_rewards(program_id: int):  # type: ignore[no-untyped-def]
    """List a program's rewards (retired ones too with ?all=true)."""
    program = get_program(g.merchant, program_id)
    everything = request.args.get("all") == "true"
    return {"rewards": [catalog.reward_json(r)
                        for r in catalog.list_rewards(program, everything)]}


@bp.post("/programs/<int:program_id>/rewards")
@write
def create_reward(program_id: int) -> Answer:
    """Add a reward to the catalog."""
    reward = catalog.create_reward(get_program(g.merchant, program_id), json_body())
    return catalog.reward_json(reward), 201


@bp.patch("/rewards/<int:reward_id>")
@write
def update_reward(reward_id: int) -> Answer:
    """Change a reward."""
    reward = catalog.update_reward(catalog.get_reward(g.merchant, reward_id), json_body())
    return catalog.reward_json(reward), 200


@bp.delete("/rewards/<int:reward_id>")
@write
def retire_reward(reward_id: int) -> Answer:
    """Retire a reward (past redemptions keep pointing at it)."""
    reward = catalog.update_reward(catalog.get_reward(g.merchant, reward_id),
                                   {"active": False})
    return catalog.reward_json(reward), 200


@bp.get("/programs/<int:program_id>/causes")
def list_causes(program_id: int):  # type: ignore[no-untyped-def]
    """List a program's causes with the points donated to each."""
    causes = catalog.list_causes(get_program(g.merchant, program_id))
    totals = catalog.donation_totals([c.id for c in causes])
    return {"causes": [catalog.cause_json(c, totals[c.id]) for c in causes]}


@bp.post("/programs/<int:program_id>/causes")
@write
def create_cause(program_id: int) -> Answer:
    """Add a cause."""
    cause = catalog.create_cause(get_program(g.merchant, program_id), json_body())
    return catalog.cause_json(cause, 0), 201


@bp.patch("/causes/<int:cause_id>")
@write
def update_cause(cause_id: int) -> Answer:
    """Change a cause."""
    cause = catalog.update_cause(catalog.get_cause(g.merchant, cause_id), json_body())
    return catalog.cause_json(cause, catalog.donation_totals([cause.id])[cause.id]), 200


@bp.delete("/causes/<int:cause_id>")
@write
def close_cause(cause_id: int) -> Answer:
    """Close a cause to new donations (its total stays)."""
    cause = catalog.update_cause(catalog.get_cause(g.merchant, cause_id), {"active": False})
    return catalog.cause_json(cause, catalog.donation_totals([cause.id])[cause.id]), 200


# --- POS: look-up, transactions, ledger ----------------------------------------------

LOOKUPS = ("serial", "email", "external_id")


@bp.get("/members")
def find_members(): # type: ignore[no-untyped-def]
    """Find members by barcode/serial, email or external id (optionally in one program)."""
    given = [k for k in LOOKUPS if request.args.get(k)]
    if len(given) != 1:
        raise ValidationError("Give exactly one of the query parameters: "
                              f"{', '.join(LOOKUPS)} (and optionally program_id).")
    column = {"serial": Member.serial_number, "email": Member.email,
              "external_id": Member.external_id}[given[0]]
    value = request.args[given[0]].strip()
    stmt = (select(Member).join(Program, Program.id == Member.program_id)
            .where(Program.merchant_id == g.merchant.id,
                   column == (value.lower() if given[0] == "email" else value)))
    program_id = int_arg("program_id", None, 1, 2**62)
    if program_id is not None:
        stmt = stmt.where(Member.program_id == program_id)
    found = db.session.scalars(stmt.order_by(Member.id).limit(100))
    return {"members": [member_json(m) for m in found]}


def _transaction(func: Any, member_id: int) -> Answer:
    """Run one point transaction on a member; answer the entry and the member."""
    member = get_member(g.merchant, member_id, lock=True)
    entry = func(member, json_body(), current_key())
    return {"transaction": ledger.entry_json(entry), "member": member_json(member)}, 201


@bp.post("/members/<int:member_id>/earn")
@write
def earn(member_id: int) -> Answer:
    """Credit points for a purchase amount or a fixed number of points."""
    return _transaction(operations.earn, member_id)


@bp.post("/members/<int:member_id>/redeem")
@write
def redeem(member_id: int) -> Answer:
    """Spend points on a reward or a number of points."""
    return _transaction(operations.redeem, member_id)


@bp.post("/members/<int:member_id>/adjust")
@write
def adjust(member_id: int) -> Answer:
    """Correct a balance by hand (reason required)."""
    return _transaction(operations.adjust, member_id)


@bp.post("/members/<int:member_id>/donate")
@write
def donate(member_id: int) -> Answer:
    """Donate points to a cause."""
    return _transaction(operations.donate, member_id)


@bp.get("/members/<int:member_id>/transactions")
def list_transactions(member_id: int):  # type: ignore[no-untyped-def]
    """A member's ledger, newest first (cursor: ?before=<id>&limit=<n>)."""
    member = get_member(g.merchant, member_id)
    limit = int_arg("limit", 50, 1, 200) or 50
    entries = ledger.list_entries(member, limit, int_arg("before", None, 1, 2**62))
    voided = ledger.voided_ids([e.id for e in entries])
    items = [{**ledger.entry_json(e), "voided": e.id in voided} for e in entries]
    more = len(entries) == limit
    return {"transactions": items, "next_before": entries[-1].id if more else None}


@bp.get("/transactions/<int:transaction_id>")
def show_transaction(transaction_id: int):  # type: ignore[no-untyped-def]
    """Show one ledger entry."""
    entry = operations.get_entry(g.merchant, transaction_id)
    return {**ledger.entry_json(entry), "voided": bool(ledger.voided_ids([entry.id]))}


@bp.post("/transactions/<int:transaction_id>/void")
@write
def void(transaction_id: int) -> Answer:
    """Void (refund) a transaction: its points go back where they came from."""
    entry: LedgerEntry = operations.get_entry(g.merchant, transaction_id)
    reversal = operations.void(entry, optional_body(), current_key())
    member = get_member(g.merchant, entry.member_id)
    return {"transaction": ledger.entry_json(reversal), "member": member_json(member)}, 201


# --- OpenAPI -------------------------------------------------------------------------

_S = {"type": "string"}
_I = {"type": "integer"}
_NUM = {"type": "string", "pattern": r"^\d+(\.\d+)?$", "description": "A decimal number"}
_COLOR = {"type": "string", "pattern": "^#[0-9A-Fa-f]{6}$", "nullable": True}
_COMMON = {"reason": {"type": "string", "maxLength": 500},
           "source": {"type": "string", "enum": ["pos", "api"]},
           "actor": {"type": "string", "maxLength": 200,
                     "description": "Who made the change (staff id, till)"}}
_RULES = {
    "mode": {"type": "string", "enum": list(rules.MODES)},
    "points_per_unit": {**_NUM, "description": "Points per unit of the program's currency"},
    "rounding": {"type": "string", "enum": list(rules.ROUNDING),
                 "description": "How amount x points_per_unit x tier multiplier becomes "
                                "whole points (default floor; round is half-up)"},
    "points_per_purchase": {**_I, "description": "Fixed points added to every purchase"},
    "welcome_bonus": _I, "referral_bonus": _I, "birthday_bonus": _I,
    "expiry_days": {**_I, "nullable": True,
                    "description": "Points expire this many days after they were credited"},
    "expiring_soon_days": _I,
    "tier_basis": {"type": "string", "enum": ["points", "spend"]},
    "tier_window_months": {**_I, "nullable": True,
                           "description": "Qualifying window; null for lifetime"},
    "stamps_required": _I,
}
_TIER = {"name": {"type": "string", "maxLength": 100}, "threshold": _NUM,
         "multiplier": _NUM, "perks": _S, "background_color": _COLOR,
         "foreground_color": _COLOR, "label_color": _COLOR}
_REWARD = {"name": {"type": "string", "maxLength": 200},
           "kind": {"type": "string", "enum": list(catalog.REWARD_KINDS)},
           "value": {**_NUM, "nullable": True,
                     "description": "Amount off, or percent off (<= 100); none for free_item"},
           "points_cost": {**_I, "minimum": 1}, "active": {"type": "boolean"}}
_CAUSE = {"name": {"type": "string", "maxLength": 200}, "description": _S,
          "active": {"type": "boolean"}}


def _obj(props: dict[str, Any], required: list[str] | None = None) -> dict[str, Any]:
    """A closed object schema."""
    out: dict[str, Any] = {"type": "object", "additionalProperties": False,
                           "properties": props}
    if required:
        out["required"] = required
    return out


OPENAPI_SCHEMAS = {
    "Rules": {"type": "object", "properties": _RULES},
    "RulesUpdate": _obj(_RULES),
    "Tier": {"type": "object", "properties": {"id": _I, "program_id": _I, **_TIER}},
    "TierCreate": _obj(_TIER, ["name", "threshold"]),
    "TierUpdate": _obj(_TIER),
    "Reward": {"type": "object", "properties": {"id": _I, "program_id": _I, **_REWARD}},
    "RewardCreate": _obj(_REWARD, ["name", "kind", "points_cost"]),
    "RewardUpdate": _obj(_REWARD),
    "Cause": {"type": "object", "properties": {"id": _I, "program_id": _I, **_CAUSE,
                                               "points_donated": _I}},
    "CauseCreate": _obj(_CAUSE, ["name"]),
    "CauseUpdate": _obj(_CAUSE),
    "Earn": {**_obj({**_COMMON, "points": {**_I, "minimum": 1},
                     "amount": {"oneOf": [_NUM, {"type": "number"}],
                                "description": "Purchase amount in the program's currency"}}),
             "description": "Exactly one of points or amount"},
    "Redeem": {**_obj({**_COMMON, "points": {**_I, "minimum": 1}, "reward_id": _I}),
               "description": "Exactly one of points or reward_id"},
    "Adjust": _obj({**_COMMON, "points": {**_I, "description": "Signed, not zero"}},
                   ["points", "reason"]),
    "Donate": _obj({**_COMMON, "points": {**_I, "minimum": 1}, "cause_id": _I},
                   ["points", "cause_id"]),
    "Void": _obj(_COMMON),
    "Transaction": {"type": "object", "properties": {
        "id": _I, "member_id": _I, "kind": {"type": "string", "enum": [
            "earn", "redeem", "adjust", "donate", "void", "expire", "bonus_welcome",
            "bonus_referral", "bonus_birthday"]},
        "points": _I, "amount": {**_NUM, "nullable": True}, **_COMMON,
        "reward_id": {**_I, "nullable": True}, "cause_id": {**_I, "nullable": True},
        "voids_transaction_id": {**_I, "nullable": True},
        "expires_at": {"type": "string", "format": "date-time", "nullable": True},
        "created_at": {"type": "string", "format": "date-time"},
        "voided": {"type": "boolean"}}},
    "MemberLoyalty": {"type": "object", "description": "Fields member answers carry besides "
                      "the Member ones (tier, next tier, points expiring soon, referral code)",
                      "properties": {
        "tier": {"type": "object", "nullable": True, "properties": {
            "id": _I, "name": _S, "perks": _S,
            "until": {"type": "string", "format": "date-time", "nullable": True}}},
        "next_tier": {"type": "object", "nullable": True, "properties": {
            "name": _S, "points_needed": _I, "amount_needed": _NUM}},
        "expiring_points": {"type": "array", "items": {"type": "object", "properties": {
            "points": _I, "expires_at": {"type": "string", "format": "date"}}}},
        "referral_code": {"type": "string", "nullable": True},
        "birthday": {"type": "string", "format": "date", "nullable": True},
        "stamps": {"type": "object", "properties": {"count": _I, "required": _I}}}},
    "TransactionResult": {"type": "object", "properties": {
        "transaction": ref("Transaction"), "member": ref("Member")}},
}


def _list(name: str, schema: str, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """An object holding a list of schema under name."""
    return {"type": "object", "properties": {
        name: {"type": "array", "items": ref(schema)}, **(extra or {})}}


def _write(summary: str, op_id: str, body: str | None, result: dict[str, Any],
           status: str = "200", errs: tuple[int, ...] = (400, 401, 404, 409, 415, 422)
           ) -> dict[str, Any]:
    """A write operation accepting Idempotency-Key."""
    out: dict[str, Any] = {
        "summary": summary, "operationId": op_id,
        "parameters": [{"name": "Idempotency-Key", "in": "header", "required": False,
                        "schema": {"type": "string", "maxLength": 200},
                        "description": "Repeats with the same key and body get the first "
                                       "answer and change nothing"}],
        "responses": {status: ok(summary, result), **errors(*errs)}}
    if body:
        out["requestBody"] = {"required": body != "Void",
                              "content": json_content(ref(body))}
    return out


def _read(summary: str, op_id: str, result: dict[str, Any]) -> dict[str, Any]:
    """A read operation."""
    return {"summary": summary, "operationId": op_id,
            "responses": {"200": ok(summary, result), **errors(401, 404, 422)}}


_PID = [id_param("program_id")]
_MID = [id_param("member_id")]
_DELETED = {"type": "object", "properties": {"id": _I, "deleted": {"type": "boolean"}}}
_QUERY = [{"name": n, "in": "query", "required": False, "schema": {"type": "string"}}
          for n in (*LOOKUPS, "program_id")]
_PAGE = [{"name": "limit", "in": "query", "schema": {**_I, "minimum": 1, "maximum": 200}},
         {"name": "before", "in": "query", "schema": _I,
          "description": "Only entries older than this id (the previous page's next_before)"}]
_TX = ref("TransactionResult")
OPENAPI_PATHS = {
    "/programs/{program_id}/rules": {
        "parameters": _PID,
        "get": _read("Earning and bonus rules", "getRules", ref("Rules")),
        "patch": _write("Change the rules", "updateRules", "RulesUpdate", ref("Rules")),
    },
    "/programs/{program_id}/stamp": {
        "parameters": _PID,
        "put": {"summary": "Upload the stamp artwork of a stamp card", "operationId":
                "uploadStamp",
                "requestBody": {"required": True, "content": {
                    "image/png": {"schema": {"type": "string", "format": "binary"}},
                    "image/jpeg": {"schema": {"type": "string", "format": "binary"}},
                    "multipart/form-data": {"schema": {"type": "object", "properties": {
                        "file": {"type": "string", "format": "binary"}}}}}},
                "responses": {"200": ok("Stored", {"type": "object", "properties": {
                    "kind": _S, "design_version": _I}}), **errors(400, 401, 404, 413, 422)}},
    },
    "/programs/{program_id}/tiers": {
        "parameters": _PID,
        "get": _read("Tiers, lowest first", "listTiers", _list("tiers", "Tier")),
        "post": _write("Add a tier", "createTier", "TierCreate", ref("Tier"), "201"),
    },
    "/tiers/{tier_id}": {
        "parameters": [id_param("tier_id")],
        "patch": _write("Change a tier", "updateTier", "TierUpdate", ref("Tier")),
        "delete": _write("Delete a tier nobody holds", "deleteTier", None, _DELETED),
    },
    "/programs/{program_id}/rewards": {
        "parameters": [*_PID, {"name": "all", "in": "query", "schema": {"type": "string",
                                                                        "enum": ["true"]}}],
        "get": _read("Rewards catalog", "listRewards", _list("rewards", "Reward")),
        "post": _write("Add a reward", "createReward", "RewardCreate", ref("Reward"), "201"),
    },
    "/rewards/{reward_id}": {
        "parameters": [id_param("reward_id")],
        "patch": _write("Change a reward", "updateReward", "RewardUpdate", ref("Reward")),
        "delete": _write("Retire a reward", "retireReward", None, ref("Reward")),
    },
    "/programs/{program_id}/causes": {
        "parameters": _PID,
        "get": _read("Causes and points donated", "listCauses", _list("causes", "Cause")),
        "post": _write("Add a cause", "createCause", "CauseCreate", ref("Cause"), "201"),
    },
    "/causes/{cause_id}": {
        "parameters": [id_param("cause_id")],
        "patch": _write("Change a cause", "updateCause", "CauseUpdate", ref("Cause")),
        "delete": _write("Close a cause", "closeCause", None, ref("Cause")),
    },
    "/members": {
        "get": {**_read("Find members by serial (barcode), email or external id",
                        "findMembers", _list("members", "Member")), "parameters": _QUERY},
    },
    "/members/{member_id}/earn": {
        "parameters": _MID,
        "post": _write("Earn points", "earn", "Earn", _TX, "201"),
    },
    "/members/{member_id}/redeem": {
        "parameters": _MID,
        "post": _write("Redeem points or a reward", "redeem", "Redeem", _TX, "201"),
    },
    "/members/{member_id}/adjust": {
        "parameters": _MID,
        "post": _write("Adjust points by hand", "adjust", "Adjust", _TX, "201"),
    },
    "/members/{member_id}/donate": {
        "parameters": _MID,
        "post": _write("Donate points to a cause", "donate", "Donate", _TX, "201"),
    },
    "/members/{member_id}/transactions": {
        "parameters": _MID,
        "get": {**_read("A member's ledger, newest first", "listTransactions",
                        _list("transactions", "Transaction",
                              {"next_before": {**_I, "nullable": True}})),
                "parameters": _PAGE},
    },
    "/transactions/{transaction_id}": {
        "parameters": [id_param("transaction_id")],
        "get": _read("A ledger entry", "getTransaction", ref("Transaction")),
    },
    "/transactions/{transaction_id}/void": {
        "parameters": [id_param("transaction_id")],
        "post": _write("Void (refund) a transaction", "voidTransaction", "Void", _TX, "201"),
    },
}
