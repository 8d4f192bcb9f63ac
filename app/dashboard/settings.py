"""API keys (owners), webhooks (owners and managers) and the wallet status panel."""

from __future__ import annotations

from typing import Annotated, Any

from flask import g, redirect, request, url_for
from sqlalchemy import select
from werkzeug.wrappers import Response as BaseResponse

from app.dashboard import bp, committed, field_errors, page, security, status
from app.errors import NotFound, ValidationError
from app.extensions import db
from app.i18n import gettext_noop
from app.merchants.operations import issue_key, merchant_keys, revoke_key
from app.models import ApiKey
from app.validation import Input, parse, text
from app.webhooks import operations as hooks
from app.webhooks.schemas import EVENTS, WebhookCreate

DELIVERY_STATES = (gettext_noop("pending"), gettext_noop("delivered"), gettext_noop("failed"))
"""The states of a webhook delivery, as the webhooks page shows them (translated)."""


class KeyForm(Input):
    """A new API key's name (which till or integration uses it)."""

    name: Annotated[str, text(100)]


def _keys_page(status_code: int = 200, **context: Any) -> BaseResponse:
    """The API keys page."""
    context.setdefault("errors", {})
    return page("keys.html", status_code, keys=merchant_keys(g.membership.merchant), **context)


@bp.get("/settings/api-keys")
@security.role_required("owner")
def api_keys() -> BaseResponse:
    """The merchant's API keys (the secret of a new one is shown once)."""
    return _keys_page()


@bp.post("/settings/api-keys")
@committed
@security.role_required("owner")
def create_api_key() -> BaseResponse:
    """Create a named API key and show its secret once."""
    try:
        form = parse(KeyForm, {"name": request.form.get("name", "")})
    except ValidationError as exc:
        return _keys_page(422, errors=field_errors(exc))
    row, plain = issue_key(g.membership.merchant)
    row.name = form.name
    return _keys_page(201, new_key=plain, new_row=row)


@bp.post("/settings/api-keys/<int:key_id>/revoke")
@committed
@security.role_required("owner")
def revoke_api_key(key_id: int) -> BaseResponse:
    """Revoke one of the merchant's keys at once."""
    row = db.session.scalar(select(ApiKey).where(
        ApiKey.id == key_id, ApiKey.merchant_id == g.membership.merchant_id))
    if row is None:
        raise NotFound("There is no such API key.")
    revoke_key(row.id)
    return redirect(url_for("dashboard.api_keys"))


def _hooks_page(status_code: int = 200, **context: Any) -> BaseResponse:
    """The webhooks page, with each webhook's recent deliveries."""
    merchant = g.membership.merchant
    listed = [(hook, hooks.list_deliveries(hook, limit=10)) for hook in
              hooks.list_webhooks(merchant)]
    context.setdefault("errors", {})
    context.setdefault("values", {})
    return page("webhooks.html", status_code, hooks=listed, events=EVENTS, **context)


@bp.get("/settings/webhooks")
@security.role_required("manager")
def webhooks() -> BaseResponse:
    """Webhook endpoints, their recent deliveries and answers."""
    return _hooks_page()


@bp.post("/settings/webhooks")
@committed
@security.role_required("manager")
def create_webhook() -> BaseResponse:
    """Register a webhook URL for the chosen events (its signing secret is shown once)."""
    values = {"url": request.form.get("url", ""), "events": request.form.getlist("events")}
    try:
        hook = hooks.create_webhook(g.membership.merchant, parse(WebhookCreate, values))
    except ValidationError as exc:
        return _hooks_page(422, errors=field_errors(exc), values=values)
    return _hooks_page(201, new_hook=hook)


@bp.post("/settings/webhooks/<int:webhook_id>/delete")
@committed
@security.role_required("manager")
def delete_webhook(webhook_id: int) -> BaseResponse:
    """Remove a webhook."""
    hooks.delete_webhook(hooks.get_webhook(g.membership.merchant, webhook_id))
    return redirect(url_for("dashboard.webhooks"))


@bp.post("/settings/webhooks/<int:webhook_id>/deliveries/<int:delivery_id>/resend")
@committed
@security.role_required("manager")
def resend_delivery(webhook_id: int, delivery_id: int) -> BaseResponse:
    """Send one delivery again now."""
    hook = hooks.get_webhook(g.membership.merchant, webhook_id)
    hooks.resend_delivery(hook, delivery_id)
    return redirect(url_for("dashboard.webhooks", resent=delivery_id))


@bp.get("/status")
@security.login_required
def status_page() -> BaseResponse:
    """What must be fixed in the wallet set-up, said plainly."""
    return page("status.html", problems=status.problems())
