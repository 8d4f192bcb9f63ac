"""Publishing a designer draft to every installed card, through the update pipeline.

Run ``python -m bench.bench_publish [--cards N] [--database-url URL]`` (needs ``nghttpd``
from Debian's ``nghttp2-server``; ``bash tests/setup_services.sh`` installs it).

1. Starts ``nghttpd`` on loopback as the APNs stand-in (as bench_push does) and the Google
   stand-in (tests/google_standin.py, enforcing Google's 20 requests per second).
2. Seeds, with bulk inserts, a program with N members, each with a registered Apple device
   and a Google object already delivered and up to date (as after the initial roll-out).
3. Warm-up: one program-wide change, so the APNs connection and the Google token exist.
4. Baseline: one program-wide change the existing way (``update_program``, what the API's
   PATCH calls), timed from the change until every device is pushed and every object is
   up to date.
5. Publish: the designer's draft (new colours) saved, then published with
   ``drafts.publish`` (what the dashboard's Publish button calls), timed the same way.

Each change is committed and the app's embedded worker runs the update sweeps (as in
production), while the progress the publish page shows is printed as it moves.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy import insert, select

from bench.bench_google import seed_delivered_google

ISSUER = "3388000000012345678"


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cards", type=int, default=10_000)
    parser.add_argument("--database-url", default="", help="default: SQLite in a temp folder")
    args = parser.parse_args(argv)
    if shutil.which("nghttpd") is None:
        print("nghttpd not found: apt-get install nghttp2-server", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="bench-publish-") as tmp:
        return _run(Path(tmp), args)


def _run(tmp: Path, args: argparse.Namespace) -> int:
    """Set everything up, measure, print."""
    from app.jobs import start_embedded_worker
    from app.wallet.apple.apns import ApnsClient
    from app.wallet.apple.certs import create_dev_identity
    from bench.bench_push import _create_app, _settings, _start_nghttpd
    from tests.apns_standin import make_server_tls
    from tests.google_standin import Server, service_account_info
    from tests.net import free_port

    certs = create_dev_identity(tmp / "certs")
    tls = make_server_tls(tmp / "tls")
    tokens = [f"{i:064x}" for i in range(1, args.cards + 1)]
    port = free_port()
    apns = _start_nghttpd(tmp, tls, certs["root"], tokens, port)
    google_server = Server()
    google = google_server.start()
    google.rate_limit = 20
    worker = None
    try:
        info, _ = service_account_info(google.token_uri)
        (tmp / "sa.json").write_text(json.dumps(info))
        settings = {**_settings(tmp, certs, tls, f"https://127.0.0.1:{port}",
                                args.database_url),
                    "GOOGLE_SERVICE_ACCOUNT_FILE": str(tmp / "sa.json"),
                    "GOOGLE_ISSUER_ID": ISSUER, "GOOGLE_API_URL": google.url,
                    "EMBEDDED_WORKER": True, "WORKER_POLL_SECONDS": 0.2}
        app = _create_app(settings)
        started = time.perf_counter()
        program_id = _populate(app, google, tokens)
        worker = start_embedded_worker(app)
        print(f"cards: {args.cards} Apple devices + {args.cards} Google objects "
              f"(seeded in {time.perf_counter() - started:.1f} s), CPU cores: {os.cpu_count()}")
        coalesce = app.config["SETTINGS"].PUSH_COALESCE_SECONDS
        warm = _timed(app, program_id, "warm-up", lambda p: _update(p, "#223344"))
        time.sleep(coalesce)
        baseline = _timed(app, program_id, "baseline", lambda p: _update(p, "#446688"))
        time.sleep(coalesce)
        published = _timed(app, program_id, "publish", _publish)
    finally:
        if worker is not None:
            worker.stop()
        ApnsClient.close_all()
        apns.send_signal(signal.SIGTERM)
        apns.wait(10)
        google_server.stop()
    print(f"warm-up   program-wide change, new connections:       {warm:6.2f} s")
    print(f"baseline  program-wide change (update_program):        {baseline:6.2f} s "
          f"({args.cards / baseline:,.0f} cards/s)")
    print(f"publish   designer draft published (drafts.publish):  {published:6.2f} s "
          f"({args.cards / published:,.0f} cards/s, {published / baseline:.2f} x baseline)")
    print(f"Google calls: {len(google.calls())} in all, {google.throttled} answered 429")
    return 0


def _populate(app: Flask, google: Any, tokens: list[str]) -> int:
    """A program with a member per token: an Apple device registered for it and a Google
    object at the stand-in, both up to date."""
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
        db.session.execute(insert(Member), [
            {"program_id": program.id, "serial_number": new_serial(), "auth_token": new_token(),
             "download_token": new_token(), "email": f"m{i}@example.test", "points": i % 500}
            for i in range(len(tokens))])
        member_ids = list(db.session.scalars(select(Member.id).order_by(Member.id)))
        db.session.execute(insert(AppleDevice), [
            {"library_id": f"device{i}", "push_token": t} for i, t in enumerate(tokens)])
        device_ids = list(db.session.scalars(select(AppleDevice.id).order_by(AppleDevice.id)))
        db.session.execute(insert(AppleRegistration), [
            {"device_id": d, "member_id": m, "pushed_version": 1, "fetched_version": 1,
             "attempts": 0} for d, m in zip(device_ids, member_ids, strict=True)])
        seed_delivered_google(app, google, program)
        db.session.commit()
        return int(program.id)


def _update(program: Any, color: str) -> None:
    """A program-wide change the existing way: the API's PATCH operation."""
    from app.programs.operations import update_program
    from app.programs.schemas import ProgramDesign
    from app.validation import parse

    update_program(program, parse(ProgramDesign, {"background_color": color}))


def _publish(program: Any) -> None:
    """The designer's way: a draft with a new colour scheme saved, then published."""
    from app.dashboard import drafts

    design = drafts.current_design(program)
    edited = {**design, "background_color": "#0A5C36", "foreground_color": "#FFFFFF",
              "label_color": "#CFE8D5", "languages": [design["language"]]}
    drafts.save_draft(program, drafts.design_from_form(_Form(edited), design))
    drafts.publish(program)


class _Form(dict[str, Any]):
    """A posted form as the designer's parser reads it (`getlist` for repeated fields)."""

    def getlist(self, key: str) -> list[Any]:
        """Every value of a repeated field."""
        value = self.get(key)
        return list(value) if isinstance(value, list) else ([] if value is None else [value])


def _timed(app: Flask, program_id: int, name: str, change: Any) -> float:
    """Seconds from a change's commit until every card has it, printing the progress (as the
    publish page polls it) while the embedded worker runs the update sweeps."""
    from app.dashboard import drafts
    from app.extensions import db
    from app.models import Program

    with app.app_context():
        change(db.session.get(Program, program_id))
        started = time.perf_counter()
        db.session.commit()
    shown = ""
    while True:
        with app.app_context():
            done = drafts.progress(db.session.get(Program, program_id))
        now = time.perf_counter() - started
        line = (f"Apple {done.apple_done:6,}/{done.apple_total:,}  "
                f"Google {done.google_done:6,}/{done.google_total:,}")
        if line != shown or done.finished:
            print(f"  {name:9} {now:6.2f} s  {line}", flush=True)
            shown = line
        if done.finished:
            return now
        if now > 600:
            raise SystemExit(f"{name}: not finished after 600 s")
        time.sleep(0.1)


if __name__ == "__main__":
    raise SystemExit(main())
