"""Each chart of a program's analytics as SVG and its data as CSV (the page that shows them
all is the dashboard's, app/dashboard/analytics.py)."""

from __future__ import annotations

from datetime import date, timedelta

from flask import Blueprint, Response, request

from app.analytics.access import require_analytics_access
from app.analytics.charts import CHARTS, Chart, Report, svg, to_csv
from app.analytics.period import FIRST_DAY, LAST_DAY, MAX_DAYS, Period, local_day
from app.errors import NotFound, ValidationError
from app.i18n import gettext, ngettext
from app.models import Program
from app.models.base import utcnow
from app.wallet.i18n import DEFAULT_LANGUAGE, best_language, normalize_language

bp = Blueprint("analytics", __name__, url_prefix="/analytics")
DEFAULT_DAYS = 30


def page_language(asked: str | None, accept_language: str | None, fallback: str) -> str:
    """`asked` (?lang=) when it names a known language, else the browser's, else `fallback`."""
    chosen = normalize_language(asked) if asked else None
    if chosen:
        return chosen
    default = normalize_language(fallback) or DEFAULT_LANGUAGE
    return best_language(accept_language, default) if accept_language else default


def _report(program_id: int) -> tuple[Report, dict[str, str]]:
    """The report the query string asks for, and the errors of its fields (if any the
    last 30 days are shown instead)."""
    program = require_analytics_access(program_id)
    lang = page_language(request.args.get("lang"), request.headers.get("Accept-Language"),
                         program.language)
    period, errors = parse_period(program, request.args.get("from"), request.args.get("to"),
                                  lang)
    return Report(program, period, lang), errors


def parse_period(program: Program, first: str | None, last: str | None,
                 lang: str) -> tuple[Period, dict[str, str]]:
    """The range from YYYY-MM-DD strings (default: the last 30 days in the program's zone)."""
    today = local_day(utcnow(), program.zone)
    errors: dict[str, str] = {}
    days: dict[str, date] = {}
    for name, value in (("from", first), ("to", last)):
        if value:
            try:
                days[name] = date.fromisoformat(value)
            except ValueError:
                errors[name] = gettext(lang, "Use a date such as 2026-01-31.")
                continue
            if not FIRST_DAY <= days[name] <= LAST_DAY:
                errors[name] = gettext(lang, "Choose days between {first} and {last}.",
                                       first=FIRST_DAY.isoformat(), last=LAST_DAY.isoformat())
    fallback = Period(program.zone, today - timedelta(days=DEFAULT_DAYS - 1), today)
    if errors:
        return fallback, errors
    end = days.get("to", today)
    start = days["from"] if "from" in days else end - timedelta(days=DEFAULT_DAYS - 1)
    if not (start <= end and (end - start).days < MAX_DAYS):
        errors["to"] = ngettext(lang, "The range must run forward and span at most {days} day.",
                                  "The range must run forward and span at most {days} days.",
                                  MAX_DAYS, days=MAX_DAYS)
        return fallback, errors
    return Period(program.zone, start, end), errors


def _chart(program_id: int, slug: str) -> tuple[Report, Chart]:
    """The report and the chart a download names (404 for an unknown chart)."""
    if slug not in CHARTS:
        raise NotFound(f"There is no chart {slug!r}.")
    report, errors = _report(program_id)
    if errors:
        raise ValidationError(" ".join(errors.values()), code="invalid_range")
    return report, CHARTS[slug](report)


@bp.get("/programs/<int:program_id>/<slug>.svg")
def chart_svg(program_id: int, slug: str) -> Response:
    """One chart as an SVG image."""
    report, chart = _chart(program_id, slug)
    body = svg(chart, report.t("No data in this range"))
    return Response(body, mimetype="image/svg+xml", headers={"Cache-Control": "no-store"})


@bp.get("/programs/<int:program_id>/<slug>.csv")
def chart_csv(program_id: int, slug: str) -> Response:
    """One chart's data as CSV (cells safe from spreadsheet formulas)."""
    report, chart = _chart(program_id, slug)
    name = f"{slug}-{report.period.first.isoformat()}-{report.period.last.isoformat()}.csv"
    return Response("\ufeff" + to_csv(chart), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{name}"',
                             "Cache-Control": "no-store"})

