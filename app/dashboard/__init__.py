"""The merchant dashboard at `/`: accounts, the card designer, API keys, webhooks, status.

Server-rendered pages (templates in app/templates/dashboard/), a little JavaScript for the
designer's live preview. Each POST view commits once through `committed`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from flask import Blueprint, Flask, Response, g, render_template

from app import i18n as catalogs
from app.analytics.access import use_access_check
from app.dashboard import i18n, security
from app.errors import DomainError
from app.extensions import db
from app.validation import HEX_COLOR

bp = Blueprint("dashboard", __name__)


def init_app(app: Flask) -> None:
    """Register the dashboard (its views imported by the app factory) and session settings."""
    security.configure_session(app)
    app.register_blueprint(bp)
    use_access_check(app, security.analytics_access)


@bp.before_request
def _before() -> None:
    """Language, user and CSRF check for every dashboard request."""
    g.lang = i18n.current_language()
    security.load_user()
    security.check_csrf()


@bp.app_context_processor
def _template_globals() -> dict[str, Any]:
    """What every dashboard template uses: t(), the CSRF token, the user and languages
    (gettext_noop marks a text that a macro translates, for the catalogs)."""
    return {"t": i18n.translate, "tn": i18n.translate_plural, "label": i18n.label,
            "gettext_noop": catalogs.gettext_noop,
            "reason": i18n.reason,
            "csrf_token": security.csrf_token,
            "languages": i18n.LANGUAGES, "html_lang": i18n.HTML_LANG}


@bp.app_template_filter("hexcolor")
def _hexcolor(value: object) -> str:
    """A '#RRGGBB' colour for a style attribute (anything else: a neutral grey)."""
    text = str(value or "")
    return text if HEX_COLOR.match(text) else "#888888"


@bp.errorhandler(security.Forbidden)
def _forbidden(exc: security.Forbidden) -> tuple[str, int]:
    """A clear page saying the role does not allow this, inside the dashboard frame."""
    return render_template("dashboard/forbidden.html", message=exc.message), 403


def committed(view: Callable[..., Any]) -> Callable[..., Any]:
    """Run a POST view and commit once at the end (roll back on any error)."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            result = view(*args, **kwargs)
        except Exception:
            db.session.rollback()
            raise
        db.session.commit()
        return result

    return wrapper


def field_errors(exc: DomainError) -> dict[str, str]:
    """{field: message in the reader's language} of a validation error, for showing next to
    each field (the shared rules' messages translated; others as the error says them)."""
    out: dict[str, str] = {}
    problems = getattr(exc, "problems", None) or []
    for problem in problems:
        out.setdefault(_field_name(problem.field) or "_",
                       i18n.rule_message(problem.template, problem.values))
    # The details repeat the problems in the API's words (a model check's without its field).
    for item in [] if problems else (exc.details or {}).get("fields") or []:
        out.setdefault(_field_name(item.get("field", "")) or "_",
                       i18n.translate(str(item.get("message", exc.message))))
    if not out:
        out["_"] = i18n.error_message(exc)
    return out


def _field_name(path: object) -> str:
    """The form field of a problem's path (locations[0].latitude: locations)."""
    return str(path).split(".")[0].split("[")[0]


def page(template: str, status: int = 200, **context: Any) -> Response:
    """A dashboard page (HTML), with the status given."""
    return Response(render_template(f"dashboard/{template}", **context), status=status,
                    mimetype="text/html")
