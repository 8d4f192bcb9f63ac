"""Loyalty routes: earning rules, tiers, rewards, causes, the POS transactions and the ledger."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import g, request
from sqlalchemy import select

from app.api import bp
from app.api.contract import UPLOAD, operation, uploaded_image
from app.api.idempotency import Answer, current_key, write
from app.api.schemas import Deleted, StampResult
from app.api.serializers import member_json
from app.errors import ValidationError
from app.extensions import db
from app.loyalty import catalog, ledger, operations, rules, stamps, tiers
from app.loyalty import schemas as s
from app.members.operations import get_member
from app.members.schemas import MemberList
from app.models import LedgerEntry, Member, Program
from app.programs.operations import design_changed, get_program
from app.validation import MAX_ID, whole_number

ID_QUERY = {"type": "integer", "minimum": 1, "maximum": MAX_ID}


def int_arg(name: str, default: int | None, low: int, high: int) -> int | None:
    """An integer query parameter within bounds."""
    return whole_number(request.args.get(name), name, default, low, high)


# --- earning rules -------------------------------------------------------------------


@bp.get("/programs/<int:program_id>/rules")
@operation("Earning and bonus rules", response=s.Rules)
def get_rules(program_id: int):  # type: ignore[no-untyped-def]
    """Show a program's earning, bonus, tier, expiry and stamp rules."""
    return rules.rules_json(rules.rules_of(get_program(g.merchant, program_id)))


@bp.patch("/programs/<int:program_id>/rules")
@write
@operation("Change the rules", body=s.RulesUpdate, response=s.Rules)
def update_rules(program_id: int, body: s.RulesUpdate) -> Answer:
    """Change a program's rules (cards are redrawn when mode, stamps or expiry change)."""
    updated = operations.change_rules(get_program(g.merchant, program_id), body)
    return rules.rules_json(updated), 200


@bp.put("/programs/<int:program_id>/stamp")
@write
@operation("Upload the stamp artwork of a stamp card", body=UPLOAD, response=StampResult)
def upload_stamp(program_id: int) -> Answer:
    """Upload the stamp artwork of a stamp card (PNG or JPEG, raw body or multipart 'file')."""
    program = get_program(g.merchant, program_id)
    stamps.set_artwork(program, uploaded_image())
    design_changed(program)
    return {"kind": stamps.ART_KIND, "design_version": program.design_version}, 200


# --- tiers ---------------------------------------------------------------------------


@bp.get("/programs/<int:program_id>/tiers")
@operation("Tiers, lowest first", response=s.TierList)
def list_tiers(program_id: int):  # type: ignore[no-untyped-def]
    """List a program's tiers, lowest first."""
    program = get_program(g.merchant, program_id)
    return {"tiers": [tiers.tier_json(t) for t in tiers.tiers_of(program)]}


@bp.post("/programs/<int:program_id>/tiers")
@write
@operation("Add a tier", body=s.TierCreate, response=s.Tier, status=201, errors=(409,))
def create_tier(program_id: int, body: s.TierCreate) -> Answer:
    """Add a tier."""
    tier = tiers.create_tier(get_program(g.merchant, program_id), body)
    return tiers.tier_json(tier), 201


@bp.patch("/tiers/<int:tier_id>")
@write
@operation("Change a tier", body=s.TierUpdate, response=s.Tier, errors=(409,))
def update_tier(tier_id: int, body: s.TierUpdate) -> Answer:
    """Change a tier (its holders' cards are redrawn)."""
    return tiers.tier_json(tiers.update_tier(tiers.get_tier(g.merchant, tier_id), body)), 200


@bp.delete("/tiers/<int:tier_id>")
@write
@operation("Delete a tier nobody holds", response=Deleted, errors=(409,))
def delete_tier(tier_id: int) -> Answer:
    """Delete a tier nobody holds."""
    tiers.delete_tier(tiers.get_tier(g.merchant, tier_id))
    return {"id": tier_id, "deleted": True}, 200


# --- rewards and causes --------------------------------------------------------------


@bp.get("/programs/<int:program_id>/rewards")
@operation("Rewards catalog", response=s.RewardList, query=(
    {"name": "all", "in": "query", "required": False,
     "schema": {"type": "string", "enum": ["true", "false"]},
     "description": "true: retired rewards too"},))
def list_rewards(program_id: int):  # type: ignore[no-untyped-def]
    """List a program's rewards (retired ones too with ?all=true)."""
    program = get_program(g.merchant, program_id)
    everything = request.args.get("all") == "true"
    return {"rewards": [catalog.reward_json(r)
                        for r in catalog.list_rewards(program, everything)]}


@bp.post("/programs/<int:program_id>/rewards")
@write
@operation("Add a reward", body=s.RewardCreate, response=s.Reward, status=201)
def create_reward(program_id: int, body: s.RewardCreate) -> Answer:
    """Add a reward to the catalog."""
    reward = catalog.create_reward(get_program(g.merchant, program_id), body)
    return catalog.reward_json(reward), 201


@bp.patch("/rewards/<int:reward_id>")
@write
@operation("Change a reward", body=s.RewardUpdate, response=s.Reward)
def update_reward(reward_id: int, body: s.RewardUpdate) -> Answer:
    """Change a reward."""
    reward = catalog.update_reward(catalog.get_reward(g.merchant, reward_id), body)
    return catalog.reward_json(reward), 200


@bp.delete("/rewards/<int:reward_id>")
@write
@operation("Retire a reward", response=s.Reward)
def retire_reward(reward_id: int) -> Answer:
    """Retire a reward (past redemptions keep pointing at it)."""
    reward = catalog.update_reward(catalog.get_reward(g.merchant, reward_id),
                                   s.RewardUpdate(active=False))
    return catalog.reward_json(reward), 200


@bp.get("/programs/<int:program_id>/causes")
@operation("Causes and points donated", response=s.CauseList)
def list_causes(program_id: int):  # type: ignore[no-untyped-def]
    """List a program's causes with the points donated to each."""
    causes = catalog.list_causes(get_program(g.merchant, program_id))
    totals = catalog.donation_totals([c.id for c in causes])
    return {"causes": [catalog.cause_json(c, totals[c.id]) for c in causes]}


@bp.post("/programs/<int:program_id>/causes")
@write
@operation("Add a cause", body=s.CauseCreate, response=s.Cause, status=201)
def create_cause(program_id: int, body: s.CauseCreate) -> Answer:
    """Add a cause."""
    cause = catalog.create_cause(get_program(g.merchant, program_id), body)
    return catalog.cause_json(cause, 0), 201


@bp.patch("/causes/<int:cause_id>")
@write
@operation("Change a cause", body=s.CauseUpdate, response=s.Cause)
def update_cause(cause_id: int, body: s.CauseUpdate) -> Answer:
    """Change a cause."""
    cause = catalog.update_cause(catalog.get_cause(g.merchant, cause_id), body)
    return catalog.cause_json(cause, catalog.donation_totals([cause.id])[cause.id]), 200


@bp.delete("/causes/<int:cause_id>")
@write
@operation("Close a cause", response=s.Cause)
def close_cause(cause_id: int) -> Answer:
    """Close a cause to new donations (its total stays)."""
    cause = catalog.update_cause(catalog.get_cause(g.merchant, cause_id),
                                 s.CauseUpdate(active=False))
    return catalog.cause_json(cause, catalog.donation_totals([cause.id])[cause.id]), 200


# --- POS: look-up, transactions, ledger ----------------------------------------------

LOOKUPS = ("serial", "email", "external_id")
TX: dict[str, Any] = {"response": s.TransactionResult, "status": 201, "errors": (409,)}


@bp.get("/members")
@operation("Find members by serial (barcode), email or external id", response=MemberList,
           query=tuple({"name": n, "in": "query", "required": False,
                        "schema": {"type": "string", "maxLength": 320}} for n in LOOKUPS)
           + ({"name": "program_id", "in": "query", "required": False,
               "schema": ID_QUERY},))
def find_members():  # type: ignore[no-untyped-def]
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
    program_id = int_arg("program_id", None, 1, MAX_ID)
    if program_id is not None:
        stmt = stmt.where(Member.program_id == program_id)
    found = db.session.scalars(stmt.order_by(Member.id).limit(100))
    return {"members": [member_json(m) for m in found]}


def _transaction(func: Callable[..., LedgerEntry], member_id: int, body: Any) -> Answer:
    """Run one point transaction on a member; answer the entry and the member."""
    member = get_member(g.merchant, member_id, lock=True)
    entry = func(member, body, current_key())
    return {"transaction": ledger.entry_json(entry), "member": member_json(member)}, 201


@bp.post("/members/<int:member_id>/earn")
@write
@operation("Earn points", body=s.Earn, **TX)
def earn(member_id: int, body: s.Earn) -> Answer:
    """Credit points for a purchase amount or a fixed number of points."""
    return _transaction(operations.earn, member_id, body)


@bp.post("/members/<int:member_id>/redeem")
@write
@operation("Redeem points or a reward", body=s.Redeem, **TX)
def redeem(member_id: int, body: s.Redeem) -> Answer:
    """Spend points on a reward or a number of points."""
    return _transaction(operations.redeem, member_id, body)


@bp.post("/members/<int:member_id>/adjust")
@write
@operation("Adjust points by hand", body=s.Adjust, **TX)
def adjust(member_id: int, body: s.Adjust) -> Answer:
    """Correct a balance by hand (reason required)."""
    return _transaction(operations.adjust, member_id, body)


@bp.post("/members/<int:member_id>/donate")
@write
@operation("Donate points to a cause", body=s.Donate, **TX)
def donate(member_id: int, body: s.Donate) -> Answer:
    """Donate points to a cause."""
    return _transaction(operations.donate, member_id, body)


@bp.get("/members/<int:member_id>/transactions")
@operation("A member's ledger, newest first", response=s.TransactionList, query=(
    {"name": "limit", "in": "query", "required": False,
     "schema": {"type": "integer", "minimum": 1, "maximum": 200}},
    {"name": "before", "in": "query", "required": False, "schema": ID_QUERY,
     "description": "Only entries older than this id (the previous page's next_before)"}))
def list_transactions(member_id: int):  # type: ignore[no-untyped-def]
    """A member's ledger, newest first (cursor: ?before=<id>&limit=<n>)."""
    member = get_member(g.merchant, member_id)
    limit = int_arg("limit", 50, 1, 200) or 50
    entries = ledger.list_entries(member, limit, int_arg("before", None, 1, MAX_ID))
    voided = ledger.voided_ids([e.id for e in entries])
    items = [{**ledger.entry_json(e), "voided": e.id in voided} for e in entries]
    more = len(entries) == limit
    return {"transactions": items, "next_before": entries[-1].id if more else None}


@bp.get("/transactions/<int:transaction_id>")
@operation("A ledger entry", response=s.Transaction)
def show_transaction(transaction_id: int):  # type: ignore[no-untyped-def]
    """Show one ledger entry."""
    entry = operations.get_entry(g.merchant, transaction_id)
    return {**ledger.entry_json(entry), "voided": bool(ledger.voided_ids([entry.id]))}


@bp.post("/transactions/<int:transaction_id>/void")
@write
@operation("Void (refund) a transaction", body=s.Void, body_required=False, **TX)
def void(transaction_id: int, body: s.Void) -> Answer:
    """Void (refund) a transaction: its points go back where they came from."""
    entry: LedgerEntry = operations.get_entry(g.merchant, transaction_id)
    reversal = operations.void(entry, body, current_key())
    member = get_member(g.merchant, entry.member_id)
    return {"transaction": ledger.entry_json(reversal), "member": member_json(member)}, 201
