"""Analytics in the dashboard: a program's key figures and charts over a date range, with
each chart's data as CSV (the charts and CSVs themselves are app.analytics')."""

from __future__ import annotations

from flask import g, redirect, request, url_for
from werkzeug.wrappers import Response as BaseResponse

from app.analytics.charts import CHARTS, Report, svg
from app.analytics.views import parse_period
from app.dashboard import bp, page, security
from app.programs.operations import get_program, list_programs


@bp.get("/analytics")
@security.role_required("manager")
def analytics_home() -> BaseResponse:
    """The analytics of the merchant's first card (the page links the others)."""
    programs = list_programs(g.membership.merchant)
    if not programs:
        return page("analytics.html", report=None, programs=[], errors={}, charts=[])
    return redirect(url_for("dashboard.analytics", program_id=programs[0].id))


@bp.get("/analytics/programs/<int:program_id>")
@security.role_required("manager")
def analytics(program_id: int) -> BaseResponse:
    """A card's analytics: a date range, key figures, every chart (SVG) and its data."""
    program = get_program(g.membership.merchant, program_id)
    period, errors = parse_period(program, request.args.get("from"), request.args.get("to"),
                                  g.lang)
    report = Report(program, period, g.lang)
    no_data = report.t("No data in this range")
    charts = [(chart, svg(chart, no_data)) for chart in (b(report) for b in CHARTS.values())]
    query = f"from={period.first.isoformat()}&to={period.last.isoformat()}&lang={g.lang}"
    return page("analytics.html", 400 if errors else 200, report=report, errors=errors,
                charts=charts, query=query, programs=list_programs(g.membership.merchant))
