"""Push fan-out and single-change latency through the whole update pipeline.

Run ``python -m bench.bench_push [--devices N] [--trials T] [--database-url URL]``
(needs ``nghttpd`` from Debian's ``nghttp2-server``: ``apt-get install nghttp2-server``).

1. Starts ``nghttpd`` on loopback as the APNs stand-in: TLS, HTTP/2, one worker thread,
   requiring a client certificate from the development chain, serving an empty file at
   ``/3/device/<token>`` for each of N device tokens.
2. Baseline: the raw APNs client (libcurl multiplexing, one connection) pushing N tokens.
3. Fan-out: a program-wide design change (``update_program``, what the API's PATCH calls)
   to N registered devices, timed from the change until every registration is recorded
   as delivered, so the sweep's database reads and writes are included. Run twice: first
   with the app's new APNs client (connection set up inside the timing), then again once
   the coalescing window has passed (the long-lived connection).
4. Latency: with the embedded worker running, T single changes (``touch_pass`` + commit,
   which is what an earn does) on distinct members, each timed from just before its commit
   to its push arriving at a Python HTTP/2 stand-in that notes arrival times.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy import func, insert, select

from tests.net import free_port, wait_port

TARGET_RATE = 5000.0
TARGET_P99 = 1.0


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print its figures."""
    args = _parse(argv)
    if shutil.which("nghttpd") is None:
        print("nghttpd not found: apt-get install nghttp2-server", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="bench-push-") as tmp:
        return _run(Path(tmp), args)


def _parse(argv: list[str] | None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--devices", type=int, default=10_000)
    parser.add_argument("--trials", type=int, default=200)
    parser.add_argument("--database-url", default="", help="default: SQLite in a temp folder")
    parser.add_argument("--check", action="store_true",
                        help="exit 1 when a target (5,000 pushes/s, p99 < 1 s) is missed")
    return parser.parse_args(argv)


def _run(tmp: Path, args: argparse.Namespace) -> int:
    """Set everything up, measure, print."""
    from app.wallet.apple.certs import create_dev_identity
    from tests.apns_standin import make_server_tls

    certs = create_dev_identity(tmp / "certs")
    tls = make_server_tls(tmp / "tls")
    tokens = [f"{i:064x}" for i in range(1, args.devices + 1)]
    port = free_port()
    server = _start_nghttpd(tmp, tls, certs["root"], tokens, port)
    try:
        settings = _settings(tmp, certs, tls, f"https://127.0.0.1:{port}", args.database_url)
        baseline = _baseline(settings, tokens)
        app = _create_app(settings)
        program_id = _populate(app, tokens)
        cold = _fan_out(app, program_id, len(tokens), "#224466")
        time.sleep(app.config["SETTINGS"].PUSH_COALESCE_SECONDS)
        rate = _fan_out(app, program_id, len(tokens), "#446688")
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(10)
    latencies = _latency(tmp, certs, tls, settings, args.trials)
    return _report(baseline, (cold, rate), latencies, len(tokens), args.check)


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


def _baseline(settings: dict[str, Any], tokens: list[str]) -> float:
    """Pushes per second of the bare APNs client (no database), best of two rounds."""
    from app.config import Settings
    from app.wallet.apple.apns import ApnsClient, apns_config
    from app.wallet.apple.certs import load_identity

    values = Settings(**{k: v for k, v in settings.items() if k.startswith("APNS")})
    identity = load_identity(cert_path=settings["APPLE_CERT"], key_path=settings["APPLE_KEY"],
                             wwdr_path=settings["APPLE_WWDR"])
    client = ApnsClient(apns_config(values, identity))
    client.send(tokens[:10])  # connect
    best = 0.0
    for _ in range(2):
        started = time.perf_counter()
        answers = client.send(tokens)
        elapsed = time.perf_counter() - started
        assert all(a.status == 200 for a in answers), {a.status for a in answers}
        best = max(best, len(tokens) / elapsed)
    client.close()
    return best


def _populate(app: Flask, tokens: list[str]) -> int:
    """A merchant, a program, one member and one registered device per token."""
    from app.extensions import db
    from app.models import AppleDevice, AppleRegistration, Member, Merchant
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
        rows = [{"program_id": program.id, "serial_number": new_serial(),
                 "auth_token": new_token(), "download_token": new_token(),
                 "email": f"m{i}@example.test"} for i in range(len(tokens))]
        db.session.execute(insert(Member), rows)
        member_ids = list(db.session.scalars(select(Member.id).order_by(Member.id)))
        db.session.execute(insert(AppleDevice), [
            {"library_id": f"device{i}", "push_token": t} for i, t in enumerate(tokens)])
        device_ids = list(db.session.scalars(select(AppleDevice.id).order_by(AppleDevice.id)))
        db.session.execute(insert(AppleRegistration), [
            {"device_id": d, "member_id": m, "pushed_version": 1, "fetched_version": 1,
             "attempts": 0} for d, m in zip(device_ids, member_ids, strict=True)])
        db.session.commit()
        return int(program.id)


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
            .where(AppleRegistration.pushed_version == Member.pass_version,
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


def _report(baseline: float, rates: tuple[float, float], latencies: list[float],
            devices: int, check: bool) -> int:
    """Print the figures; with --check, 1 when a target is missed."""
    ordered = sorted(latencies)
    median = statistics.median(ordered)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    print(f"devices: {devices}, CPU cores: {os.cpu_count()}")
    print(f"baseline  raw APNs client (pycurl, 1 connection):  {baseline:9,.0f} pushes/s")
    cold, rate = rates
    print(f"fan-out   first change, new APNs connection:        {cold:9,.0f} pushes/s "
          f"({cold / baseline:.2f} x baseline)")
    print(f"fan-out   next change, long-lived connection:       {rate:9,.0f} pushes/s "
          f"({rate / baseline:.2f} x baseline; target {TARGET_RATE:,.0f}/s)")
    print(f"latency   single change commit -> push arrives:    median {median * 1000:.1f} ms, "
          f"p99 {p99 * 1000:.1f} ms over {len(ordered)} trials (target p99 < "
          f"{TARGET_P99 * 1000:.0f} ms)")
    ok = min(cold, rate) >= TARGET_RATE and p99 < TARGET_P99
    print("targets met" if ok else "TARGETS MISSED")
    return 0 if ok or not check else 1


if __name__ == "__main__":
    threading.current_thread().name = "bench"
    sys.exit(main())
