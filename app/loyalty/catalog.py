"""The rewards catalog and the causes members can donate to."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from app.errors import NotFound
from app.extensions import db
from app.loyalty.cards import members_changed
from app.loyalty.rules import plain
from app.loyalty.schemas import REWARD_KINDS as REWARD_KINDS  # re-exported
from app.loyalty.schemas import (
    CauseCreate,
    CauseUpdate,
    RewardCreate,
    RewardUpdate,
    check_reward_value,
)
from app.models import Cause, LedgerEntry, Member, Merchant, Program, Reward
from app.validation import RuleError, rule_failure


def create_reward(program: Program, request: RewardCreate) -> Reward:
    """Add a reward to the catalog (cards may now show it as available)."""
    reward = Reward(program_id=program.id, **request.given())
    db.session.add(reward)
    members_changed(Member.program_id == program.id)
    db.session.flush()
    return reward


def update_reward(reward: Reward, changes: RewardUpdate) -> Reward:
    """Change a reward (or retire it with active=false)."""
    data = changes.given()
    try:
        check_reward_value(data.get("kind", reward.kind), data.get("value", reward.value))
    except RuleError as exc:
        raise rule_failure(exc) from None
    for key, value in data.items():
        setattr(reward, key, value)
    members_changed(Member.program_id == reward.program_id)
    db.session.flush()
    return reward


def get_reward(merchant: Merchant, reward_id: int) -> Reward:
    """The merchant's reward, or NotFound."""
    reward = db.session.scalar(select(Reward).join(Program, Program.id == Reward.program_id)
                               .where(Reward.id == reward_id,
                                      Program.merchant_id == merchant.id))
    if reward is None:
        raise NotFound(f"Reward {reward_id} not found.")
    return reward


def list_rewards(program: Program, include_inactive: bool = False) -> list[Reward]:
    """The program's rewards, cheapest first."""
    stmt = select(Reward).where(Reward.program_id == program.id)
    if not include_inactive:
        stmt = stmt.where(Reward.active.is_(True))
    return list(db.session.scalars(stmt.order_by(Reward.points_cost, Reward.id)))


def reward_json(reward: Reward) -> dict[str, Any]:
    """A reward as JSON."""
    return {"id": reward.id, "program_id": reward.program_id, "name": reward.name,
            "kind": reward.kind, "value": None if reward.value is None else plain(reward.value),
            "points_cost": reward.points_cost, "active": reward.active}


def create_cause(program: Program, request: CauseCreate) -> Cause:
    """Add a cause members can donate points to."""
    cause = Cause(program_id=program.id, **request.given())
    db.session.add(cause)
    db.session.flush()
    return cause


def update_cause(cause: Cause, changes: CauseUpdate) -> Cause:
    """Change a cause (or close it with active=false)."""
    for key, value in changes.given().items():
        setattr(cause, key, value)
    db.session.flush()
    return cause


def get_cause(merchant: Merchant, cause_id: int) -> Cause:
    """The merchant's cause, or NotFound."""
    cause = db.session.scalar(select(Cause).join(Program, Program.id == Cause.program_id)
                              .where(Cause.id == cause_id, Program.merchant_id == merchant.id))
    if cause is None:
        raise NotFound(f"Cause {cause_id} not found.")
    return cause


def list_causes(program: Program) -> list[Cause]:
    """The program's causes."""
    return list(db.session.scalars(select(Cause).where(Cause.program_id == program.id)
                                   .order_by(Cause.id)))


def donation_totals(cause_ids: list[int]) -> dict[int, int]:
    """Points donated per cause, voided donations deducted."""
    if not cause_ids:
        return {}
    rows = db.session.execute(
        select(LedgerEntry.cause_id, func.sum(LedgerEntry.points))
        .where(LedgerEntry.cause_id.in_(cause_ids)).group_by(LedgerEntry.cause_id))
    totals = {cid: -int(total or 0) for cid, total in rows}
    return {cid: totals.get(cid, 0) for cid in cause_ids}


def cause_json(cause: Cause, donated: int) -> dict[str, Any]:
    """A cause and the points donated to it."""
    return {"id": cause.id, "program_id": cause.program_id, "name": cause.name,
            "description": cause.description, "active": cause.active,
            "points_donated": donated}
