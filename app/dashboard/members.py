"""Members: the searchable list, a member's page (ledger, devices, delivery), point
actions by hand, the card e-mail again, voiding a card, and the CSV export."""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from flask import Response, g, redirect, request, session, stream_with_context, url_for
from sqlalchemy import select
from werkzeug.wrappers import Response as BaseResponse

from app import links
from app.dashboard import bp, committed, counter, page, security
from app.dashboard.i18n import rule_message, translate
from app.distribution.csvsafe import write_rows
from app.errors import DomainError
from app.extensions import db
from app.i18n import gettext_noop
from app.loyalty import ledger, operations
from app.loyalty.schemas import Adjust, Earn, Redeem
from app.members import listing
from app.members.operations import get_member, void_card
from app.models import LedgerEntry
from app.outbox import record
from app.programs.operations import list_programs
from app.updates.delivery import member_devices
from app.validation import MAX_ID, parse, whole_number
from app.wallet.google.saves import google_card

EXPORT_COLUMNS = ("id", "name", "email", "serial", "program", "tier", "points", "apple_devices",
                  "google_saved", "last_activity", "created_at", "voided_at")


@bp.get("/members")
@security.login_required
def members() -> BaseResponse:
    """The member list: search by any part of a name, e-mail or phone, or the start of the
    serial; newest first, page by page."""
    query = request.args.get("q", "")[:320]
    program_id = whole_number(request.args.get("program"), "program", None, 1, MAX_ID)
    before = whole_number(request.args.get("before"), "before", None, 1, MAX_ID)
    rows, next_before = listing.page_of(g.membership.merchant, query, program_id, before)
    return page("members.html", rows=rows, q=query, program_id=program_id,
                next_before=next_before, first=before is None,
                programs=list_programs(g.membership.merchant), short_code=listing.short_code)


@bp.get("/members/export.csv")
@security.role_required("manager")
def members_export() -> Response:
    """The (searched) member list as CSV, safe to open in a spreadsheet."""
    query = request.args.get("q", "")[:320]
    program_id = whole_number(request.args.get("program"), "program", None, 1, MAX_ID)
    merchant = g.membership.merchant
    names = {p.id: p.name for p in list_programs(merchant)}
    rows = listing.export_rows(merchant, query, program_id)  # read a chunk at a time
    response = Response(stream_with_context(_csv(rows, names)), mimetype="text/csv")
    response.headers["Content-Disposition"] = 'attachment; filename="members.csv"'
    return response


def _csv(rows: Iterable[listing.Row], programs: dict[int, str]) -> Iterator[str]:
    """The export's lines, sent as they are written (the first bytes leave at once)."""
    out = io.StringIO()
    write_rows(out, [EXPORT_COLUMNS])
    for row in rows:
        m = row.member
        write_rows(out, [(
            m.id, m.name, m.email, m.serial_number, programs.get(m.program_id, ""),
            m.tier.name if m.tier else "", m.points, row.apple_devices,
            "yes" if row.google_saved else "no",
            row.last_activity.isoformat() if row.last_activity else "",
            m.created_at.isoformat(), m.voided_at.isoformat() if m.voided_at else "")])
        if out.tell() > 65536:
            yield out.getvalue()
            out.seek(0)
            out.truncate()
    yield out.getvalue()


def member_context(member_id: int) -> dict[str, Any]:
    """What the member page shows: the member, ledger, devices, Google object, rewards."""
    member = get_member(g.membership.merchant, member_id)
    before = whole_number(request.args.get("before"), "before", None, 1, MAX_ID)
    entries = ledger.list_entries(member, 50, before)
    row = listing.rows_for([member])[0]
    return {"member": member, "row": row, "entries": entries,
            "voided": ledger.voided_ids([e.id for e in entries]),
            "staff": counter.staff_names(entries), "devices": member_devices(member),
            "google": google_card(member), "rewards": member.program.rewards,
            "next_before": entries[-1].id if len(entries) == 50 else None,
            "short_code": listing.short_code(member), "undoable": counter.undoable,
            "key": counter.new_key}


@bp.get("/members/<int:member_id>")
@security.login_required
def member_page(member_id: int) -> BaseResponse:
    """One member: balance, ledger (who did what), devices and delivery state, actions."""
    done = request.args.get("done", "")
    return page("member.html", notice=translate(done) if done in NOTICES else "",
                error=pop_error(), **member_context(member_id))


NOTICES = (gettext_noop("Points added."), gettext_noop("Points redeemed."),
           gettext_noop("Balance adjusted."), gettext_noop("Undone."),
           gettext_noop("The card e-mail is on its way."), gettext_noop("The card was voided."))


def _run(member_id: int, action: Callable[[Any], LedgerEntry | None], notice: str,
         back: str = "dashboard.member_page") -> BaseResponse:
    """Run one idempotent action on a member and go back with its notice (or the error)."""
    member = get_member(g.membership.merchant, member_id)
    form = request.form.to_dict()
    form["member"] = str(member_id)
    try:
        counter.once(form.get("key", ""), form, lambda: _answer(action(member)))
    except DomainError as exc:
        db.session.rollback()
        session[ERROR_KEY] = action_message(exc)[:300]
        return redirect(url_for(back, member_id=member_id))
    return redirect(url_for(back, member_id=member_id, done=notice))


ERROR_KEY = "action_error"
"""Where a failed action's message waits for the page it goes back to: in the signed
session, never in the URL, so a crafted link cannot show staff a message of its own."""


def pop_error() -> str:
    """The message of the action that just failed (shown once), else ""."""
    return str(session.pop(ERROR_KEY, "") or "")


ACTION_WORDING = {
    "insufficient_points": gettext_noop(
        "Not enough points: the member has {balance}, this needs {needed}."),
    "balance_limit": gettext_noop("This would take the balance past the highest allowed."),
    "unknown_reward": gettext_noop("This reward is not offered any more; reload the page."),
}
"""How the counter words the API's errors (by code) that name fields or ids."""

AMOUNT_RULE = 'must be a number written as a string such as "12.50".'


def action_message(exc: DomainError) -> str:
    """A failed action's message for the person at the counter, in their language: the
    shared rules' messages as the dashboard words them next to fields, else the error's."""
    problems = getattr(exc, "problems", None) or []
    if problems:
        return " ".join(dict.fromkeys(
            translate("Write the amount with a dot, like 12.50.")
            if p.field == "amount" and p.template == AMOUNT_RULE
            else rule_message(p.template, p.values) for p in problems))
    if exc.code in ACTION_WORDING:
        values = {k: v for k, v in (exc.details or {}).items() if isinstance(v, (str, int))}
        return translate(ACTION_WORDING[exc.code], None, **values)
    return counter.message_of(exc)


def _amount(text: str) -> str:
    """An amount as typed, a decimal comma read as a point ("12,50": "12.50"); a comma
    before three digits ("1,500") may group thousands, so it stays (and is refused)."""
    text = text.strip()
    return text.replace(",", ".") if re.fullmatch(r"[0-9]{1,12},[0-9]{1,2}", text) else text


def _answer(entry: LedgerEntry | None) -> dict[str, Any]:
    """What the idempotency record keeps of an action."""
    return {"entry_id": entry.id if entry is not None else None}


def earn_form(member: Any) -> LedgerEntry:
    """Earn from a form: an amount, else points."""
    counter.check_limits(member)
    fields = {k: request.form[k] for k in ("amount", "points") if request.form.get(k)}
    if "amount" in fields:
        fields["amount"] = _amount(fields["amount"])
    if request.form.get("reason"):
        fields["reason"] = request.form["reason"]
    return operations.earn(member, counter.staffed(parse(Earn, fields)))


def redeem_form(member: Any) -> LedgerEntry:
    """Redeem from a form: a reward, else points."""
    fields = {k: request.form[k] for k in ("reward_id", "points") if request.form.get(k)}
    if request.form.get("reason"):
        fields["reason"] = request.form["reason"]
    return operations.redeem(member, counter.staffed(parse(Redeem, fields)))


@bp.post("/members/<int:member_id>/earn")
@security.login_required
@committed
def member_earn(member_id: int) -> BaseResponse:
    """Add points by hand (with a reason) or for a purchase amount."""
    return _run(member_id, earn_form, gettext_noop("Points added."))


@bp.post("/members/<int:member_id>/redeem")
@security.login_required
@committed
def member_redeem(member_id: int) -> BaseResponse:
    """Redeem a reward or points."""
    return _run(member_id, redeem_form, gettext_noop("Points redeemed."))


@bp.post("/members/<int:member_id>/adjust")
@security.role_required("manager")
@committed
def member_adjust(member_id: int) -> BaseResponse:
    """Correct the balance by hand, with a required reason."""
    fields = {k: request.form.get(k, "") for k in ("points", "reason")}
    return _run(member_id, lambda m: operations.adjust(m, counter.staffed(parse(Adjust, fields))),
                gettext_noop("Balance adjusted."))


@bp.post("/members/<int:member_id>/undo/<int:entry_id>")
@security.login_required
@committed
def member_undo(member_id: int, entry_id: int) -> BaseResponse:
    """Undo one's own recent action on this member."""
    back = "dashboard.scan_member" if request.form.get("back") == "scan" else \
        "dashboard.member_page"
    return _run(member_id, lambda m: counter.undo(_entry_of(m.id, entry_id)),
                gettext_noop("Undone."), back)


def _entry_of(member_id: int, entry_id: int) -> LedgerEntry:
    """The member's ledger entry (another member's: not found)."""
    entry = operations.get_entry(g.membership.merchant, entry_id)
    if entry.member_id != member_id:
        raise DomainError("That action belongs to another member.", status=404)
    return entry


@bp.post("/members/<int:member_id>/resend")
@security.login_required
@committed
def member_resend(member_id: int) -> BaseResponse:
    """Send the card e-mail again (the mail channel sends it at most once an hour)."""
    def resend(member: Any) -> None:
        record(g.membership.merchant_id, "member.card_link_requested",
               {"member_id": member.id, "program_id": member.program_id,
                "email": member.email, "card_link": links.card_page_link(member),
                "language": member.language or member.program.language,
                "source": "dashboard", "actor": counter.actor()}, member_id=member.id)
    return _run(member_id, resend, gettext_noop("The card e-mail is on its way."))


@bp.post("/members/<int:member_id>/void")
@security.role_required("manager")
@committed
def member_void(member_id: int) -> BaseResponse:
    """Void the card for good: no more earning or redeeming, the card page is gone."""
    return _run(member_id, lambda m: void_card(m) and None, gettext_noop("The card was voided."))


def last_entry_of(member_id: int) -> LedgerEntry | None:
    """The member's newest ledger entry."""
    return db.session.scalar(select(LedgerEntry).where(LedgerEntry.member_id == member_id)
                             .order_by(LedgerEntry.id.desc()).limit(1))
