"""Earn calls per second through the HTTP API, on SQLite and on PostgreSQL.

Run ``python -m bench.bench_earn [--threads T] [--calls N] [--rounds R]
[--databases sqlite,postgresql]``.
For each database the app (migrated, a merchant, a program, one member per client thread)
runs behind a threaded werkzeug server on 127.0.0.1, and T client threads each send N
requests, one connection per request. Rows, measured one after the other in the same run:

- ``GET member``: the baseline, an authenticated read of a member (same HTTP, auth and
  JSON path as an earn, no write);
- ``earn, own member``: ``POST /members/{id}/earn {"points": 1}``, each thread on its own
  member: a ledger entry, the balance, the pass version bump and the commit;
- ``earn, one hot member``: every thread earning on the same member, so every call waits
  for the member's row lock (PostgreSQL) or the database write lock (SQLite).

Each earn row is checked afterwards: the balances and pass versions moved by exactly the
number of calls. Each database is measured twice, with N/10 and with N calls per thread (each
on a fresh database), and the full size's rows show how the cost per call grew from the
tenth (the tenth's rate / the full size's: 1.00 is flat; each member's ledger is ten times
longer at the end of the full size). Rows are measured in R interleaved rounds and the best
of each is kept, because the machine is noisy. PostgreSQL is a throwaway server
(tests/pg.py) with fsync off, so its figures show the locking and round trips, not the disk.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy import create_engine, func, select, text
from werkzeug.serving import make_server

from app import create_app
from app.extensions import db
from app.models import ApiKey, Member, Merchant


@contextmanager
def database(kind: str, tmp: Path) -> Iterator[str]:
    """A SQLAlchemy URL of an empty database of this kind (PostgreSQL: a throwaway server)."""
    if kind == "sqlite":
        yield f"sqlite:///{tmp / 'bench.db'}"
        return
    from tests.pg import PostgresServer, find_bindir

    bindir = find_bindir()
    if bindir is None:
        raise SystemExit("PostgreSQL is not installed (bash tests/setup_services.sh).")
    server = PostgresServer(bindir)
    try:
        admin = create_engine(server.start(), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text("CREATE DATABASE walletpass_bench"))
        admin.dispose()
        yield server.url("walletpass_bench")
    finally:
        server.stop()


def on_each_database(kinds: str, prefix: str, run: Callable[[Path, str, str], int]) -> bool:
    """Call ``run(folder, kind, url)`` on an empty database of each kind in `kinds` (comma
    separated), each in its own temporary folder; whether any call returned non-zero."""
    missed = False
    for kind in [d.strip() for d in kinds.split(",") if d.strip()]:
        with tempfile.TemporaryDirectory(prefix=prefix) as tmp, database(kind, Path(tmp)) as url:
            missed |= run(Path(tmp), kind, url) != 0
    return missed


def make_app(url: str, tmp: Path, **settings: Any) -> Flask:
    """The app on a migrated database (with these settings too)."""
    from flask_migrate import upgrade

    app = create_app({"DATA_DIR": str(tmp / "data"), "DATABASE_URL": url,
                      "EMBEDDED_WORKER": False, "CELERY_BROKER_URL": "", "LOG_LEVEL": "WARNING",
                      "SECRET_KEY": "bench", **settings})
    with app.app_context():
        upgrade(revision="heads")
    return app


def api_key(app: Flask) -> str:
    """A merchant and its API key."""
    with app.app_context():
        merchant = Merchant(name="Bench", email="bench@example.test")
        row, plain = ApiKey.issue(merchant)
        db.session.add_all([merchant, row])
        db.session.commit()
    return plain


class Client:
    """JSON calls to the served app, one connection per call."""

    def __init__(self, base: str, key: str) -> None:
        self.base = base + "/api/v1"
        self.headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}

    def call(self, method: str, path: str, body: Any = None) -> Any:
        """Send one request and return its JSON (raising on an HTTP error)."""
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.base + path, data=data, method=method,
                                     headers=self.headers)
        with urllib.request.urlopen(req, timeout=60) as resp:
            return json.loads(resp.read())


def timed(threads: int, calls: int, work: Callable[[int], None]) -> float:
    """Calls per second of work(thread index) run `calls` times in each of `threads`."""
    start = threading.Barrier(threads + 1)

    def run(index: int) -> None:
        start.wait()
        for _ in range(calls):
            work(index)

    with ThreadPoolExecutor(max_workers=threads) as pool:
        futures = [pool.submit(run, i) for i in range(threads)]
        start.wait()
        began = time.perf_counter()
        for future in futures:
            future.result()
        elapsed = time.perf_counter() - began
    return threads * calls / elapsed


def totals(app: Flask, member_ids: list[int]) -> tuple[int, int]:
    """(sum of balances, sum of pass versions) of these members."""
    with app.app_context():
        row = db.session.execute(select(func.sum(Member.points), func.sum(Member.pass_version))
                                 .where(Member.id.in_(member_ids))).one()
        db.session.remove()
        return int(row[0]), int(row[1])


def measure(kind: str, threads: int, calls: int, rounds: int) -> dict[str, float]:
    """The three rows for one database."""
    with tempfile.TemporaryDirectory() as tmp, database(kind, Path(tmp)) as url:
        app = make_app(url, Path(tmp))
        server = make_server("127.0.0.1", 0, app, threaded=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        try:
            client = Client(f"http://127.0.0.1:{server.server_port}", api_key(app))
            return run_rows(app, client, threads, calls, rounds)
        finally:
            server.shutdown()
            server.server_close()
            with app.app_context():
                db.engine.dispose()


def run_rows(app: Flask, client: Client, threads: int, calls: int,
             rounds: int) -> dict[str, float]:
    """Measure the baseline and both earn rows in interleaved rounds (best of each kept),
    checking that every earn row moved balances and pass versions by its call count."""
    program = client.call("POST", "/programs", {"name": "Bench", "template": "cafe"})
    ids = [client.call("POST", f"/programs/{program['id']}/members",
                       {"email": f"m{i}@example.test"})["id"] for i in range(threads)]
    best: dict[str, float] = {}
    for _ in range(rounds):
        rate = timed(threads, calls, lambda i: client.call("GET", f"/members/{ids[i]}"))
        best["GET member"] = max(best.get("GET member", 0.0), rate)
        for name, target in (("earn, own member", lambda i: ids[i]),
                             ("earn, one hot member", lambda i: ids[0])):
            before = totals(app, ids)
            rate = timed(threads, calls, lambda i, t=target: client.call(
                "POST", f"/members/{t(i)}/earn", {"points": 1}))
            after = totals(app, ids)
            done = threads * calls
            if after[0] - before[0] != done or after[1] - before[1] != done:
                raise SystemExit(f"{name}: balances or pass versions did not move by {done}")
            best[name] = max(best.get(name, 0.0), rate)
    return best


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", type=int, default=8, help="client threads")
    parser.add_argument("--calls", type=int, default=100, help="calls per thread per row")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds (best kept)")
    parser.add_argument("--databases", default="sqlite,postgresql")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark and print the figures."""
    args = parse_args(argv)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per request
    print(f"{args.threads} client threads x {args.calls} calls per row, best of {args.rounds} "
          "rounds; werkzeug threaded server on 127.0.0.1; one connection per call; load average "
          + ", ".join(f"{x:.2f}" for x in os.getloadavg()))
    for kind in [d.strip() for d in args.databases.split(",") if d.strip()]:
        tenth = max(1, args.calls // 10)
        small = measure(kind, args.threads, tenth, args.rounds)
        rows = measure(kind, args.threads, args.calls, args.rounds)
        base = rows["GET member"]
        for name, value in rows.items():
            print(f"{kind:10s} {name:22s} {value:8.0f} calls/s = {value / base:.2f} x GET member"
                  f"  cost x{small[name] / value:.2f} vs {tenth} calls per thread")
    return 0


if __name__ == "__main__":
    sys.exit(main())
