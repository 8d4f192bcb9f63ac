"""The analytics charts: each one's data as a table (what the CSV holds), drawn as SVG by
pygal on the server (no JavaScript, nothing fetched from elsewhere)."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from functools import cached_property
from typing import Any

import pygal
from pygal.etree import etree
from pygal.style import Style

from app.analytics import queries as q
from app.analytics.period import Period
from app.i18n import gettext, gettext_noop, pgettext
from app.loyalty.rules import rules_of
from app.models import Program

Cell = int | Decimal | str | None


@dataclass
class Chart:
    """One chart: its rows (first column the x label) and how to draw them."""

    slug: str
    title: str
    header: list[str]
    rows: list[list[Cell]]
    kind: str = "bar"
    """bar, stacked (bars), line, or hbar (horizontal bars)."""
    drawn: list[int] = field(default_factory=list)
    """Which value columns (1-based) to draw; all when empty."""


def chart_text(lang: str, message: str, **values: Any) -> str:
    """A text of the charts in `lang`, values filled in."""
    return gettext(lang, message, **values)


SERIES = {
    "poster": gettext_noop("Poster"), "link": gettext_noop("Link"),
    "import": gettext_noop("E-mail list"), "api": gettext_noop("API"),
    "dashboard": gettext_noop("Dashboard"),
    "apple_install": gettext_noop("Apple installed"),
    "apple_remove": gettext_noop("Apple removed"),
    "google_install": gettext_noop("Google installed"),
    "google_remove": gettext_noop("Google removed"),
    "signup": gettext_noop("Signed up"),
    "installed": gettext_noop("Card installed"),
    "earned": gettext_noop("First earn"),
    "redeemed": gettext_noop("First redemption"),
    "issued": gettext_noop("Issued"), "donated": gettext_noop("Donated"),
    "expired": gettext_noop("Expired"), "adjusted": gettext_noop("Adjusted"),
}
"""How the charts name the series and steps stored as codes."""


class Report:
    """A program's analytics over a period; shared queries run once, when first needed."""

    def __init__(self, program: Program, period: Period, lang: str) -> None:
        self.program, self.period, self.lang = program, period, lang

    def t(self, message: str, **values: Any) -> str:
        """A chart text in the report's language."""
        return chart_text(self.lang, message, **values)

    @cached_property
    def moved(self) -> q.Counts:
        """Points per day and category."""
        return q.points_moved(self.program.id, self.period)

    @cached_property
    def moved_total(self) -> dict[str, int]:
        """Points per category over the range."""
        return q.totals(self.moved, q.CATEGORIES)

    @cached_property
    def active(self) -> tuple[dict[date, int], int]:
        """Active members per day and over the range."""
        return q.active_members(self.program.id, self.period)

    @cached_property
    def outstanding(self) -> dict[date, int]:
        """Points outstanding at the end of each day."""
        return q.outstanding(self.program.id, self.period, self.moved)

    @property
    def point_value(self) -> Decimal | None:
        """The merchant's value of one point (None: not set)."""
        return rules_of(self.program).point_value

    def figures(self) -> list[tuple[str, Cell]]:
        """The page's key figures."""
        issued, redeemed = self.moved_total["issued"], self.moved_total["redeemed"]
        left = self.outstanding[self.period.last]
        out: list[tuple[str, Cell]] = [
            (self.t("Active members"), self.active[1]), (self.t("Issued"), issued),
            (pgettext(self.lang, "chart", "Redeemed"), redeemed),
            (self.t("Redemption rate (%)"), q.redemption_rate(redeemed, issued)),
            (self.t("Outstanding points"), left)]
        value = q.liability(left, self.point_value)
        if value is not None:
            out.append((self.t("Value ({currency})", currency=self.program.currency), value))
        return out


def _daily(report: Report, values: Callable[[date], list[Cell]]) -> list[list[Cell]]:
    """One row per day of the range: the ISO date, then the values."""
    return [[day.isoformat(), *values(day)] for day in report.period.days()]


def signups(r: Report) -> Chart:
    """Signups per day, one series per channel."""
    data = q.signups(r.program.id, r.period)
    empty = dict.fromkeys(q.CHANNELS, 0)
    return Chart("signups", r.t("Signups per day by channel"),
                 [r.t("Day"), *(r.t(SERIES[c]) for c in q.CHANNELS)],
                 _daily(r, lambda d: [data.get(d, empty).get(c, 0) for c in q.CHANNELS]),
                 kind="stacked")


def locations(r: Report) -> Chart:
    """Poster signups per store location."""
    rows: list[list[Cell]] = [[name, n] for name, n in
                              q.signups_by_location(r.program.id, r.period)]
    return Chart("locations", r.t("Poster signups by location"),
                 [r.t("Location"), r.t("Signups")], rows,
                 kind="hbar")


CARD_SERIES = ("apple_install", "apple_remove", "google_install", "google_remove")


def cards(r: Report) -> Chart:
    """Cards installed and removed per day and wallet."""
    data = q.card_events(r.program.id, r.period)
    return Chart("cards", r.t("Cards installed and removed"),
                 [r.t("Day"), *(r.t(SERIES[k]) for k in CARD_SERIES)],
                 _daily(r, lambda d: [data.get(d, {}).get(k, 0) for k in CARD_SERIES]))


FUNNEL_STEPS = ("signup", "installed", "earned", "redeemed")


def funnel(r: Report) -> Chart:
    """Signup, card installed, first earn, first redemption."""
    data = q.funnel(r.program.id, r.period)
    return Chart("funnel", r.t("Funnel of this range's signups"), [r.t("Step"), r.t("Members")],
                 [[r.t(SERIES[step]), data[step]] for step in FUNNEL_STEPS], kind="hbar")


def active(r: Report) -> Chart:
    """Members with a ledger entry, per day."""
    daily = r.active[0]
    return Chart("active", r.t("Active members"), [r.t("Day"), r.t("Active members")],
                 _daily(r, lambda d: [daily.get(d, 0)]), kind="line")


POINT_SERIES = ("issued", "redeemed", "donated", "expired", "adjusted")


def point_series(r: Report, code: str) -> str:
    """The name of a points series ("Redeemed" as the charts say it, not the funnel step)."""
    return pgettext(r.lang, "chart", "Redeemed") if code == "redeemed" else r.t(SERIES[code])


def points(r: Report) -> Chart:
    """Points issued, redeemed, donated, expired and adjusted per day."""
    empty = dict.fromkeys(q.CATEGORIES, 0)
    return Chart("points", r.t("Points issued versus redeemed"),
                 [r.t("Day"), *(point_series(r, k) for k in POINT_SERIES)],
                 _daily(r, lambda d: [r.moved.get(d, empty)[k] for k in POINT_SERIES]))


def redemption(r: Report) -> Chart:
    """Redeemed as a percentage of issued, per day (empty on days nothing was issued)."""
    empty = dict.fromkeys(q.CATEGORIES, 0)

    def rate(day: date) -> list[Cell]:
        got = r.moved.get(day, empty)
        return [got["issued"], got["redeemed"], q.redemption_rate(got["redeemed"], got["issued"])]

    return Chart("redemption", r.t("Redemption rate (%)"),
                 [r.t("Day"), r.t("Issued"), pgettext(r.lang, "chart", "Redeemed"),
                  r.t("Redemption rate (%)")],
                 _daily(r, rate), kind="line", drawn=[3])


def liability(r: Report) -> Chart:
    """Points outstanding at the end of each day, and their value in the currency."""
    value = r.point_value
    header = [r.t("Day"), r.t("Outstanding points")]
    if value is not None:
        header.append(r.t("Value ({currency})", currency=r.program.currency))

    def row(day: date) -> list[Cell]:
        left = r.outstanding[day]
        return [left] if value is None else [left, q.liability(left, value)]

    return Chart("liability", r.t("Outstanding points liability"), header, _daily(r, row),
                 kind="line",
                 drawn=[1] if value is None else [2])


def tiers(r: Report) -> Chart:
    """Members per tier today."""
    rows: list[list[Cell]] = [[name if name is not None else r.t("No tier"), n]
                              for name, n in q.tier_distribution(r.program.id)]
    return Chart("tiers", r.t("Members per tier (today)"),
                 [pgettext(r.lang, "chart", "Tier"), r.t("Members")], rows, kind="hbar")


def donations(r: Report) -> Chart:
    """Points donated per cause over the range."""
    rows: list[list[Cell]] = [[name, n] for name, n in q.donations(r.program.id, r.period)]
    return Chart("donations", r.t("Points donated per cause"),
                 [r.t("Cause"), pgettext(r.lang, "chart", "Points")], rows,
                 kind="hbar")


CHARTS: dict[str, Callable[[Report], Chart]] = {
    "signups": signups, "locations": locations, "cards": cards, "funnel": funnel,
    "active": active, "points": points, "redemption": redemption, "liability": liability,
    "tiers": tiers, "donations": donations,
}
"""Every chart by slug, in page order."""


# --- drawing and export ---------------------------------------------------------------

STYLE = Style(background="transparent", plot_background="transparent",
              font_family="system-ui, sans-serif", no_data_font_size=20,
              colors=("#1f6feb", "#d1242f", "#1a7f37", "#9a6700", "#8250df", "#57606a"))
KINDS = {"bar": pygal.Bar, "stacked": pygal.StackedBar, "line": pygal.Line,
         "hbar": pygal.HorizontalBar}


def svg(chart: Chart, no_data: str) -> str:
    """The chart as a standalone SVG document (no script, no external reference)."""
    drawing = KINDS[chart.kind](
        style=STYLE, js=[], disable_xml_declaration=True, width=800, height=360,
        explicit_size=False, show_legend=len(_drawn(chart)) > 1, legend_at_bottom=True,
        x_label_rotation=45 if chart.kind in ("bar", "stacked", "line") else 0,
        show_minor_x_labels=chart.kind == "hbar", no_data_text=no_data, title=chart.title,
        print_values=False, truncate_label=-1, dots_size=2)
    rows = _for_drawing(chart)
    labels = [str(row[0]) for row in rows]
    drawing.x_labels = labels
    drawing.x_labels_major_every = max(1, len(labels) // 10)
    ticks = _whole_ticks(chart, rows)
    if ticks:
        drawing.y_labels = ticks
    for column in _drawn(chart):
        drawing.add(chart.header[column], [_number(row[column]) for row in rows])
    return _without_scripts(drawing.render_tree())


SMALL_COUNTS = 10


def _whole_ticks(chart: Chart, rows: list[list[Cell]]) -> list[int] | None:
    """Ticks 0, 1, 2... for a chart of small counts, where pygal would label fractions of
    one (None: let pygal choose)."""
    lines = [[row[c] for c in _drawn(chart)] for row in rows]
    cells = [cell for line in lines for cell in line if cell is not None]
    if not cells or not all(isinstance(c, int) and c >= 0 for c in cells):
        return None
    tops = [sum(c for c in line if isinstance(c, int)) if chart.kind == "stacked" else
            max((c for c in line if isinstance(c, int)), default=0) for line in lines]
    top = max(tops)
    return list(range(max(top, 1) + 1)) if top <= SMALL_COUNTS else None


MAX_DRAWN_DAYS = 92
"""Longer daily charts are drawn a point per week (their CSV stays daily): a year of daily
bars takes pygal about a second to draw and is no easier to read."""


def _for_drawing(chart: Chart) -> list[list[Cell]]:
    """The rows to draw: daily rows as they are up to MAX_DRAWN_DAYS, else one per week
    (labelled by its first day): flows (bars) summed over the week, levels and rates
    (lines) as on the week's last day."""
    if chart.kind not in ("bar", "stacked", "line") or len(chart.rows) <= MAX_DRAWN_DAYS:
        return chart.rows
    weeks = [chart.rows[i:i + 7] for i in range(0, len(chart.rows), 7)]
    if chart.kind == "line":
        return [[week[0][0], *week[-1][1:]] for week in weeks]
    return [[week[0][0], *(_week_sum([row[c] for row in week])
                           for c in range(1, len(week[0])))] for week in weeks]


def _week_sum(cells: list[Cell]) -> Cell:
    """The sum of a week's numbers (None when the week has none)."""
    numbers = [c for c in cells if isinstance(c, int | Decimal)]
    return sum(numbers, start=0) if numbers else None


def _without_scripts(root: Any) -> str:
    """The SVG text of pygal's tree minus the <script> of its interactive mode: pygal always
    writes its config there (chart texts included), and this page runs no JavaScript."""
    for parent in list(root.iter()):
        for child in list(parent):
            if str(child.tag).rsplit("}", 1)[-1] == "script":
                parent.remove(child)
    return str(etree.tostring(root, encoding="unicode"))


def _drawn(chart: Chart) -> list[int]:
    """The value columns to draw."""
    return chart.drawn or list(range(1, len(chart.header)))


def _number(cell: Cell) -> float | None:
    """A cell as a number to plot (None leaves a gap)."""
    if cell is None or isinstance(cell, str):
        return None
    return float(cell)


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(cell: Cell) -> str:
    """A CSV cell a spreadsheet will not run as a formula: text starting with = + - @, a tab
    or a carriage return gets a leading single quote (numbers are written as they are)."""
    if cell is None:
        return ""
    if isinstance(cell, int | Decimal):
        return str(cell)
    return "'" + cell if cell.startswith(FORMULA_STARTS) else cell


def to_csv(chart: Chart) -> str:
    """The chart's table as CSV (header first)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([safe_cell(h) for h in chart.header])
    writer.writerows([safe_cell(c) for c in row] for row in chart.rows)
    return out.getvalue()
