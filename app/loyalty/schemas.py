"""The shapes of the loyalty API: rules, tiers, rewards, causes and point transactions, as
sent and as answered."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from app.members.schemas import Member
from app.validation import (
    COLOR,
    FLAG,
    MAX_ID,
    OMIT,
    Input,
    RuleError,
    integer,
    no_null_default,
    one_of,
    text,
)
from app.validation import decimal as decimal_string

MODES = ("points", "stamps")
ROUNDINGS = ("floor", "round", "ceil")
REWARD_KINDS = ("free_item", "amount_off", "percent_off")
SOURCES = ("pos", "api", "system")
ENTRY_KINDS = ("earn", "redeem", "adjust", "donate", "void", "expire", "bonus_welcome",
               "bonus_referral", "bonus_birthday")
MAX_POINTS = 1_000_000_000
MAX_AMOUNT = Decimal("9999999999.99")

Points = Annotated[int, integer(1, MAX_POINTS)]
Id = Annotated[int, integer(1, MAX_ID)]
DECIMAL = r"^-?[0-9]+(\.[0-9]+)?$"


def _schema_extra(*clauses: dict[str, Any]) -> Callable[[dict[str, Any]], None]:
    """A model's JSON Schema hook: the Input clean-up plus extra model-level rules."""

    def extra(schema: dict[str, Any]) -> None:
        no_null_default(schema)
        for clause in clauses:
            schema.setdefault("allOf", []).append(clause)

    return extra


def _exactly_one(*names: str) -> dict[str, Any]:
    """The JSON Schema of 'exactly one of these fields'."""
    return {"oneOf": [{"required": [n]} for n in names]}


# --- rules ---------------------------------------------------------------------------


class RulesUpdate(Input):
    """A change of a program's earning, bonus, tier, expiry and stamp rules."""

    mode: Annotated[str, one_of(*MODES)] = OMIT
    points_per_unit: Annotated[Decimal, decimal_string(
        Decimal("0"), Decimal("100000"), places=4, low_inclusive=True)] = Field(
        default=OMIT, description="Points per unit of the program's currency")
    rounding: Annotated[str, one_of(*ROUNDINGS)] = Field(
        default=OMIT, description="How amount x points_per_unit x tier multiplier becomes whole "
                          "points (default floor; round is half-up)")
    points_per_purchase: Annotated[int, integer(0, 1_000_000)] = Field(
        default=OMIT, description="Fixed points added to every purchase")
    welcome_bonus: Annotated[int, integer(0, 1_000_000)] = OMIT
    referral_bonus: Annotated[int, integer(0, 1_000_000)] = OMIT
    birthday_bonus: Annotated[int, integer(0, 1_000_000)] = OMIT
    expiry_days: Annotated[int | None, integer(1, 36500).or_null()] = Field(
        default=OMIT, description="Points expire this many days after they were credited (null: "
                          "never)")
    expiring_soon_days: Annotated[int, integer(1, 3650)] = OMIT
    tier_basis: Annotated[str, one_of("points", "spend")] = OMIT
    tier_window_months: Annotated[int | None, integer(1, 120).or_null()] = Field(
        default=OMIT, description="Qualifying window; null for lifetime")
    stamps_required: Annotated[int, integer(2, 20)] = OMIT
    point_value: Annotated[Decimal | None, decimal_string(
        Decimal("0"), Decimal("1000000"), places=4, low_inclusive=True).or_null()] = Field(
        default=OMIT, description="What one point is worth in the program's currency, for the "
                          "outstanding points liability in analytics (null: not set)")


class Rules(BaseModel):
    """A program's rules as the API answers them."""

    mode: Literal["points", "stamps"]
    points_per_unit: str = Field(pattern=DECIMAL)
    rounding: Literal["floor", "round", "ceil"]
    points_per_purchase: int
    welcome_bonus: int
    referral_bonus: int
    birthday_bonus: int
    expiry_days: int | None
    expiring_soon_days: int
    tier_basis: Literal["points", "spend"]
    tier_window_months: int | None
    stamps_required: int
    point_value: str | None = Field(pattern=DECIMAL)


# --- tiers ---------------------------------------------------------------------------


class TierUpdate(Input):
    """A change of a tier: only the fields sent change."""

    name: Annotated[str, text(100)] = OMIT
    threshold: Annotated[Decimal, decimal_string(
        Decimal("0"), Decimal("9999999999"), low_inclusive=True)] = Field(
        default=OMIT, description="Qualifying points (or spend) that reach the tier")
    multiplier: Annotated[Decimal, decimal_string(Decimal("0"), Decimal("100"), places=3)] = (
        Field(default=OMIT, description="Earned points are multiplied by this"))
    perks: Annotated[str, text(2000, required=False)] = OMIT
    background_color: Annotated[str | None, COLOR.or_null()] = None
    foreground_color: Annotated[str | None, COLOR.or_null()] = None
    label_color: Annotated[str | None, COLOR.or_null()] = None


class TierCreate(TierUpdate):
    """A new tier."""

    name: Annotated[str, text(100)]
    threshold: Annotated[Decimal, decimal_string(
        Decimal("0"), Decimal("9999999999"), low_inclusive=True)]


class Tier(BaseModel):
    """A tier as the API answers it."""

    id: int
    program_id: int
    name: str
    threshold: str = Field(pattern=DECIMAL)
    multiplier: str = Field(pattern=DECIMAL)
    perks: str
    background_color: str | None
    foreground_color: str | None
    label_color: str | None


class TierList(BaseModel):
    """A program's tiers, lowest first."""

    tiers: list[Tier]


# --- rewards and causes --------------------------------------------------------------

_PERCENT = r"^(100(\.0{1,2})?|[0-9]{1,2}(\.[0-9]{1,2})?)$"
_REWARD_VALUE_RULES = (
    {"if": {"required": ["kind"], "properties": {"kind": {"const": "free_item"}}},
     "then": {"properties": {"value": {"type": "null"}}}},
    {"if": {"required": ["kind"], "properties": {"kind": {"const": "amount_off"}}},
     "then": {"required": ["value"], "properties": {"value": {"type": "string"}}}},
    {"if": {"required": ["kind"], "properties": {"kind": {"const": "percent_off"}}},
     "then": {"required": ["value"], "properties": {"value": {
         "type": "string", "pattern": _PERCENT}}}},
)


def check_reward_value(kind: str, value: Decimal | None) -> None:
    """amount_off needs an amount, percent_off a percentage up to 100, free_item nothing."""
    if kind == "free_item" and value is not None:
        raise RuleError("A free_item reward has no 'value'.", field="value")
    if kind in ("amount_off", "percent_off") and value is None:
        raise RuleError(f"A {kind} reward needs a 'value'.", field="value")
    if kind == "percent_off" and value is not None and value > 100:
        raise RuleError("'value' of a percent_off reward is at most 100.", field="value")


class RewardUpdate(Input):
    """A change of a reward (active=false retires it)."""

    name: Annotated[str, text(200)] = OMIT
    kind: Annotated[str, one_of(*REWARD_KINDS)] = OMIT
    value: Annotated[Decimal | None, decimal_string(
        Decimal("0"), Decimal("9999999999")).or_null()] = Field(
        default=None, description="Amount off, or percent off (<= 100); null for free_item")
    points_cost: Annotated[int, integer(1, MAX_POINTS)] = OMIT
    active: Annotated[bool, FLAG] = OMIT


class RewardCreate(RewardUpdate):
    """A new reward."""

    model_config = ConfigDict(json_schema_extra=_schema_extra(*_REWARD_VALUE_RULES))

    name: Annotated[str, text(200)]
    kind: Annotated[str, one_of(*REWARD_KINDS)]
    points_cost: Annotated[int, integer(1, MAX_POINTS)]

    @model_validator(mode="after")
    def _value_fits_kind(self) -> RewardCreate:
        check_reward_value(self.kind, self.value)
        return self


class Reward(BaseModel):
    """A reward as the API answers it."""

    id: int
    program_id: int
    name: str
    kind: Literal["free_item", "amount_off", "percent_off"]
    value: str | None = Field(pattern=DECIMAL)
    points_cost: int
    active: bool


class RewardList(BaseModel):
    """A program's rewards, cheapest first."""

    rewards: list[Reward]


class CauseUpdate(Input):
    """A change of a cause (active=false closes it to new donations)."""

    name: Annotated[str, text(200)] = OMIT
    description: Annotated[str, text(2000, required=False)] = OMIT
    active: Annotated[bool, FLAG] = OMIT


class CauseCreate(CauseUpdate):
    """A new cause."""

    name: Annotated[str, text(200)]


class Cause(BaseModel):
    """A cause and the points donated to it."""

    id: int
    program_id: int
    name: str
    description: str
    active: bool
    points_donated: int


class CauseList(BaseModel):
    """A program's causes."""

    causes: list[Cause]


# --- point transactions --------------------------------------------------------------


class TransactionDetails(Input):
    """What every transaction may record about itself."""

    reason: Annotated[str, text(500, required=False)] = OMIT
    source: Annotated[str, one_of("pos", "api")] = OMIT
    actor: Annotated[str, text(200, required=False)] = Field(
        default=OMIT, description="Who made the change (staff id, till)")


class Void(TransactionDetails):
    """A void (refund) of a transaction."""


class Earn(TransactionDetails):
    """Points for a purchase amount (by the earning rules) or a fixed number of points:
    exactly one of points or amount."""

    model_config = ConfigDict(json_schema_extra=_schema_extra(_exactly_one("points", "amount")))

    points: Points = OMIT
    amount: Annotated[Decimal, decimal_string(Decimal("0"), MAX_AMOUNT)] = Field(
        default=OMIT, description="Purchase amount in the program's currency")

    @model_validator(mode="after")
    def _one(self) -> Earn:
        _check_one(self, "points", "amount")
        return self


class Redeem(TransactionDetails):
    """Points spent on a catalog reward or a number of points: exactly one of points or
    reward_id."""

    model_config = ConfigDict(json_schema_extra=_schema_extra(
        _exactly_one("points", "reward_id")))

    points: Points = OMIT
    reward_id: Id = OMIT

    @model_validator(mode="after")
    def _one(self) -> Redeem:
        _check_one(self, "points", "reward_id")
        return self


class Adjust(TransactionDetails):
    """A manual correction with a reason."""

    points: Annotated[int, integer(-MAX_POINTS, MAX_POINTS)] = Field(
        description="Signed, not zero")
    reason: Annotated[str, text(500)]

    @model_validator(mode="after")
    def _not_zero(self) -> Adjust:
        if self.points == 0:
            raise ValueError("'points' must not be zero.")
        return self


class Donate(TransactionDetails):
    """Points given to one of the program's causes."""

    points: Points
    cause_id: Id


def _check_one(model: BaseModel, *names: str) -> None:
    """Exactly one of `names` was sent."""
    if sum(n in model.model_fields_set for n in names) != 1:
        raise ValueError(f"Send exactly one of: {', '.join(names)}.")


class Transaction(BaseModel):
    """A ledger entry as the API answers it."""

    id: int
    member_id: int
    kind: Literal["earn", "redeem", "adjust", "donate", "void", "expire", "bonus_welcome",
                  "bonus_referral", "bonus_birthday"]
    points: int
    amount: str | None = Field(pattern=DECIMAL, description="Negative in voids of purchases")
    reason: str
    source: Literal["pos", "api", "system"]
    actor: str
    reward_id: int | None
    cause_id: int | None
    voids_transaction_id: int | None
    expires_at: datetime | None
    created_at: datetime
    voided: bool | None = None


class TransactionList(BaseModel):
    """A page of a member's ledger, newest first."""

    transactions: list[Transaction]
    next_before: int | None


class TransactionResult(BaseModel):
    """A transaction and the member after it."""

    transaction: Transaction
    member: Member
