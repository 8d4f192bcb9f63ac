"""Analytics: every chart's numbers equal a recomputation straight from the ledger and the
member rows (simple Python over the rows, local days by zoneinfo), programs and merchants
stay apart, and only the program's owner reaches the page."""

from __future__ import annotations

import csv
import io
import re
from collections import Counter, defaultdict
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select, update

from app.analytics.charts import safe_cell, to_csv
from app.analytics.period import Period, offset_stretches
from app.extensions import db
from app.models import CardEvent, LedgerEntry, Member, StoreLocation, Tier
from tests.conftest import Api

ZONE = "America/New_York"  # a zone with daylight saving: the range below crosses its change
TODAY = date(2026, 11, 3)  # the days of the data: 2026-10-27 .. 2026-11-03 (DST ends 11-01)
RANGE = ("2026-10-29", "2026-11-02")
ISSUED = {"earn", "bonus_welcome", "bonus_referral", "bonus_birthday"}


def ok(resp: Any, status: int = 201) -> Any:
    """The JSON of an answer that must have this status."""
    assert resp.status_code == status, resp.get_json()
    return resp.get_json()


def make_program(api: Api, name: str) -> tuple[int, int]:
    """A program in ZONE with a value per point, expiry, a tier and a cause."""
    program = ok(api.post("/programs", {"name": name, "template": "cafe", "timezone": ZONE}))
    pid = program["id"]
    rules = ok(api.patch(f"/programs/{pid}/rules", {"point_value": "0.025", "expiry_days": 10,
                                                    "welcome_bonus": 5}), 200)
    assert rules["point_value"] == "0.025"
    ok(api.post(f"/programs/{pid}/tiers", {"name": "Gold", "threshold": "100"}))
    cause = ok(api.post(f"/programs/{pid}/causes", {"name": "=Trees+"}))
    return pid, cause["id"]


def activity(api: Api, pid: int, cause_id: int, people: int) -> list[int]:
    """Members who earn, redeem, donate, get adjusted, and have some of that voided."""
    ids = []
    for i in range(people):
        member = ok(api.post(f"/programs/{pid}/members",
                             {"email": f"m{i}@example.test", "name": f"M {i}"}))
        mid = member["id"]
        ids.append(mid)
        earn = ok(api.post(f"/members/{mid}/earn", {"points": 40 + 30 * i}))["transaction"]
        ok(api.post(f"/members/{mid}/earn", {"amount": "12.50"}))
        if i % 2 == 0:
            red = ok(api.post(f"/members/{mid}/redeem", {"points": 20}))["transaction"]
            if i % 4 == 0:
                ok(api.post(f"/transactions/{red['id']}/void", {}))
        if i % 3 == 0:
            ok(api.post(f"/members/{mid}/donate", {"points": 7, "cause_id": cause_id}))
        if i % 3 == 1:
            don = ok(api.post(f"/members/{mid}/donate", {"points": 3, "cause_id": cause_id}))
            ok(api.post(f"/transactions/{don['transaction']['id']}/void", {}))
        ok(api.post(f"/members/{mid}/adjust", {"points": -2 if i % 2 else 9, "reason": "fix"}))
        if i == 1:
            ok(api.post(f"/transactions/{earn['id']}/void", {}))
    return ids


def spread(app: Flask, pids: list[int]) -> None:
    """Move members, entries and card events over TODAY and the days before it (test data:
    the ledger's lots are untouched), with some near local midnight; add posters and
    card installs; expire the lots that have passed."""
    from app.loyalty.expiry import expire_member

    zone = ZoneInfo(ZONE)
    end = datetime(TODAY.year, TODAY.month, TODAY.day, 23, 0, tzinfo=zone).astimezone(UTC)
    with app.app_context():
        shop = StoreLocation(program_id=pids[0], name="@Main street", latitude=1.0,
                             longitude=2.0)
        db.session.add(shop)
        db.session.flush()
        for n, member in enumerate(db.session.scalars(select(Member).order_by(Member.id))):
            member.created_at = end - timedelta(days=n % 8, hours=(n * 5) % 23, minutes=n)
            member.source = ("poster", "link", "import", "api", "dashboard")[n % 5]
            member.location_id = shop.id if member.source == "poster" and \
                member.program_id == shop.program_id else None
            if n % 2 == 0:
                for wallet in ("apple", "google"):
                    db.session.add(CardEvent(program_id=member.program_id, member_id=member.id,
                                             wallet=wallet, event="install",
                                             created_at=member.created_at))
            if n % 4 == 0:
                db.session.add(CardEvent(program_id=member.program_id, member_id=member.id,
                                         wallet="google", event="remove",
                                         created_at=member.created_at + timedelta(hours=30)))
        for n, entry_id in enumerate(db.session.scalars(select(LedgerEntry.id)
                                                        .order_by(LedgerEntry.id))):
            at = end - timedelta(days=(n * 3) % 8, hours=(n * 7) % 24, minutes=(n * 13) % 60)
            db.session.execute(update(LedgerEntry).where(LedgerEntry.id == entry_id)
                               .values(created_at=at, expires_at=at + timedelta(days=2)
                                       if n % 9 == 0 else None))
        db.session.commit()
        due = db.session.scalars(select(LedgerEntry.member_id).where(
            LedgerEntry.remaining > 0, LedgerEntry.expires_at.is_not(None)).distinct())
        for member_id in list(due):
            expire_member(member_id, now=end - timedelta(days=1, hours=3))
        db.session.commit()


def load(app: Flask) -> tuple[list[Any], list[Any], list[Any]]:
    """Every ledger entry, member and card event, as plain rows."""
    with app.app_context():
        entries = db.session.execute(select(
            LedgerEntry.id, LedgerEntry.member_id, LedgerEntry.kind, LedgerEntry.points,
            LedgerEntry.cause_id, LedgerEntry.voids_entry_id, LedgerEntry.created_at)).all()
        members = db.session.execute(select(
            Member.id, Member.program_id, Member.created_at, Member.source, Member.location_id,
            Member.tier_id)).all()
        events = db.session.execute(select(
            CardEvent.member_id, CardEvent.program_id, CardEvent.wallet, CardEvent.event,
            CardEvent.created_at)).all()
    return entries, members, events


def expected(app: Flask, pid: int, first: date, last: date) -> dict[str, list[list[str]]]:
    """Each chart's rows recomputed from the rows with plain Python."""
    entries, members, events = load(app)
    zone = ZoneInfo(ZONE)
    day = (lambda at: at.astimezone(zone).date())  # noqa: E731
    days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
    inside = (lambda at: first <= day(at) <= last)  # noqa: E731
    ours = {m.id for m in members if m.program_id == pid}
    mine = [e for e in entries if e.member_id in ours]
    kind_of = {e.id: e.kind for e in entries}
    out: dict[str, list[list[str]]] = {}

    per = Counter((day(m.created_at), m.source) for m in members
                  if m.program_id == pid and inside(m.created_at))
    channels = ("poster", "link", "import", "api", "dashboard")
    out["signups"] = [[d.isoformat(), *(str(per[d, c]) for c in channels)] for d in days]

    moved: dict[date, Counter[str]] = defaultdict(Counter)
    for e in mine:
        kind = kind_of[e.voids_entry_id] if e.kind == "void" else e.kind
        cat = ("issued" if kind in ISSUED else "redeemed" if kind == "redeem" else
               "donated" if kind == "donate" else "expired" if kind == "expire" else "adjusted")
        moved[day(e.created_at)][cat] += e.points if cat in ("issued", "adjusted") else -e.points
    cats = ("issued", "redeemed", "donated", "expired", "adjusted")
    out["points"] = [[d.isoformat(), *(str(moved[d][c]) for c in cats)] for d in days]

    def rate(red: int, iss: int) -> str:
        if iss <= 0:
            return ""
        return str((Decimal(100 * red) / Decimal(iss)).quantize(Decimal("0.01"), ROUND_HALF_UP))

    out["redemption"] = [[d.isoformat(), str(moved[d]["issued"]), str(moved[d]["redeemed"]),
                          rate(moved[d]["redeemed"], moved[d]["issued"])] for d in days]
    out["liability"] = []
    for d in days:
        held = sum(e.points for e in mine if day(e.created_at) <= d)
        value = (Decimal(held) * Decimal("0.025")).quantize(Decimal("0.01"), ROUND_HALF_UP)
        out["liability"].append([d.isoformat(), str(held), str(value)])

    active = defaultdict(set)
    for e in mine:
        active[day(e.created_at)].add(e.member_id)
    out["active"] = [[d.isoformat(), str(len(active[d]))] for d in days]

    cards = Counter((day(ev.created_at), f"{ev.wallet}_{ev.event}") for ev in events
                    if ev.program_id == pid)
    keys = ("apple_install", "apple_remove", "google_install", "google_remove")
    out["cards"] = [[d.isoformat(), *(str(cards[d, k]) for k in keys)] for d in days]

    end = max(days)
    cohort = [m for m in members if m.program_id == pid and inside(m.created_at)]
    installed = {ev.member_id for ev in events if ev.event == "install" and day(ev.created_at)
                 <= end}
    undone = {e.voids_entry_id for e in entries if e.kind == "void"}
    did = lambda kind: {e.member_id for e in mine if e.kind == kind and  # noqa: E731
                        day(e.created_at) <= end and e.id not in undone}
    out["funnel"] = [["Signed up", str(len(cohort))],
                     ["Card installed", str(sum(m.id in installed for m in cohort))],
                     ["First earn", str(sum(m.id in did("earn") for m in cohort))],
                     ["First redemption", str(sum(m.id in did("redeem") for m in cohort))]]
    donated = sum(-e.points for e in mine if e.cause_id is not None and inside(e.created_at))
    out["donations"] = [["'=Trees+", str(donated)]] if any(
        e.cause_id is not None and inside(e.created_at) for e in mine) else []
    posters = sum(1 for m in cohort if m.location_id is not None)
    out["locations"] = [["'@Main street", str(posters)]] if posters else []
    with app.app_context():
        gold = db.session.scalar(select(Tier.id).where(Tier.program_id == pid))
    tiers = Counter(m.tier_id for m in members if m.program_id == pid)
    out["tiers"] = [["No tier", str(tiers[None])], ["Gold", str(tiers[gold])]]
    return out


def csv_rows(api: Api, pid: int, slug: str, first: str, last: str) -> list[list[str]]:
    """A chart's CSV download, parsed (header dropped)."""
    resp = api.client.get(f"/analytics/programs/{pid}/{slug}.csv?from={first}&to={last}"
                          "&lang=en", headers=api.headers)
    assert resp.status_code == 200 and resp.mimetype == "text/csv"
    return list(csv.reader(io.StringIO(resp.get_data(as_text=True).lstrip("\ufeff"))))[1:]


@pytest.fixture
def data(app: Flask, api: Api, other_api: Api) -> dict[str, Any]:
    """Two merchants, three programs, activity in each, spread over eight local days."""
    a, a_cause = make_program(api, "Alpha")
    a2, a2_cause = make_program(api, "Alpha Two")
    b, b_cause = make_program(other_api, "Beta")
    activity(api, a, a_cause, 9)
    activity(api, a2, a2_cause, 3)
    activity(other_api, b, b_cause, 5)
    spread(app, [a, a2, b])
    return {"a": a, "a2": a2, "b": b}


def test_every_chart_equals_the_ledger(app: Flask, api: Api, other_api: Api,
                                       data: dict[str, Any]) -> None:
    first, last = date.fromisoformat(RANGE[0]), date.fromisoformat(RANGE[1])
    for who, pid in ((api, data["a"]), (api, data["a2"]), (other_api, data["b"])):
        want = expected(app, pid, first, last)
        for slug, rows in want.items():
            assert csv_rows(who, pid, slug, *RANGE) == rows, (pid, slug)
    want = expected(app, data["a"], first, last)
    assert sum(int(r[1]) for r in want["points"]) > 0  # the data is not empty
    assert any(int(r[4]) for r in want["points"]), "expiries are in the range"
    assert any(r[3] for r in want["redemption"])
    with app.app_context():  # the ledger's own invariant holds for the generated data
        for member in db.session.scalars(select(Member)):
            assert member.points == sum(db.session.scalars(
                select(LedgerEntry.points).where(LedgerEntry.member_id == member.id)))


def owner_of(app: Flask, name: str = "Bean There") -> FlaskClient:
    """A dashboard client logged in as an owner of the merchant named so."""
    from app.dashboard.accounts import create_owner
    from app.models import Merchant
    from tests.dashboard_helpers import PASSWORD, log_in

    with app.app_context():
        merchant = db.session.scalars(select(Merchant).where(Merchant.name == name)).one()
        email = f"analyst{merchant.id}@example.test"
        create_owner(merchant, email, PASSWORD)
        db.session.commit()
    client = app.test_client()
    assert log_in(client, email).status_code == 302
    return client


def test_the_page_shows_the_same_numbers(app: Flask, api: Api, data: dict[str, Any]) -> None:
    pid = data["a"]
    resp = owner_of(app).get(f"/analytics/programs/{pid}?from={RANGE[0]}&to={RANGE[1]}")
    assert resp.status_code == 200
    page = resp.get_data(as_text=True)
    want = expected(app, pid, date.fromisoformat(RANGE[0]), date.fromisoformat(RANGE[1]))
    for slug in want:
        assert f'data-chart="{slug}"' in page and f"{slug}.csv?from={RANGE[0]}" in page
    for row in want["points"]:
        assert "<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" in page
    assert page.count("<svg") == len(want)
    assert 'aria-current="page">Analytics</a>' in page  # the dashboard's nav, on its page
    assert not re.findall(r'(?:src|href)="(?:https?:)?//|@import|url\(', page)  # no CDN
    outstanding = want["liability"][-1][1]
    assert f"<dd>{outstanding}</dd>" in page and f"<dd>{want['liability'][-1][2]}</dd>" in page


def test_programs_and_merchants_stay_apart(app: Flask, api: Api, other_api: Api,
                                           data: dict[str, Any]) -> None:
    for who, pid in ((other_api, data["a"]), (api, data["b"])):
        assert who.client.get(f"/analytics/programs/{pid}/points.csv",
                              headers=who.headers).status_code == 404
    assert owner_of(app, "Other Shop").get(f"/analytics/programs/{data['a']}") \
        .status_code == 404
    away = app.test_client().get(f"/analytics/programs/{data['a']}")  # nobody logged in
    assert away.status_code == 302 and away.location.startswith("/login")
    assert app.test_client().get(f"/analytics/programs/{data['a']}/points.csv") \
        .status_code == 401
    assert api.client.get(f"/analytics/programs/{data['a']}/points.svg",
                          headers={"Authorization": "Bearer wp_nope"}).status_code == 401


def test_the_access_hook_replaces_the_api_key(app: Flask, api: Api, program: dict[str, Any]
                                              ) -> None:
    from app.analytics.access import use_access_check
    from app.errors import DomainError
    from app.models import Program

    def cashier_refused(program_id: int) -> Program:
        raise DomainError("Cashiers cannot see analytics.", code="forbidden", status=403)

    use_access_check(app, cashier_refused)
    resp = api.client.get(f"/analytics/programs/{program['id']}/points.csv",
                          headers=api.headers)
    assert resp.status_code == 403

    def owner(program_id: int) -> Program:
        found = db.session.get(Program, program_id)
        assert found is not None
        return found

    use_access_check(app, owner)
    assert api.client.get(f"/analytics/programs/{program['id']}/funnel.svg").status_code == 200


def test_range_picker_languages_and_errors(app: Flask, api: Api, program: dict[str, Any]
                                           ) -> None:
    from tests.dashboard_helpers import post

    pid = program["id"]
    page = owner_of(app).get(f"/analytics/programs/{pid}", headers={
        "Accept-Language": "th-TH,th;q=0.9"}).get_data(as_text=True)
    assert 'lang="th"' in page and 'type="date" name="from"' in page
    assert "สมาชิกใหม่ต่อวันตามช่องทาง" in page  # a chart's title, in Thai too
    owner = owner_of(app)
    for lang, word, chart in (("th", "สถิติ", "คะแนนที่ให้เทียบกับที่แลก"),
                              ("zh-Hant", "數據分析", "發放與兌換點數"),
                              ("vi", "Phân tích", "Điểm phát ra và điểm đã đổi"),
                              ("ms", "Analitik", "Mata dikeluarkan berbanding ditebus"),
                              ("en", "Analytics", "Points issued versus redeemed")):
        post(owner, "/language", {"lang": lang, "next": "/"})
        answer = owner.get(f"/analytics/programs/{pid}")
        html = answer.get_data(as_text=True)
        assert answer.status_code == 200 and word in html and chart in html, lang
        assert "points.csv?from=" in html and f"&amp;lang={lang}" in html
    bad = owner.get(f"/analytics/programs/{pid}?from=2026-13-01")
    assert bad.status_code == 400 and 'id="from-error"' in bad.get_data(as_text=True)
    assert "Use a date such as 2026-01-31." in bad.get_data(as_text=True)
    backwards = api.client.get(f"/analytics/programs/{pid}/points.csv?from=2026-02-01"
                               "&to=2026-01-01", headers=api.headers)
    assert backwards.status_code == 422
    for query in ("from=9999-12-31&to=9999-12-31", "from=0001-01-01&to=0001-01-02",
                  "to=0001-01-02", "from=1999-12-31&to=2000-01-02"):
        shown = owner.get(f"/analytics/programs/{pid}?{query}")
        assert shown.status_code == 400, query
        assert "Choose days between 2000-01-01 and 2100-12-31." in shown.get_data(as_text=True)
        for chart in ("funnel.csv", "funnel.svg"):
            answer = api.client.get(f"/analytics/programs/{pid}/{chart}?{query}",
                                    headers=api.headers)
            assert answer.status_code == 422, (query, chart)
            assert answer.get_json()["error"]["code"] == "invalid_range"
            assert "2100-12-31" in answer.get_json()["error"]["message"]
    assert api.client.get(f"/analytics/programs/{pid}/nope.svg",
                          headers=api.headers).status_code == 404


def test_card_installs_and_removals_are_logged(app: Flask, member: dict[str, Any]) -> None:
    from app.wallet.apple.registrations import register_device, unregister_device
    from app.wallet.google.saves import record_event

    with app.app_context():
        row = db.session.get(Member, member["id"])
        assert row is not None
        assert register_device("device-1", row, "ab" * 16)
        assert not register_device("device-1", row, "ab" * 16)  # again: no second install
        unregister_device("device-1", row.id)
        record_event({"nonce": "n1", "eventType": "save",
                      "objectId": f"issuer.{row.serial_number}"}, "issuer")
        record_event({"nonce": "n1", "eventType": "save",
                      "objectId": f"issuer.{row.serial_number}"}, "issuer")  # repeated
        record_event({"nonce": "n2", "eventType": "del",
                      "objectId": f"issuer.{row.serial_number}"}, "issuer")
        db.session.commit()
        got = db.session.execute(select(CardEvent.wallet, CardEvent.event)
                                 .order_by(CardEvent.id)).all()
    assert [tuple(r) for r in got] == [("apple", "install"), ("apple", "remove"),
                                       ("google", "install"), ("google", "remove")]


def test_csv_cells_cannot_run_as_formulas() -> None:
    from app.analytics.charts import Chart

    for bad in ("=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx"):
        assert safe_cell(bad) == "'" + bad
    assert safe_cell(-5) == "-5" and safe_cell(Decimal("1.50")) == "1.50"
    assert safe_cell(None) == "" and safe_cell("Gold") == "Gold"
    text = to_csv(Chart("x", "X", ["=Name", "n"], [["-cmd|' /C calc'!A0", 3]]))
    assert text.splitlines() == ["'=Name,n", "'-cmd|' /C calc'!A0,3"]


def test_local_days_follow_daylight_saving() -> None:
    zone = ZoneInfo(ZONE)
    period = Period(zone, date(2026, 10, 30), date(2026, 11, 2))
    stretches = offset_stretches(period.start, period.end, zone)
    assert [s[2] for s in stretches] == [-4 * 3600, -5 * 3600]
    assert stretches[0][1] == datetime(2026, 11, 1, 6, 0, tzinfo=UTC)
    assert period.end - period.start == timedelta(days=4, hours=1)


def all_csv(who: Api, pid: int, first: str, last: str) -> dict[str, list[list[str]]]:
    """Every chart's CSV for a range."""
    from app.analytics.charts import CHARTS

    return {slug: csv_rows(who, pid, slug, first, last) for slug in CHARTS}


def assert_equal_to_ledger(app: Flask, who: Api, pid: int, ranges: list[tuple[str, str]]
                           ) -> None:
    """Every chart of every range equals the recomputation from the ledger."""
    for first, last in ranges:
        want = expected(app, pid, date.fromisoformat(first), date.fromisoformat(last))
        got = all_csv(who, pid, first, last)
        for slug, rows in want.items():
            assert got[slug] == rows, (pid, slug, first, last)


def local(day: date, hour: int, minute: int, second: int, micro: int = 0) -> datetime:
    """A local wall time of ZONE as a UTC instant."""
    return datetime(day.year, day.month, day.day, hour, minute, second, micro,
                    tzinfo=ZoneInfo(ZONE)).astimezone(UTC)


def test_rollups_equal_the_live_ledger(app: Flask, api: Api, other_api: Api,
                                       data: dict[str, Any]) -> None:
    from app.analytics.queries import closed_through
    from app.analytics.rollups import roll_up_all
    from app.models import DailyPoints, LedgerEntry, RollupState
    from app.models.base import utcnow

    a, b = data["a"], data["b"]
    today = utcnow().astimezone(ZoneInfo(ZONE)).date()
    ranges = [RANGE, ("2026-10-27", today.isoformat()), ("2026-10-28", "2026-10-30"),
              ("2026-11-01", "2026-11-02"), ("2026-10-31", "2026-11-01")]
    with app.app_context():  # entries either side of the local midnight that ends 10-31
        ids = list(db.session.scalars(select(LedgerEntry.id).join(Member)
                                      .where(Member.program_id == a).order_by(LedgerEntry.id)))
        for entry_id, at in ((ids[3], local(date(2026, 10, 31), 23, 59, 59, 999_000)),
                             (ids[4], local(date(2026, 11, 1), 0, 0, 0))):
            db.session.execute(update(LedgerEntry).where(LedgerEntry.id == entry_id)
                               .values(created_at=at))
        db.session.commit()
    assert_equal_to_ledger(app, api, a, ranges)  # nothing rolled up: all live
    with app.app_context():  # close the days through 10-31 (New York)
        assert roll_up_all(now=local(date(2026, 11, 1), 0, 20, 0)) > 0
        assert closed_through(a) == (date(2026, 10, 31) - date(1970, 1, 1)).days
        assert db.session.scalar(select(func.count()).select_from(DailyPoints)
                                 .where(DailyPoints.program_id == a)) > 0
    assert_equal_to_ledger(app, api, a, ranges)  # cut at 10-31 across the DST change
    assert_equal_to_ledger(app, other_api, b, ranges[:2])

    old = next(e for e in load(app)[0] if e.kind == "earn" and e.member_id in member_ids(app, a)
               and e.created_at < local(date(2026, 10, 30), 0, 0, 0) and not voided(app, e.id))
    ok(api.post(f"/transactions/{old.id}/void", {}))  # a new entry, dated now
    redeemed = [e for e in load(app)[0] if e.kind == "redeem" and not voided(app, e.id)
                and e.member_id in member_ids(app, a)
                and e.created_at < local(date(2026, 10, 31), 0, 0, 0)]
    assert redeemed  # an undone redemption of a closed day: no first redemption any more
    ok(api.post(f"/transactions/{redeemed[0].id}/void", {}))
    fresh = ok(api.post(f"/programs/{a}/members", {"email": "late@example.test"}))
    ok(api.post(f"/members/{fresh['id']}/earn", {"points": 30}))
    ok(api.post(f"/members/{fresh['id']}/redeem", {"points": 10}))
    assert_equal_to_ledger(app, api, a, ranges)

    with app.app_context():  # close every finished day, twice: the second finds none
        assert roll_up_all() > 0
        through = closed_through(a)
        rows = db.session.scalar(select(func.count()).select_from(DailyPoints))
        assert roll_up_all() == 0
        assert closed_through(a) == through == (today - date(1970, 1, 1)).days - 1 or \
            utcnow().astimezone(ZoneInfo(ZONE)).time() < time(0, 15)
        assert db.session.scalar(select(func.count()).select_from(DailyPoints)) == rows
        assert db.session.scalar(select(func.count()).select_from(RollupState)) == 3
    assert_equal_to_ledger(app, api, a, ranges)
    ok(api.post(f"/members/{fresh['id']}/earn", {"points": 5}))  # today stays live
    assert_equal_to_ledger(app, api, a, ranges[:2])


def member_ids(app: Flask, pid: int) -> set[int]:
    """The ids of a program's members."""
    with app.app_context():
        return set(db.session.scalars(select(Member.id).where(Member.program_id == pid)))


def voided(app: Flask, entry_id: int) -> bool:
    """Whether an entry has been voided."""
    with app.app_context():
        return db.session.scalar(select(LedgerEntry.id)
                                 .where(LedgerEntry.voids_entry_id == entry_id)) is not None


def test_long_ranges_are_drawn_a_point_per_week_and_exported_daily() -> None:
    from datetime import date, timedelta

    from app.analytics import charts

    days = [date(2026, 1, 1) + timedelta(days=i) for i in range(200)]
    flow = charts.Chart("signups", "Signups", ["day", "link"],
                        [[d.isoformat(), i] for i, d in enumerate(days)], kind="stacked")
    level = charts.Chart("liability", "Outstanding", ["day", "points"],
                         [[d.isoformat(), i] for i, d in enumerate(days)], kind="line")
    drawn = charts._for_drawing(flow)
    assert len(drawn) == 29 and drawn[0] == ["2026-01-01", sum(range(7))]
    assert sum(row[1] for row in drawn) == sum(range(200))  # nothing lost or counted twice
    assert charts._for_drawing(level)[1] == ["2026-01-08", 13]  # the week's last day
    assert len(charts.to_csv(flow).strip().splitlines()) == 201  # the CSV stays daily
    svg = charts.svg(flow, "no data")
    assert "2026-01-08" in svg and "2026-01-09" not in svg


def test_small_counts_get_whole_ticks_and_no_data_text_fits() -> None:
    from app.analytics import charts

    steps = charts.Chart("funnel", "Funnel", ["step", "members"],
                         [["Signed up", 1], ["Installed", 1], ["Earned", 0], ["Redeemed", 0]],
                         kind="hbar")
    labels = re.findall(r"<text[^>]*>([^<]*)</text>", charts.svg(steps, "no data"))
    assert [t for t in labels if t.replace(".", "").isdigit()] == ["0", "1"]  # no 0.5
    empty = charts.Chart("donations", "Donations", ["cause", "points"], [], kind="hbar")
    drawn = charts.svg(empty, "No data in this range")
    assert "No data in this range" in drawn
    assert re.search(r"no_data\{[^}]*font-size:20px", drawn)  # not pygal's 64px
