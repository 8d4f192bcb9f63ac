"""Dashboard page times (members list, searches, member page, scanner) with 100,000
members and a million ledger entries (each member named, with an e-mail and a phone).

Run ``python -m bench.bench_dashboard [--members N] [--entries N] [--postgresql]``.
Seeds the data as bench_analytics does (bulk inserts), adds Apple registrations for a
tenth of the members, an owner account logged in through the real form, then prints each
page's time through the Flask test client (best of 3) and the full CSV export's.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, insert, select

from app.extensions import db
from app.models import AppleDevice, AppleRegistration, Member
from bench.bench_analytics import best, bulk, owner_client, seed
from bench.bench_earn import api_key, database, make_app


def wallets(app: Flask, every: int = 10) -> None:
    """One Apple device registered for every `every`-th member."""
    with app.app_context():
        ids = list(db.session.scalars(select(Member.id).order_by(Member.id)))[::every]
        db.session.execute(insert(AppleDevice), [
            {"library_id": f"lib{i}", "push_token": f"{i:064x}"} for i in range(len(ids))])
        devices = list(db.session.scalars(select(AppleDevice.id).order_by(AppleDevice.id)))
        bulk(AppleRegistration, ({"device_id": d, "member_id": m}
                                 for d, m in zip(devices, ids, strict=True)))
        db.session.commit()


FIRST = ("Somchai", "Nguyen", "Tan", "Siti", "Ann", "Lek", "Minh", "Mei", "Ahmad", "Chen")
LAST = ("Jaidee", "Van An", "Ling", "Aminah", "Lim", "Wong", "Tran", "Rahman", "Chua", "Ho")
RARE = "Zebulon Quillfeather"
"""The one member so named (in the middle of the list): a search that finds one row."""


def names(app: Flask) -> None:
    """Give every member a name, an e-mail and a phone (the searches' material)."""
    with app.app_context():
        ids = list(db.session.scalars(select(Member.id).order_by(Member.id)))
        middle = ids[len(ids) // 2]
        stmt = Member.__table__.update().where(Member.__table__.c.id == db.bindparam("mid"))
        for start in range(0, len(ids), 5000):
            db.session.execute(stmt, [
                {"mid": i, "name": RARE if i == middle else
                 f"{FIRST[i % len(FIRST)]} {LAST[(i // 10) % len(LAST)]}",
                 "email": f"customer{i}@example.test", "phone": f"+668{i:08d}"}
                for i in ids[start:start + 5000]])
        db.session.commit()


def measure(app: Flask, client: FlaskClient) -> None:
    """Print each page's time."""
    with app.app_context():
        newest = db.session.scalar(select(func.max(Member.id))) or 1
        middle = db.session.get(Member, newest // 2)
        assert middle is not None
        serial, code = middle.serial_number, middle.serial_number[:12].upper()
        db.session.remove()
    pages = {
        "members, first page": "/members",
        "members, page in the middle": f"/members?before={newest // 2}",
        "members, search serial": f"/members?q={serial}",
        "members, search name (none)": "/members?q=Zebedee",
        "members, search e-mail (none)": "/members?q=nobody%40example.test",
        "members, search name start": "/members?q=Somchai",
        "members, search name middle": "/members?q=chai%20Jai",
        "members, search name middle, 1": "/members?q=quillfeather",
        "members, search e-mail middle": f"/members?q=tomer{newest // 3}%40",
        "members, search phone middle": f"/members?q={newest // 3:08d}",
        "members, search 2 letters (none)": "/members?q=zq",
        "member page": f"/members/{middle.id}",
        "scanner": "/scan",
        "scanner, code typed": f"/scan?code={code}",
        "scanner, member": f"/scan/members/{middle.id}",
    }
    for name, url in pages.items():
        def get(url: str = url) -> None:
            status = client.get(url).status_code
            assert status in (200, 302), (url, status)
        print(f"  {name:<32} {best(3, get):8.1f} ms")
    print(f"  {'CSV export (all members)':<32} "
          f"{best(1, lambda: client.get('/members/export.csv').get_data()):8.1f} ms")


def main(argv: list[str] | None = None) -> None:
    """Seed, then time the pages."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=100_000)
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--postgresql", action="store_true")
    args = parser.parse_args(argv)
    kind = "postgresql" if args.postgresql else "sqlite"
    with tempfile.TemporaryDirectory() as tmp, database(kind, Path(tmp)) as url:
        app = make_app(url, Path(tmp))
        api_key(app)
        seed(app, args.members, args.entries, 365)
        wallets(app)
        names(app)
        print(f"database: {kind}")
        measure(app, owner_client(app))
        with app.app_context():
            db.engine.dispose()


if __name__ == "__main__":
    main()
