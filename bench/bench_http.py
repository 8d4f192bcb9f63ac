"""Requests per second through gunicorn, on SQLite and on PostgreSQL, against a bare route.

Run ``python -m bench.bench_http [--duration S] [--warmup W] [--rounds R] [--connections C]
[--members N] [--workers P] [--threads T] [--databases sqlite,postgresql] [--check]``.
Needs ``wrk`` (``bash tests/setup_services.sh``).

For each database the app (migrated; a merchant, a program of the cafe template, N/10
members) runs under gunicorn as ``walletpass up`` starts it (app/production.py: P workers x
T threads, ``gthread``; 2 x 4 by default) on 127.0.0.1, and ``wrk`` drives C keep-alive
connections for S seconds per row (after a warm-up of W seconds), in R rounds of the four
rows; then the members grow to N (through the API) and the rounds run again. Each printed
figure is the median of the rounds, each ratio the median of the rounds' ratios to their
own baselines (the machine's speed drifts), and each row at N members shows how its cost
per request grew from N/10 members (the tenth's rate / the full size's rate: 1.00 is flat):

- ``bare route``: a Flask view returning a constant, added to the same app and server:
  the ceiling of gunicorn + Flask on this machine;
- ``member GET``: ``GET /api/v1/members/{id}`` of a random member (API key, tier,
  expiring points, JSON);
- ``earn``: ``POST /api/v1/members/{id}/earn {"points": 1}`` on a random member, each
  with its own ``Idempotency-Key`` (ledger entry, balance, pass version, webhook outbox,
  stored answer, one commit);
- ``pass download``: ``GET /cards/{token}/apple.pkpass`` of a random member (a signed pass).

The bare signing rate is RSA-2048 ``key.sign`` of the served pass's manifest.json, in this
process, on one core, measured after each round. Printed ratios: member GETs against the
bare route, pass downloads against bare signing x cores, and p99/p50 of each row.
PostgreSQL is a throwaway server (tests/pg.py) with fsync off. wrk runs on the same cores
as the server, as a till's traffic would not; its share is what a real client's network
stack would cost. The load average is printed before and after: the targets (a PASS or
MISS line each, at N members) assume a machine doing nothing else.
"""

from __future__ import annotations

import argparse
import io
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
import zipfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from statistics import median

from cryptography.hazmat.primitives.asymmetric.padding import PKCS1v15
from cryptography.hazmat.primitives.hashes import SHA256
from flask import Flask
from sqlalchemy import create_engine, func, select

from app.production import WEB_THREADS, WEB_WORKERS, web_command
from bench.bench_earn import api_key, database, make_app
from tests.net import free_port

BARE_PATH = "/bench/bare"
TARGETS = {"GET ratio": 0.10, "download ratio": 0.10, "p99/p50": 5.0,
           "earn rate": 500.0, "earn p99": 100.0}


def served_app() -> Flask:
    """gunicorn's app factory: the service plus the bare route, configured by WALLETPASS_*."""
    from app import create_app

    app = create_app()
    app.add_url_rule(BARE_PATH, "bench_bare", lambda: "ok")
    return app


# --- the server ------------------------------------------------------------------------


@contextmanager
def gunicorn(url: str, data_dir: Path, workers: int = WEB_WORKERS,
             threads: int = WEB_THREADS) -> Iterator[str]:
    """gunicorn (workers x threads, as `walletpass up` runs it) serving the app on this
    database; yields its base URL."""
    port = free_port()
    env = {**os.environ, "WALLETPASS_DATABASE_URL": url, "WALLETPASS_DATA_DIR": str(data_dir),
           "WALLETPASS_SECRET_KEY": "bench", "WALLETPASS_LOG_LEVEL": "ERROR",
           "WALLETPASS_CELERY_BROKER_URL": "", "WALLETPASS_EMBEDDED_WORKER": "false",
           "WALLETPASS_API_RATE_LIMIT": "0"}  # one key sends it all: no per-key limit
    cmd = web_command(f"127.0.0.1:{port}", workers, threads, "bench.bench_http:served_app()")
    cmd[-1:-1] = ["--log-level", "warning"]
    root = Path(__file__).resolve().parent.parent
    proc = subprocess.Popen(cmd, cwd=root, env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(base + BARE_PATH, proc)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _wait_ready(url: str, proc: subprocess.Popen[bytes], timeout: float = 60) -> None:
    """Wait until every worker could answer (the bare route answers, twice per worker)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"gunicorn exited with status {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2) as resp:
                if resp.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise SystemExit("gunicorn did not start in time")


# --- the data ----------------------------------------------------------------------------


@dataclass
class Seed:
    """What the load needs: the API key, the program, the members' ids and their card
    download tokens, and the served pass's manifest."""

    key: str
    program_id: int
    member_ids: list[int] = field(default_factory=list)
    tokens: list[str] = field(default_factory=list)
    manifest: bytes = b""


def seed(app: Flask, members: int) -> Seed:
    """A merchant, a program (the cafe template) and `members` members, made through the API."""
    key = api_key(app)
    program = app.test_client().post("/api/v1/programs", json={"name": "Bench",
                                                               "template": "cafe"},
                                     headers={"Authorization": f"Bearer {key}"}).get_json()
    data = Seed(key, program["id"])
    enrol(app, data, members)
    card = app.test_client().get(f"/cards/{data.tokens[0]}/apple.pkpass")
    assert card.status_code == 200, card.status_code
    with zipfile.ZipFile(io.BytesIO(card.data)) as archive:
        data.manifest = archive.read("manifest.json")
    return data


def enrol(app: Flask, data: Seed, count: int) -> None:
    """`count` more members in the seeded program, through the API."""
    client = app.test_client()
    headers = {"Authorization": f"Bearer {data.key}"}
    for i in range(len(data.member_ids), len(data.member_ids) + count):
        resp = client.post(f"/api/v1/programs/{data.program_id}/members",
                           json={"email": f"m{i}@example.test", "name": f"Member {i}"},
                           headers=headers)
        body = resp.get_json()
        data.member_ids.append(body["id"])
        data.tokens.append(body["links"]["apple"].rsplit("/", 2)[-2])


def points_total(url: str) -> int:
    """The sum of every member's balance."""
    from app.models import Member

    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return int(conn.scalar(select(func.coalesce(func.sum(Member.points), 0))) or 0)
    finally:
        engine.dispose()


# --- the load ----------------------------------------------------------------------------

LUA = r"""
local paths = {%(paths)s}
local method, body = "%(method)s", %(body)s
local base_headers = {%(headers)s}
local keyed = %(keyed)s
local nonce = "%(nonce)s"
local counter = 0
local threads = 0

function setup(thread)
  threads = threads + 1
  thread:set("tid", threads)
end

function init(args)
  math.randomseed(tid * 7919 + os.time())
end

function request()
  counter = counter + 1
  local headers = {}
  for k, v in pairs(base_headers) do headers[k] = v end
  if keyed then headers["Idempotency-Key"] = nonce .. "-" .. tid .. "-" .. counter end
  return wrk.format(method, paths[math.random(#paths)], headers, body)
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("RESULT %%d %%d %%d %%d %%d %%d\n", summary.requests,
    summary.duration, latency:percentile(50), latency:percentile(99), e.status,
    e.connect + e.read + e.write + e.timeout))
end
"""


@dataclass
class Row:
    """One measured row: requests per second, median and 99th percentile latency (ms)."""

    rate: float
    p50: float
    p99: float
    requests: int
    errors: int

    @property
    def spread(self) -> float:
        """p99 / p50."""
        return self.p99 / self.p50 if self.p50 else float("inf")


def lua_script(paths: list[str], method: str = "GET", body: str | None = None,
               headers: dict[str, str] | None = None, keyed: bool = False) -> str:
    """The wrk script sending `method` to a random one of `paths`."""

    def quote(text: str) -> str:
        return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'

    return LUA % {
        "paths": ", ".join(quote(p) for p in paths), "method": method,
        "body": "nil" if body is None else quote(body),
        "headers": ", ".join(f"[{quote(k)}] = {quote(v)}" for k, v in (headers or {}).items()),
        "keyed": "true" if keyed else "false", "nonce": secrets.token_hex(6),
    }


def wrk(base: str, script: str, connections: int, duration: float, tmp: Path) -> Row:
    """Run wrk with this script; the figures its done() reports."""
    path = tmp / "load.lua"
    path.write_text(script)
    cmd = ["wrk", "-t", str(min(connections, os.cpu_count() or 1)), "-c", str(connections),
           "-d", f"{max(1, round(duration))}s", "--timeout", "30s", "-s", str(path), base]
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"wrk failed: {done.stderr.strip() or done.stdout.strip()}")
    out = done.stdout
    line = next(x for x in out.splitlines() if x.startswith("RESULT "))
    requests, micros, p50, p99, status_errors, socket_errors = map(int, line.split()[1:])
    return Row(requests / (micros / 1e6), p50 / 1000, p99 / 1000, requests,
               status_errors + socket_errors)


def measure_rows(base: str, data: Seed, url: str, args: argparse.Namespace,
                 tmp: Path) -> dict[str, Row]:
    """The four rows against one running server (each after a warm-up of its own)."""
    auth = {"Authorization": f"Bearer {data.key}"}
    scripts: dict[str, Callable[[], str]] = {  # made per run: fresh Idempotency-Keys
        "bare route": lambda: lua_script([BARE_PATH]),
        "member GET": lambda: lua_script([f"/api/v1/members/{i}" for i in data.member_ids],
                                         headers=auth),
        "earn": lambda: lua_script([f"/api/v1/members/{i}/earn" for i in data.member_ids],
                                   "POST", '{"points": 1}',
                                   {**auth, "Content-Type": "application/json"}, keyed=True),
        "pass download": lambda: lua_script([f"/cards/{t}/apple.pkpass" for t in data.tokens]),
    }
    rows = {}
    for name, script in scripts.items():
        if args.warmup:
            wrk(base, script(), args.connections, args.warmup, tmp)
        before = points_total(url) if name == "earn" else 0
        rows[name] = row = wrk(base, script(), args.connections, args.duration, tmp)
        if name == "earn":
            moved = points_total(url) - before
            if moved < row.requests - row.errors:  # in-flight ones at the end may add a few
                raise SystemExit(f"earn: {row.requests} answered, balances moved by {moved}")
    return rows


# --- the baseline ------------------------------------------------------------------------


def signing_rate(app: Flask, manifest: bytes, count: int = 2000, rounds: int = 3) -> float:
    """Bare RSA signatures of the served pass's manifest per second, one core (best round)."""
    key = app.extensions["walletpass.apple"].identity.private_key
    best = 0.0
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(count):
            key.sign(manifest, PKCS1v15(), SHA256())
        best = max(best, count / (time.perf_counter() - start))
    return best


# --- the report --------------------------------------------------------------------------


def cores() -> int:
    """CPUs this process may run on (the server's workers share them)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (
        os.cpu_count() or 1)


@dataclass
class Round:
    """One round: the four rows and the bare signing rate measured right after them."""

    rows: dict[str, Row]
    signing: float

    def ratio(self, name: str) -> float | None:
        """The row's ratio to its baseline (member GET, pass download), else None."""
        if name == "member GET":
            return self.rows[name].rate / self.rows["bare route"].rate
        if name == "pass download":
            return self.rows[name].rate / (self.signing * cores())
        return None


BASELINES = {"member GET": "bare route", "pass download": "bare signing x {cores} cores"}


def summary(rounds: list[Round], name: str) -> tuple[Row, float, float | None]:
    """A row's medians over the rounds: the figures, p99/p50 and the ratio (if any)."""
    row = Row(*(median([getattr(r.rows[name], f) for r in rounds])
                for f in ("rate", "p50", "p99", "requests", "errors")))
    ratios = [x for x in (r.ratio(name) for r in rounds) if x is not None]
    return row, median([r.rows[name].spread for r in rounds]), (
        median(ratios) if ratios else None)


def report(kind: str, size: int, rounds: list[Round],
           tenth: tuple[int, list[Round]] | None = None) -> None:
    """Print one database's rows at one size, the median of the rounds (each round's
    figures beside it when there are several), with the cost growth from the tenth."""
    for name in rounds[0].rows:
        row, spread, ratio = summary(rounds, name)
        note = ""
        if ratio is not None:
            note = f"= {ratio:.2f} x {BASELINES[name].format(cores=cores())}"
        if tenth is not None:
            small = summary(tenth[1], name)[0]
            note += f"  cost x{small.rate / row.rate:.2f} vs {tenth[0]:,} members"
        errors = f"  {sum(r.rows[name].errors for r in rounds)} errors" if row.errors else ""
        each = ""
        if len(rounds) > 1:
            each = "  rounds: " + ", ".join(
                f"{r.rows[name].rate:.0f}/s" + (f" {x:.2f}x" if x is not None else "")
                + f" {r.rows[name].spread:.1f}"
                for r, x in ((r, r.ratio(name)) for r in rounds))
        print(f"{kind:10s} {size:>7,} {name:13s} {row.rate:7.0f}/s  p50 {row.p50:7.1f} ms  "
              f"p99 {row.p99:7.1f} ms  p99/p50 {spread:4.1f}  {note}{errors}{each}")


def verdicts(kind: str, rounds: list[Round]) -> list[tuple[bool, str]]:
    """Each target of this database at the full size: (met, what was measured)."""
    out = []
    base = f"bare signing x {cores()} cores"
    for name, target, baseline in (("member GET", "GET ratio", "bare route"),
                                   ("pass download", "download ratio", base)):
        row, spread, ratio = summary(rounds, name)
        assert ratio is not None
        out.append((ratio >= TARGETS[target],
                    f"{kind} {name} {ratio:.2f} x {baseline} (>= {TARGETS[target]:g})"))
        out.append((spread < TARGETS["p99/p50"] if name == "member GET"
                    else spread <= TARGETS["p99/p50"],
                    f"{kind} {name} p99/p50 {spread:.1f} ({'<' if name == 'member GET' else '<='}"
                    f" {TARGETS['p99/p50']:g}; p50 {row.p50:.1f} ms, p99 {row.p99:.1f} ms)"))
    if kind == "postgresql":
        row, spread, _ = summary(rounds, "earn")
        bare = summary(rounds, "bare route")[0]
        out += [(row.rate >= TARGETS["earn rate"],
                 f"{kind} earn {row.rate:.0f}/s (>= {TARGETS['earn rate']:g}/s; "
                 f"{row.rate / bare.rate:.3f} x bare route)"),
                (row.p99 < TARGETS["earn p99"],
                 f"{kind} earn p99 {row.p99:.1f} ms (< {TARGETS['earn p99']:g} ms)"),
                (spread < TARGETS["p99/p50"],
                 f"{kind} earn p99/p50 {spread:.1f} (< {TARGETS['p99/p50']:g})")]
    return out


def run_database(kind: str, args: argparse.Namespace) -> list[tuple[bool, str]]:
    """Seed, serve and measure one database at a tenth and at the full size; print its rows
    and return its targets' verdicts."""
    with tempfile.TemporaryDirectory() as tmpdir, database(kind, Path(tmpdir)) as url:
        tmp = Path(tmpdir)
        app = make_app(url, tmp)
        sizes = [max(1, args.members // 10), args.members]
        data = seed(app, sizes[0])
        from app.extensions import db

        measured: list[tuple[int, list[Round]]] = []
        with gunicorn(url, tmp / "data", args.workers, args.threads) as base:
            for size in sizes:
                enrol(app, data, size - len(data.member_ids))
                with app.app_context():
                    db.engine.dispose()
                rounds = []
                for _ in range(args.rounds):
                    rows = measure_rows(base, data, url, args, tmp)
                    rounds.append(Round(rows, signing_rate(app, data.manifest, 1000, 2)))
                measured.append((size, rounds))
        signing = [r.signing for _, rounds in measured for r in rounds]
        print(f"{kind}: bare RSA-2048 signing of the pass's manifest, one core, after each "
              "round: " + ", ".join(f"{x:.0f}/s" for x in signing))
        for i, (size, rounds) in enumerate(measured):
            report(kind, size, rounds, measured[0] if i else None)
        return verdicts(kind, measured[-1][1])


def load() -> str:
    """The load average, for the report."""
    return "load average " + ", ".join(f"{x:.2f}" for x in os.getloadavg())


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=5, help="seconds per row")
    parser.add_argument("--connections", type=int, default=16, help="keep-alive connections")
    parser.add_argument("--members", type=int, default=2000,
                        help="members at the full size (the first rounds run with a tenth)")
    parser.add_argument("--workers", type=int, default=WEB_WORKERS, help="gunicorn workers")
    parser.add_argument("--threads", type=int, default=WEB_THREADS,
                        help="threads per gunicorn worker")
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument("--warmup", type=int, default=3,
                        help="seconds of load before each row (pools, prepared statements; "
                        "0: none)")
    parser.add_argument("--rounds", type=int, default=2,
                        help="rounds of the four rows per size; each figure is their median")
    parser.add_argument("--check", action="store_true",
                        help="exit 1 when a target is missed")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark and print the figures."""
    args = parse_args(argv)
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed (bash tests/setup_services.sh).")
    print(f"gunicorn {args.workers} workers x {args.threads} threads on 127.0.0.1; wrk, "
          f"{args.connections} keep-alive connections, {args.duration} s per row, "
          f"{max(1, args.members // 10):,} then {args.members:,} members, {args.rounds} rounds "
          "each (figures: their median; ratios: the median of each round's ratio to its own "
          f"baseline); {load()}")
    results: list[tuple[bool, str]] = []
    for kind in [d.strip() for d in args.databases.split(",") if d.strip()]:
        results += run_database(kind, args)
    print(f"targets at {args.members:,} members ({load()}):")
    for met, what in results:
        print(("PASS " if met else "MISS ") + what)
    return 1 if args.check and not all(met for met, _ in results) else 0


if __name__ == "__main__":
    sys.exit(main())
