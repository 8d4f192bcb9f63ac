"""Analytics page and chart times with 100,000 members and a million ledger entries.

Run ``python -m bench.bench_analytics [--members N] [--entries N] [--days D]
[--postgresql] [--live]``. Seeds one program (in a zone with daylight saving) with bulk inserts
(SQLAlchemy Core executemany in chunks): members spread over D days and every channel,
ledger entries of every kind (earns, bonuses, redemptions, donations, adjustments,
expiries, voids) whose sums are the members' balances, card installs and removals, tiers
and causes; plus a second, small program so the queries must filter. Then prints each
chart's time and the whole page's (through the Flask test client, the API key checked),
for the last 30 days and for the whole of the last year, best of 3, after the rollup
sweep has closed every finished day (its times are printed too; ``--live`` skips it and
reads every day from the ledger). SQLite by default; ``--postgresql`` runs a throwaway
server (tests/pg.py).
"""

from __future__ import annotations

import argparse
import random
import re
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import insert, select

from app.analytics.charts import CHARTS, Report
from app.analytics.rollups import roll_up_all
from app.analytics.views import parse_period
from app.dashboard.accounts import create_owner
from app.extensions import db
from app.models import (
    CardEvent,
    Cause,
    LedgerEntry,
    LoyaltyRules,
    Member,
    Merchant,
    Program,
    StoreLocation,
    Tier,
)
from bench.bench_earn import api_key, database, make_app

CHUNK = 10_000
ZONE = "Asia/Bangkok"
KINDS = [("earn", 70), ("redeem", 10), ("bonus_welcome", 3), ("donate", 4), ("adjust", 5),
         ("expire", 4), ("void", 4)]


PASSWORD = "bench password 1"
"""The owner's dashboard password (a throwaway database)."""

def chunks(rows: Iterator[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    """Rows in lists of CHUNK."""
    batch: list[dict[str, Any]] = []
    for row in rows:
        batch.append(row)
        if len(batch) == CHUNK:
            yield batch
            batch = []
    if batch:
        yield batch


def bulk(model: Any, rows: Iterator[dict[str, Any]]) -> None:
    """Insert rows with Core executemany, a chunk per statement."""
    for batch in chunks(rows):
        db.session.execute(insert(model), batch)


def program(merchant_id: int, name: str) -> tuple[int, list[int], list[int], list[int]]:
    """A program with rules, two tiers, two causes, two locations; its ids."""
    row = Program(merchant_id=merchant_id, template="cafe", name=name, organization_name=name,
                  description=name, background_color="#000000", foreground_color="#ffffff",
                  label_color="#ffffff", timezone=ZONE, currency="THB")
    db.session.add(row)
    db.session.flush()
    db.session.add(LoyaltyRules(program_id=row.id, point_value=0.1))
    tiers = [Tier(program_id=row.id, name=n, threshold=t) for n, t in (("Silver", 100),
                                                                       ("Gold", 1000))]
    causes = [Cause(program_id=row.id, name=n) for n in ("Trees", "Schools")]
    places = [StoreLocation(program_id=row.id, name=n, latitude=13.7, longitude=100.5)
              for n in ("Siam", "Asok")]
    db.session.add_all(tiers + causes + places)
    db.session.flush()
    return row.id, [t.id for t in tiers], [c.id for c in causes], [p.id for p in places]


def seed(app: Flask, members: int, entries: int, days: int) -> int:
    """Seed the data; returns the big program's id."""
    rng = random.Random(13)
    now = datetime.now(UTC)
    started = time.perf_counter()
    with app.app_context():
        from app.models import ApiKey

        merchant_id = db.session.get(ApiKey, 1).merchant_id  # type: ignore[union-attr]
        big = program(merchant_id, "Big")
        small = program(merchant_id, "Small")
        first_id = 1
        plan = [(big, members), (small, max(1, members // 100))]
        balances: dict[int, int] = {}
        next_id = first_id
        for (pid, tiers, _causes, places), count in plan:
            def member_rows(pid: int = pid, count: int = count, tiers: list[int] = tiers,
                            places: list[int] = places) -> Iterator[dict[str, Any]]:
                nonlocal next_id
                for _ in range(count):
                    source = rng.choice(("poster", "link", "import", "api", "dashboard"))
                    yield {"id": next_id, "program_id": pid, "serial_number": f"s{next_id}",
                           "auth_token": f"a{next_id:020d}", "download_token": f"d{next_id}",
                           "created_at": now - timedelta(seconds=rng.randrange(days * 86400)),
                           "pass_updated_at": now, "source": source,
                           "location_id": rng.choice(places) if source == "poster" else None,
                           "tier_id": rng.choice([None, None, *tiers]), "points": 0}
                    balances[next_id] = 0
                    next_id += 1
            bulk(Member, member_rows())
        ids = list(balances)
        cause_ids = big[2]
        kinds = [k for k, w in KINDS for _ in range(w)]

        def entry_rows() -> Iterator[dict[str, Any]]:
            for n in range(entries):
                mid = ids[n % len(ids)] if n < len(ids) else rng.choice(ids)
                kind = "earn" if n < len(ids) else rng.choice(kinds)
                held = balances[mid]
                points = rng.randrange(5, 200)
                if kind in ("redeem", "donate", "expire") or (kind in ("adjust", "void")
                                                              and rng.random() < .5):
                    points = -min(held, points)
                    if points == 0:
                        kind, points = "earn", rng.randrange(5, 200)
                balances[mid] = held + points
                yield {"member_id": mid, "kind": kind, "points": points,
                       "remaining": max(points, 0), "qualifying_amount": 0,
                       "cause_id": rng.choice(cause_ids) if kind == "donate" else None,
                       "created_at": now - timedelta(seconds=rng.randrange(days * 86400))}
        bulk(LedgerEntry, entry_rows())
        for mid, points in balances.items():  # Member.points is the sum of the entries
            balances[mid] = points
        db.session.execute(
            Member.__table__.update().where(Member.__table__.c.id == db.bindparam("mid"))
            .values(points=db.bindparam("pts")),
            [{"mid": m, "pts": p} for m, p in balances.items()])
        bulk(CardEvent, ({"program_id": big[0], "member_id": rng.choice(ids[:members]),
                          "wallet": rng.choice(("apple", "google")),
                          "event": "install" if rng.random() < .8 else "remove",
                          "created_at": now - timedelta(seconds=rng.randrange(days * 86400))}
                         for _ in range(members)))
        db.session.commit()
    print(f"seeded {members} members, {entries} ledger entries in "
          f"{time.perf_counter() - started:.0f} s")
    return big[0]


def best(runs: int, work: Any) -> float:
    """The best wall time of `runs` calls, in milliseconds."""
    times = []
    for _ in range(runs):
        began = time.perf_counter()
        work()
        times.append(time.perf_counter() - began)
    return min(times) * 1000


def owner_client(app: Flask) -> FlaskClient:
    """A test client logged in as the merchant's owner."""
    with app.app_context():
        merchant = db.session.scalars(select(Merchant)).one()
        create_owner(merchant, "owner@example.test", PASSWORD)
        db.session.commit()
    client = app.test_client()
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").get_data(True))
    assert token
    answer = client.post("/login", data={"csrf_token": token.group(1),
                                         "email": "owner@example.test", "password": PASSWORD})
    assert answer.status_code == 302, answer.status_code
    return client


def measure(app: Flask, client: FlaskClient, pid: int, days: int) -> None:
    """Print each chart's time and the page's (as the owner, logged in to the dashboard)
    for a range of `days` ending today."""
    with app.app_context():
        prog = db.session.get(Program, pid)
        assert prog is not None
        today = datetime.now(prog.zone).date()
        first = (today - timedelta(days=days - 1)).isoformat()
        period, _ = parse_period(prog, first, today.isoformat(), "en")
        print(f"\nrange {period.first} .. {period.last} ({days} days)")
        for slug, build in CHARTS.items():
            ms = best(3, lambda build=build: build(Report(prog, period, "en")))
            print(f"  {slug:<12} {ms:8.1f} ms")
        db.session.remove()
    url = f"/analytics/programs/{pid}?from={first}&to={today.isoformat()}"

    def page() -> None:
        resp = client.get(url)
        assert resp.status_code == 200, resp.status_code

    print(f"  {'whole page':<12} {best(3, page):8.1f} ms")


def roll_up(app: Flask) -> None:
    """Run the rollup sweep (its first run backfills every closed day), then again (a
    normal run: nothing or one day to close); print both times."""
    for label in ("first run (backfill)", "next run"):
        with app.app_context():
            began = time.perf_counter()
            days = roll_up_all()
            print(f"rollup sweep, {label}: {days} program-days in "
                  f"{time.perf_counter() - began:.1f} s")
            db.session.remove()


def main(argv: list[str] | None = None) -> None:
    """Seed, then time the charts and the page."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=100_000)
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--postgresql", action="store_true")
    parser.add_argument("--live", action="store_true",
                        help="no rollup sweep: every day read from the ledger")
    args = parser.parse_args(argv)
    kind = "postgresql" if args.postgresql else "sqlite"
    with tempfile.TemporaryDirectory() as tmp, database(kind, Path(tmp)) as url:
        app = make_app(url, Path(tmp))
        api_key(app)  # the merchant
        pid = seed(app, args.members, args.entries, args.days)
        client = owner_client(app)
        print(f"database: {kind}")
        if not args.live:
            roll_up(app)
        for days in (30, args.days):
            measure(app, client, pid, days)
        with app.app_context():
            db.engine.dispose()


if __name__ == "__main__":
    main()
