"""Push fan-out and single-change latency through the whole update pipeline, vs the raw client.

Run ``python -m bench.bench_push [--devices N] [--databases sqlite,postgresql] [--trials T]
[--check]`` (needs ``nghttpd`` from Debian's ``nghttp2-server`` and, for PostgreSQL, its
server binaries: ``bash tests/setup_services.sh``).

For each database (PostgreSQL: a throwaway server on loopback, tests/pg.py):

1. Starts ``nghttpd`` on loopback as the APNs stand-in: TLS, HTTP/2, one worker thread,
   requiring a client certificate from the development chain, serving an empty file at
   ``/3/device/<token>`` for every device token of both sizes below.
2. Two sizes, a tenth of N and N: for each, a program with that many members, each with
   one registered device, seeded in bulk (COPY on PostgreSQL, one executemany on SQLite).
3. Baseline, per size: the raw APNs client (libcurl multiplexing, one connection, no
   database) pushing that many tokens against the same nghttpd, one round just before the
   fan-outs and one just after (so both see the same machine), the best kept.
4. Fan-out, per size: a program-wide design change (``update_program``, what the API's
   PATCH calls) to every device, timed from the change until every registration is
   recorded as delivered, so the sweep's claims and records are included. Run twice:
   first with a new APNs connection, then again once the coalescing window has passed
   (the long-lived connection); the second is compared with the baseline (target 0.8 x).
5. Latency: with the embedded worker running, T single changes (``touch_pass`` + commit,
   which is what an earn does) on distinct members, each timed from just before its commit
   to its push arriving at a Python HTTP/2 stand-in that notes arrival times.

How the cost grows is printed as the time per push at N over the time per push at a tenth
of N, for the raw client and for the pipeline (1.00: linear).
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy import func, insert, select

from bench.bench_earn import on_each_database
from tests.net import free_port, wait_port

TARGET_RATE = 5000.0
TARGET_RATIO = 0.8
TARGET_P99 = 1.0


@dataclass(frozen=True)
class Size:
    """The figures of one fan-out size: raw client and pipeline, pushes per second."""

    devices: int
    raw: float
    cold: float
    warm: float


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark on each database and print its figures."""
    args = _parse(argv)
    if shutil.which("nghttpd") is None:
        print("nghttpd not found: apt-get install nghttp2-server", file=sys.stderr)
        return 2
    missed = on_each_database(args.databases, "bench-push-",
                              lambda tmp, kind, url: _run(tmp, kind, url, args))
    return 1 if missed and args.check else 0


def _parse(argv: list[str] | None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--devices", type=int, default=100_000,
                        help="devices of the full size (a tenth of it is measured too)")
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument("--trials", type=int, default=200)
    parser.add_argument("--check", action="store_true",
                        help=f"exit 1 when a target ({TARGET_RATIO} x the raw client, "
                             f"{TARGET_RATE:,.0f} pushes/s, p99 < 1 s) is missed")
    return parser.parse_args(argv)


def sizes(devices: int) -> list[int]:
    """The fan-out sizes measured: a tenth of `devices`, then `devices`."""
    return sorted({max(1, devices // 10), devices})


def _run(tmp: Path, kind: str, url: str, args: argparse.Namespace) -> int:
    """Set everything up on one database, measure, print; 1 when a target is missed."""
    from app.wallet.apple.certs import create_dev_identity
    from tests.apns_standin import make_server_tls

    certs = create_dev_identity(tmp / "certs")
    tls = make_server_tls(tmp / "tls")
    counts = sizes(args.devices)
    tokens = [f"{i:064x}" for i in range(1, sum(counts) + 1)]
    port = free_port()
    server = _start_nghttpd(tmp, tls, certs["root"], tokens, port)
    results = []
    try:
        settings = _settings(tmp, certs, tls, f"https://127.0.0.1:{port}", url)
        app = _create_app(settings)
        start = 0
        for count in counts:
            results.append(_measure_size(app, settings, tokens[start:start + count]))
            start += count
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(10)
    latencies = _latency(tmp, certs, tls, settings, args.trials)
    return _report(kind, results, latencies)


def _measure_size(app: Flask, settings: dict[str, Any], tokens: list[str]) -> Size:
    """Seed a program with one device per token, then the raw client and two fan-outs."""
    seeded = time.perf_counter()
    program_id = _populate(app, tokens)
    print(f"  seeded {len(tokens):,} members and devices in "
          f"{time.perf_counter() - seeded:.1f} s", flush=True)
    from app.wallet.apple.apns import ApnsClient

    before = _baseline(settings, tokens, rounds=1)
    ApnsClient.close_all()  # the first change opens a new connection
    cold = _fan_out(app, program_id, len(tokens), "#224466")
    time.sleep(app.config["SETTINGS"].PUSH_COALESCE_SECONDS)
    warm = _fan_out(app, program_id, len(tokens), "#446688")
    raw = max(before, _baseline(settings, tokens, rounds=1))  # one round either side
    return Size(len(tokens), raw, cold, warm)


def _start_nghttpd(tmp: Path, tls: dict[str, Path], client_root: Path, tokens: list[str],
                   port: int) -> subprocess.Popen[bytes]:
    """nghttpd serving an empty file per token, verifying client certificates."""
    docs = tmp / "htdocs" / "3" / "device"
    docs.mkdir(parents=True)
    for token in tokens:
        (docs / token).touch()
    env = {**os.environ, "SSL_CERT_FILE": str(client_root)}
    proc = subprocess.Popen(
        ["nghttpd", "-a", "127.0.0.1", "-n", "1", "-m", "1000", "--verify-client",
         "-d", str(tmp / "htdocs"), str(port), str(tls["key"]), str(tls["cert"])],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_port(port, "the APNs stand-in")
    return proc


def _settings(tmp: Path, certs: dict[str, Path], tls: dict[str, Path], url: str,
              database_url: str) -> dict[str, Any]:
    """App settings for the benchmark."""
    return {"DATA_DIR": str(tmp / "data"),
            "DATABASE_URL": database_url or f"sqlite:///{tmp / 'bench.db'}",
            "SECRET_KEY": "bench", "APPLE_CERT": str(certs["cert"]),
            "APPLE_KEY": str(certs["key"]), "APPLE_WWDR": str(certs["wwdr"]), "APPLE_P12": "",
            "CELERY_BROKER_URL": "", "EMBEDDED_WORKER": False, "LOG_LEVEL": "WARNING",
            "APNS_URL": url, "APNS_CA_FILE": str(tls["ca"]), "APNS_TIMEOUT": 30.0}


def _create_app(settings: dict[str, Any]) -> Flask:
    """A migrated app."""
    from flask_migrate import upgrade

    from app import create_app

    app = create_app(settings)
    with app.app_context():
        upgrade(revision="heads")
    return app


def _baseline(settings: dict[str, Any], tokens: list[str], rounds: int = 2) -> float:
    """Pushes per second of the bare APNs client (no database), best of `rounds`."""
    from app.config import Settings
    from app.wallet.apple.apns import ApnsClient, apns_config
    from app.wallet.apple.certs import load_identity

    values = Settings(**{k: v for k, v in settings.items() if k.startswith("APNS")})
    identity = load_identity(cert_path=settings["APPLE_CERT"], key_path=settings["APPLE_KEY"],
                             wwdr_path=settings["APPLE_WWDR"])
    client = ApnsClient(apns_config(values, identity))
    client.send(tokens[:10])  # connect
    best = 0.0
    for _ in range(rounds):
        started = time.perf_counter()
        answers = client.send(tokens)
        elapsed = time.perf_counter() - started
        assert all(a.status == 200 for a in answers), {a.status for a in answers}
        best = max(best, len(tokens) / elapsed)
    client.close()
    return best


def _populate(app: Flask, tokens: list[str]) -> int:
    """A program (made by create_program) with one member and one registered device per
    token, seeded in bulk."""
    from app.extensions import db
    from app.models import AppleDevice, AppleRegistration, Member, Merchant
    from app.models.base import utcnow, utcnow_seconds
    from app.models.member import new_serial, new_token
    from app.programs.operations import create_program
    from app.programs.schemas import ProgramCreate
    from app.validation import parse

    with app.app_context():
        merchant = Merchant(name="Bench", email="bench@example.test")
        db.session.add(merchant)
        db.session.commit()
        program = create_program(merchant, parse(ProgramCreate, {"name": "Bench",
                                                                 "template": "cafe"}))
        db.session.flush()
        now, stamp = utcnow(), utcnow_seconds()
        first_device = (db.session.scalar(select(func.max(AppleDevice.id))) or 0) + 1
        bulk_insert(Member.__table__, [
            {"program_id": program.id, "serial_number": new_serial(), "auth_token": new_token(),
             "download_token": new_token(), "name": "", "email": f"m{t[-12:]}@example.test",
             "points": 0, "pass_version": 1, "pass_updated_at": stamp, "created_at": now,
             "source": "api", "marketing_consent": False} for t in tokens])
        bulk_insert(AppleDevice.__table__, [
            {"library_id": t, "push_token": t, "created_at": now, "updated_at": now}
            for t in tokens])
        member_ids = db.session.scalars(select(Member.id).where(
            Member.program_id == program.id).order_by(Member.id)).all()
        device_ids = db.session.scalars(select(AppleDevice.id).where(
            AppleDevice.id >= first_device).order_by(AppleDevice.id)).all()
        bulk_insert(AppleRegistration.__table__, [
            {"device_id": d, "member_id": m, "created_at": now, "registered_at": now,
             "pushed_version": 1, "fetched_version": 1, "attempts": 0}
            for d, m in zip(device_ids, member_ids, strict=True)])
        db.session.commit()
        return int(program.id)


def bulk_insert(table: Any, rows: list[dict[str, Any]]) -> None:
    """Insert rows (all with the same keys) in bulk, in the session's transaction: COPY on
    PostgreSQL, one executemany on SQLite."""
    from app.extensions import db

    connection = db.session.connection()
    if connection.dialect.name != "postgresql":
        connection.execute(insert(table), rows)
        return
    columns = list(rows[0])
    cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
    with cursor, cursor.copy(f"COPY {table.name} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row([row[c] for c in columns])


def _fan_out(app: Flask, program_id: int, count: int, color: str) -> float:
    """Pushes per second of one program-wide change to every device, through the sweep."""
    from app.extensions import db
    from app.jobs import PASS_UPDATES, run_sweep_now
    from app.models import AppleRegistration, Member, Program
    from app.programs.operations import update_program
    from app.programs.schemas import ProgramDesign
    from app.validation import parse

    with app.app_context():
        program = db.session.get(Program, program_id)
        started = time.perf_counter()
        update_program(program, parse(ProgramDesign, {"background_color": color}))
        for _ in range(50):
            if not run_sweep_now(PASS_UPDATES):
                break
        elapsed = time.perf_counter() - started
        delivered = db.session.scalar(
            select(func.count()).select_from(AppleRegistration)
            .join(Member, Member.id == AppleRegistration.member_id)
            .where(Member.program_id == program_id,
                   AppleRegistration.pushed_version == Member.pass_version,
                   AppleRegistration.push_status == 200))
    assert delivered == count, f"only {delivered} of {count} delivered"
    return count / elapsed


def _latency(tmp: Path, certs: dict[str, Path], tls: dict[str, Path],
             settings: dict[str, Any], trials: int) -> list[float]:
    """Seconds from a single change's commit to its push arriving, per trial."""
    from app.extensions import db
    from app.jobs import start_embedded_worker
    from app.models import AppleDevice, AppleRegistration, Member
    from tests.apns_standin import ApnsStandIn

    stand_in = ApnsStandIn(tls, client_ca=certs["root"])
    arrived: dict[str, float] = {}
    stand_in.on_push = lambda push: arrived.setdefault(push.token, time.perf_counter())
    stand_in.start()
    app = _create_app({**settings, "APNS_URL": stand_in.url, "EMBEDDED_WORKER": True})
    worker = start_embedded_worker(app)
    out = []
    try:
        with app.app_context():
            rows = db.session.execute(
                select(Member.id, AppleDevice.push_token)
                .join(AppleRegistration, AppleRegistration.member_id == Member.id)
                .join(AppleDevice).order_by(Member.id).limit(trials)).all()
        for member_id, token in rows:
            out.append(_one_trial(app, member_id, token, arrived))
            time.sleep(0.02)
    finally:
        if worker is not None:
            worker.stop()
        from app.wallet.apple.apns import ApnsClient

        ApnsClient.close_all()
        stand_in.stop()
    return out


def _one_trial(app: Flask, member_id: int, token: str, arrived: dict[str, float]) -> float:
    """Change one member's pass and wait (bounded) for its push."""
    from app.extensions import db
    from app.models import Member
    from app.updates.changes import touch_pass

    with app.app_context():
        member = db.session.get(Member, member_id)
        member.points = (member.points or 0) + 1
        touch_pass(member)
        started = time.perf_counter()
        db.session.commit()
    deadline = started + 10
    while token not in arrived and time.perf_counter() < deadline:
        time.sleep(0.0005)
    return arrived.get(token, float("inf")) - started


def _report(kind: str, results: list[Size], latencies: list[float]) -> int:
    """Print one database's figures; 1 when a target is missed."""
    ordered = sorted(latencies)
    median = statistics.median(ordered)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"{kind}: CPU cores {os.cpu_count()}, load average {load}")
    print(f"  {'devices':>9}  {'raw client':>11}  {'pipeline, new conn':>18}  "
          f"{'pipeline':>9}  {'ratio':>5}")
    for size in results:
        verdict = "PASS" if size.warm >= TARGET_RATIO * size.raw else "MISS"
        print(f"  {size.devices:9,}  {size.raw:9,.0f}/s  {size.cold:16,.0f}/s  "
              f"{size.warm:7,.0f}/s  {size.warm / size.raw:5.2f}  {verdict} "
              f"(target {TARGET_RATIO} x raw)")
    if len(results) > 1:
        small, big = results[0], results[-1]
        print(f"  cost per push at {big.devices:,} over {small.devices:,} devices: raw client "
              f"{small.raw / big.raw:.2f}, pipeline {small.warm / big.warm:.2f} (1.00: linear)")
    print(f"  latency single change commit -> push arrives: median {median * 1000:.1f} ms, "
          f"p99 {p99 * 1000:.1f} ms over {len(ordered)} trials (target p99 < "
          f"{TARGET_P99 * 1000:.0f} ms)")
    full = results[-1]
    ok = (full.warm >= TARGET_RATIO * full.raw and min(full.cold, full.warm) >= TARGET_RATE
          and p99 < TARGET_P99)
    print("  targets met" if ok else "  TARGETS MISSED", flush=True)
    return 0 if ok else 1


if __name__ == "__main__":
    threading.current_thread().name = "bench"
    sys.exit(main())
