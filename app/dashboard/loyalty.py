"""The designer's loyalty pages: tiers, rewards, store locations and the earning rules.

Each page parses its form with the API's own input model (TierCreate, RewardUpdate, ...)
and calls the same domain operation as the API route, so a rule is checked in one place
and every change that redraws installed cards goes through the same update pipeline.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from flask import g, redirect, request, url_for
from werkzeug.wrappers import Response as BaseResponse

from app.dashboard import bp, committed, drafts, field_errors, page, preview, security
from app.dashboard.i18n import translate as t
from app.dashboard.i18n import translate_plural
from app.errors import DomainError, NotFound
from app.extensions import db
from app.i18n import gettext_noop
from app.locations import operations as places
from app.locations.schemas import StoreLocationChange, StoreLocationCreate
from app.loyalty import catalog, operations, rules, tiers
from app.loyalty.schemas import (
    RewardCreate,
    RewardUpdate,
    RulesUpdate,
    TierCreate,
    TierUpdate,
)
from app.models import Program
from app.programs.operations import get_program
from app.validation import Input, Rule, parse


@dataclass(frozen=True)
class FormField:
    """One input of a form: its model field, label, kind (text, number, color, textarea,
    select, checkbox), hint and choices (value, label)."""

    name: str
    label: str
    kind: str = "text"
    hint: str = ""
    choices: tuple[tuple[str, str], ...] = ()
    attrs: str = ""
    group: str = ""


@dataclass(frozen=True)
class Section:
    """A list of things of a program the merchant adds, edits and removes on one page."""

    key: str
    title: str
    add_title: str
    empty: str
    intro: str
    create_model: type[Input]
    update_model: type[Input]
    fields: tuple[FormField, ...]
    items: Callable[[Program], list[Any]]
    find: Callable[[Program, int], Any]
    create: Callable[[Program, Any], Any]
    update: Callable[[Program, Any, Any], Any]
    remove: Callable[[Program, Any], Any]
    summary: Callable[[Any, Callable[..., str]], str]
    """One line under an item's name (given the page's translate function)."""
    remove_label: str = gettext_noop("Delete")
    confirm: str = gettext_noop("Delete it for good?")
    inactive: Callable[[Any], bool] = field(default=lambda item: False)


def _own(item: Any, program: Program) -> Any:
    """The item when it belongs to this program (else NotFound, as for another merchant's)."""
    if item.program_id != program.id:
        raise NotFound("Not found.")
    return item


def _number(value: Any) -> str:
    """A decimal as people write it (no trailing zeros)."""
    return rules.plain(value) if isinstance(value, Decimal | int) else str(value)


KINDS = (("free_item", gettext_noop("Free item")), ("amount_off", gettext_noop("Amount off")),
         ("percent_off", gettext_noop("Percent off")))
COLOR_HINT = gettext_noop("Empty: the card keeps its own colour.")

TIERS = Section(
    key="tiers", title=gettext_noop("Tiers"), add_title=gettext_noop("Add a tier"),
    empty=gettext_noop("No tiers yet."),
    intro=gettext_noop(
        "Members move up as soon as their qualifying points reach a tier's threshold; the "
        "card then shows the tier, its perks and its colours."),
    create_model=TierCreate, update_model=TierUpdate,
    fields=(FormField("name", gettext_noop("Tier name"), attrs='maxlength="100" required'),
            FormField("threshold", gettext_noop("Threshold"), "number",
                      gettext_noop("Qualifying points (or spend) that reach the tier."),
                      attrs='min="0" step="any" inputmode="decimal" required'),
            FormField("multiplier", gettext_noop("Points multiplier"), "number",
                      gettext_noop("Earned points are multiplied by this, e.g. 1.5."),
                      attrs='min="0" step="any" inputmode="decimal"'),
            FormField("perks", gettext_noop("Perks"), "textarea", gettext_noop(
                "Shown on the card of members in this tier."),
                      attrs='maxlength="2000"'),
            FormField("background_color", gettext_noop("Background"), "color", COLOR_HINT,
                      group="colours"),
            FormField("foreground_color", gettext_noop("Text"), "color", group="colours"),
            FormField("label_color", gettext_noop("Labels"), "color", group="colours")),
    items=tiers.tiers_of,
    find=lambda program, item_id: _own(tiers.get_tier(g.membership.merchant, item_id), program),
    create=tiers.create_tier,
    update=lambda program, item, body: tiers.update_tier(item, body),
    remove=lambda program, item: tiers.delete_tier(item),
    summary=lambda tier, t: t("From {threshold} · points ×{multiplier}",
                              threshold=_number(tier.threshold),
                              multiplier=_number(tier.multiplier)),
    confirm=gettext_noop("Delete this tier for good?"))

REWARDS = Section(
    key="rewards", title=gettext_noop("Rewards"), add_title=gettext_noop("Add a reward"),
    empty=gettext_noop("No rewards yet."),
    intro=gettext_noop(
        "What members can spend their points on; the card shows the next reward within reach."),
    create_model=RewardCreate, update_model=RewardUpdate,
    fields=(FormField("name", gettext_noop("Reward name"), attrs='maxlength="200" required'),
            FormField("kind", gettext_noop("Kind"), "select", choices=KINDS),
            FormField("value", gettext_noop("Value"), "number",
                      gettext_noop("The amount or the percentage off; empty for a free item."),
                      attrs='min="0" step="any" inputmode="decimal"'),
            FormField("points_cost", gettext_noop("Points cost"), "number",
                      attrs='min="1" step="1" inputmode="numeric" required'),
            FormField("active", gettext_noop("Offered to members"), "checkbox")),
    items=lambda program: catalog.list_rewards(program, include_inactive=True),
    find=lambda program, item_id: _own(catalog.get_reward(g.membership.merchant, item_id),
                                       program),
    create=catalog.create_reward,
    update=lambda program, item, body: catalog.update_reward(item, body),
    remove=lambda program, item: catalog.update_reward(item, RewardUpdate(active=False)),
    summary=lambda r, t: translate_plural("{points} point · {kind}", "{points} points · {kind}",
                                          r.points_cost, points=r.points_cost,
                                          kind=t(dict(KINDS)[r.kind])),
    remove_label=gettext_noop("Retire"), confirm=gettext_noop(
        "Retire this reward? Past redemptions keep it."),
    inactive=lambda r: not r.active)

LOCATIONS = Section(
    key="locations", title=gettext_noop("Store locations"), add_title=gettext_noop(
        "Add a location"),
    empty=gettext_noop("No store locations yet."),
    intro=gettext_noop("Wallets show the card on the lock screen near these shops (the first 10)."),
    create_model=StoreLocationCreate, update_model=StoreLocationChange,
    fields=(FormField("name", gettext_noop("Shop name"), attrs='maxlength="200" required'),
            FormField("address", gettext_noop("Address"), "textarea",
                      attrs='maxlength="500" rows="2"'),
            FormField("latitude", gettext_noop("Latitude"), "number", gettext_noop(
                "From -90 to 90, e.g. 13.7563."),
                      attrs='min="-90" max="90" step="any" inputmode="decimal" required',
                      group="coordinates"),
            FormField("longitude", gettext_noop("Longitude"), "number", gettext_noop(
                "From -180 to 180, e.g. 100.5018."),
                      attrs='min="-180" max="180" step="any" inputmode="decimal" required',
                      group="coordinates"),
            FormField("timezone", gettext_noop("Time zone"), hint=gettext_noop(
                "Empty: the program's time zone."),
                      attrs='maxlength="64" placeholder="Asia/Bangkok"'),
            FormField("relevant_text", gettext_noop("Lock-screen text"),
                      gettext_noop("What Apple Wallet says near the shop."),
                      attrs='maxlength="200"')),
    items=places.list_locations,
    find=places.get_location,
    create=places.add_location,
    update=places.change_location,
    remove=places.remove_location,
    summary=lambda loc, t: f"{loc.address} ({loc.latitude:.5f}, {loc.longitude:.5f})".strip(),
    confirm=gettext_noop("Remove this location from the cards?"))

SECTIONS = {s.key: s for s in (TIERS, REWARDS, LOCATIONS)}

RULE_FIELDS = (
    FormField("mode", gettext_noop("Card type"), "select",
              choices=(("points", gettext_noop("Points")), ("stamps", gettext_noop("Stamps"))),
              group=gettext_noop("Earning")),
    FormField("points_per_unit", gettext_noop("Points per currency unit"), "number",
              gettext_noop("E.g. 1: one point per unit of the card's currency; 0.1: one point "
                           "per 10 units."),
              attrs='min="0" step="any" inputmode="decimal"', group=gettext_noop("Earning")),
    FormField("rounding", gettext_noop("Rounding"), "select", choices=(
        ("floor", gettext_noop("Round down")), ("round", gettext_noop("Round to nearest")),
        ("ceil", gettext_noop("Round up"))),
        group=gettext_noop("Earning")),
    FormField("points_per_purchase", gettext_noop("Points per purchase"), "number",
              gettext_noop("Added to every purchase, whatever the amount."),
              attrs='min="0" step="1" inputmode="numeric"', group=gettext_noop("Earning")),
    FormField("stamps_required", gettext_noop("Stamps for a full card"), "number",
              attrs='min="2" max="20" step="1" inputmode="numeric"', group=gettext_noop("Earning")),
    FormField("welcome_bonus", gettext_noop("Welcome bonus"), "number",
              attrs='min="0" step="1" inputmode="numeric"', group=gettext_noop("Bonuses")),
    FormField("referral_bonus", gettext_noop("Referral bonus"), "number",
              attrs='min="0" step="1" inputmode="numeric"', group=gettext_noop("Bonuses")),
    FormField("birthday_bonus", gettext_noop("Birthday bonus"), "number",
              attrs='min="0" step="1" inputmode="numeric"', group=gettext_noop("Bonuses")),
    FormField("expiry_days", gettext_noop("Points expire after (days)"), "number",
              gettext_noop("Empty: points never expire."),
              attrs='min="1" step="1" inputmode="numeric"',
              group=gettext_noop("Expiry and tiers")),
    FormField("expiring_soon_days", gettext_noop("Warn this many days before expiry"), "number",
              attrs='min="1" step="1" inputmode="numeric"', group=gettext_noop("Expiry and tiers")),
    FormField("tier_basis", gettext_noop("Tiers are reached by"), "select", choices=(
        ("points", gettext_noop("Points earned")), ("spend", gettext_noop("Amount spent"))),
        group=gettext_noop("Expiry and tiers")),
    FormField("tier_window_months", gettext_noop("Qualifying window (months)"), "number",
              gettext_noop("Empty: lifetime totals."), attrs='min="1" step="1" inputmode="numeric"',
              group=gettext_noop("Expiry and tiers")),
    FormField("point_value", gettext_noop("Value of one point"), "number",
              gettext_noop(
                  "In the program's currency, for the outstanding points liability in analytics. "
                  "Empty: not set."), attrs='min="0" step="any" inputmode="decimal"',
              group=gettext_noop("Value")))


def form_input(model: type[Input], form: Mapping[str, str],
               fields: tuple[FormField, ...]) -> dict[str, Any]:
    """A form's values for `model`: an empty field is null where the model allows null,
    an empty text stays empty, another empty optional field is left out (unchanged)."""
    out: dict[str, Any] = {}
    for spec in fields:
        info = model.model_fields[spec.name]
        if spec.kind == "checkbox":
            out[spec.name] = "true" if form.get(spec.name) else "false"
            continue
        raw = form.get(spec.name)
        if raw is None:
            continue
        raw = raw.strip()
        if raw == "" and any(isinstance(m, Rule) and m.null_ok for m in info.metadata):
            out[spec.name] = None
        elif raw != "" or info.annotation is str or info.is_required():
            out[spec.name] = raw
    return out


def form_values(item: Any, fields: tuple[FormField, ...]) -> dict[str, Any]:
    """What the fields of an edit form show for a stored item."""
    out: dict[str, Any] = {}
    for spec in fields:
        value = getattr(item, spec.name)
        if spec.kind == "checkbox":
            out[spec.name] = bool(value)
        else:
            out[spec.name] = "" if value is None else _number(value)
    return out


def _program(program_id: int) -> Program:
    """The current merchant's program (404 for another merchant's)."""
    return get_program(g.membership.merchant, program_id)


def _preview(program: Program) -> dict[str, Any]:
    """The card preview (first card language) of the program's current design."""
    design = drafts.current_design(program)
    return {"views": preview.views(program, design, drafts.languages_of(design)[:1]),
            "image_tag": drafts.image_tag(program)}


def _section_page(program: Program, section: Section, status: int = 200,
                  item: Any = None, errors: dict[str, str] | None = None,
                  values: dict[str, Any] | None = None) -> BaseResponse:
    """A section's page: its list, and the add form (or the edit form of `item`)."""
    if values is None:
        values = form_values(item, section.fields) if item is not None else {"active": True}
    return page("design_section.html", status, program=program, section=section,
                items=section.items(program), item=item, errors=errors or {}, values=values,
                here=section.key, **_preview(program))


def _section(key: str) -> Section:
    """The section named in the path (404 for another name)."""
    if key not in SECTIONS:
        raise NotFound("Not found.")
    return SECTIONS[key]


@bp.get("/design/<int:program_id>/<any(tiers, rewards, locations):key>")
@security.role_required("manager")
def design_section(program_id: int, key: str) -> BaseResponse:
    """A program's tiers, rewards or store locations, and a form to add one."""
    return _section_page(_program(program_id), _section(key))


@bp.post("/design/<int:program_id>/<any(tiers, rewards, locations):key>")
@committed
@security.role_required("manager")
def design_section_add(program_id: int, key: str) -> BaseResponse:
    """Add a tier, reward or location (the API's create operation and input model)."""
    program, section = _program(program_id), _section(key)
    values = form_input(section.create_model, request.form, section.fields)
    try:
        section.create(program, parse(section.create_model, values))
    except DomainError as exc:
        db.session.rollback()
        return _section_page(program, section, 422, errors=_errors(exc),
                             values=request.form.to_dict())
    return redirect(url_for("dashboard.design_section", program_id=program.id, key=key,
                            done="added"))


@bp.get("/design/<int:program_id>/<any(tiers, rewards, locations):key>/<int:item_id>")
@security.role_required("manager")
def design_section_item(program_id: int, key: str, item_id: int) -> BaseResponse:
    """The edit form of one tier, reward or location."""
    program, section = _program(program_id), _section(key)
    return _section_page(program, section, item=section.find(program, item_id))


@bp.post("/design/<int:program_id>/<any(tiers, rewards, locations):key>/<int:item_id>")
@committed
@security.role_required("manager")
def design_section_change(program_id: int, key: str, item_id: int) -> BaseResponse:
    """Change a tier, reward or location (the API's change operation and input model)."""
    program, section = _program(program_id), _section(key)
    item = section.find(program, item_id)
    values = form_input(section.update_model, request.form, section.fields)
    try:
        section.update(program, item, parse(section.update_model, values))
    except DomainError as exc:
        db.session.rollback()
        return _section_page(program, section, 422, item=section.find(program, item_id),
                             errors=_errors(exc), values=request.form.to_dict())
    return redirect(url_for("dashboard.design_section", program_id=program.id, key=key,
                            done="saved"))


@bp.post("/design/<int:program_id>/<any(tiers, rewards, locations):key>/<int:item_id>/remove")
@committed
@security.role_required("manager")
def design_section_remove(program_id: int, key: str, item_id: int) -> BaseResponse:
    """Delete a tier or location, or retire a reward (as the API's DELETE does)."""
    program, section = _program(program_id), _section(key)
    try:
        section.remove(program, section.find(program, item_id))
    except DomainError as exc:
        db.session.rollback()
        return _section_page(program, section, exc.status, errors=_errors(exc))
    return redirect(url_for("dashboard.design_section", program_id=program.id, key=key,
                            done="removed"))


CODE_MESSAGES = {
    "duplicate_name": ("name", gettext_noop("Another tier already has this name.")),
    "tier_in_use": ("_", gettext_noop("Members hold this tier, so it cannot be deleted yet; "
                                      "they move at their next review.")),
    "too_many_locations": ("_", gettext_noop("A card has at most 100 store locations.")),
}
"""The dashboard's words for the domain's refusals that are not about one field's value."""


def _errors(exc: DomainError) -> dict[str, str]:
    """Field errors of a refused form; a conflict about a name shows at the name."""
    if exc.code in CODE_MESSAGES:
        field_name, message = CODE_MESSAGES[exc.code]
        return {field_name: t(message)}
    return field_errors(exc)


# --- earning rules -------------------------------------------------------------------


def _rules_page(program: Program, status: int = 200, errors: dict[str, str] | None = None,
                values: dict[str, Any] | None = None) -> BaseResponse:
    """The earning rules form."""
    if values is None:
        values = form_values(rules.rules_of(program), RULE_FIELDS)
    return page("design_rules.html", status, program=program, fields=RULE_FIELDS,
                errors=errors or {}, values=values, here="rules", **_preview(program))


@bp.get("/design/<int:program_id>/rules")
@security.role_required("manager")
def design_rules(program_id: int) -> BaseResponse:
    """A program's earning, bonus, expiry and tier rules and the value of a point."""
    return _rules_page(_program(program_id))


@bp.post("/design/<int:program_id>/rules")
@committed
@security.role_required("manager")
def design_rules_save(program_id: int) -> BaseResponse:
    """Change the rules (the API's operation: cards redraw when what they show changes)."""
    program = _program(program_id)
    try:
        operations.change_rules(program, parse(RulesUpdate, form_input(
            RulesUpdate, request.form, RULE_FIELDS)))
    except DomainError as exc:
        db.session.rollback()
        return _rules_page(program, 422, _errors(exc), request.form.to_dict())
    return redirect(url_for("dashboard.design_rules", program_id=program.id, done="saved"))
