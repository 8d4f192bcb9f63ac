"""Google Wallet: design changes over N objects vs the old path, and earn-to-PATCH latency.

Run ``python -m bench.bench_google [--objects N] [--databases sqlite,postgresql]
[--object-change M] [--trials T] [--check]`` (PostgreSQL needs its server binaries:
``bash tests/setup_services.sh``).

For each database (PostgreSQL: a throwaway server on loopback, tests/pg.py), against the
loopback Google stand-in (tests/google_standin.py) enforcing Google's 20 requests per
second with 429s:

1. Two sizes, a tenth of N and N (default 100,000): for each, a program made by
   create_program with that many members whose class and objects are at the stand-in and
   recorded delivered with their body hash and design key, as a delivery leaves them
   (seeded in bulk: COPY on PostgreSQL, one executemany on SQLite).
2. Class-only change, per size: ``update_program`` (what the API's PATCH calls) changes
   the colour, which only the class shows, and commits; timed from the call until the
   sweep has nothing left. Targets: 1 Google call (the class PATCH), no object call, no
   429, no object left pending.
3. Baseline, per size, the old path: every object's design key is cleared first, so
   ``keep_unchanged_objects`` leaves all of them pending (checked: N pending after the
   change's commit) and the sweep rebuilds and re-hashes every body to find it unchanged;
   then another colour, timed the same way. Printed: baseline time / new time, the cost
   per object of each, and how it grows from N/10 to N (1.00: linear).
4. Object-level change: a program of M members (default 200) changes its points label,
   which every object body shows, so each object must be PATCHed exactly once; run at the
   stand-in's real 20 requests/s (100,000 objects would take about 90 minutes).
5. Latency: with the embedded worker running, T earns (points + ``touch_pass`` + commit)
   on distinct members of the size-N program, each timed from just before its commit to
   its object PATCH arriving at the stand-in; median and p99.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy import func, select, text, update

from bench.bench_earn import on_each_database
from bench.bench_push import bulk_insert, sizes

TARGET_P99 = 2.0
ISSUER = "3388000000012345678"
API = "/walletobjects/v1/"


@dataclass(frozen=True)
class Change:
    """What one design change cost: seconds until the sweep had nothing left, Google calls
    answered by kind, 429s, and objects pending just after its commit and at the end."""

    seconds: float
    committed: float
    """Of which update_program and its commit (the version bump and the kept objects)."""
    class_calls: int
    object_calls: int
    distinct_objects: int
    throttled: int
    pending_at_commit: int
    pending_after: int

    @property
    def calls(self) -> int:
        """Google calls answered (not 429)."""
        return self.class_calls + self.object_calls


@dataclass(frozen=True)
class Size:
    """One size's seeding time, class-only change and old-path baseline."""

    objects: int
    program_id: int
    seeded: float
    new: Change
    old: Change


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark on each database and print its figures."""
    args = _parse(argv)
    missed = on_each_database(args.databases, "bench-google-",
                              lambda tmp, kind, url: _run(tmp, kind, url, args))
    return 1 if missed and args.check else 0


def _parse(argv: list[str] | None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--objects", type=int, default=100_000,
                        help="objects of the full size (a tenth of it is measured too)")
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument("--object-change", type=int, default=200, metavar="M",
                        help="objects of the object-level change (each PATCHed at 20/s)")
    parser.add_argument("--trials", type=int, default=50)
    parser.add_argument("--check", action="store_true",
                        help="exit 1 when a target (1 call and nothing pending per class-only "
                             "change, one PATCH per object for an object-level change, no "
                             "429, p99 < 2 s) is missed")
    return parser.parse_args(argv)


def _run(tmp: Path, kind: str, url: str, args: argparse.Namespace) -> int:
    """Set up one database and the stand-in, measure, print; 1 when a target is missed."""
    from tests.google_standin import Server

    server = Server()
    google = server.start()
    google.rate_limit = 20
    try:
        app = _create_app(settings(tmp, google, url))
        results = [_measure_size(app, google, count) for count in sizes(args.objects)]
        _, object_level = _object_level(app, google, args.object_change)
        latencies = _latency(app, google, _member_ids(app, results[-1].program_id,
                                                      args.trials))
    finally:
        server.stop()
    return _report(kind, results, (args.object_change, object_level), latencies)


def settings(tmp: Path, google: Any, url: str) -> dict[str, Any]:
    """App settings: Google Wallet pointed at the stand-in, Apple with development certs."""
    from app.wallet.apple.certs import create_dev_identity
    from tests.google_standin import service_account_info

    info, _ = service_account_info(google.token_uri)
    (tmp / "sa.json").write_text(json.dumps(info))
    certs = create_dev_identity(tmp / "certs")
    return {"DATA_DIR": str(tmp / "data"), "DATABASE_URL": url, "SECRET_KEY": "bench",
            "APPLE_CERT": str(certs["cert"]), "APPLE_KEY": str(certs["key"]),
            "APPLE_WWDR": str(certs["wwdr"]), "APPLE_P12": "", "CELERY_BROKER_URL": "",
            "EMBEDDED_WORKER": True, "LOG_LEVEL": "WARNING",
            "GOOGLE_SERVICE_ACCOUNT_FILE": str(tmp / "sa.json"), "GOOGLE_ISSUER_ID": ISSUER,
            "GOOGLE_API_URL": google.url, "WORKER_POLL_SECONDS": 0.2}


def _create_app(config: dict[str, Any]) -> Flask:
    """A migrated app."""
    from flask_migrate import upgrade

    from app import create_app

    app = create_app(config)
    with app.app_context():
        upgrade(revision="heads")
    return app


def _measure_size(app: Flask, google: Any, count: int) -> Size:
    """Seed a program of `count` objects, then a class-only change the new way and the same
    kind of change the old way (design keys cleared)."""
    started = time.perf_counter()
    program_id = populate(app, google, count)
    seeded = time.perf_counter() - started
    print(f"  seeded {count:,} members and Google objects in {seeded:.1f} s", flush=True)
    new = design_change(app, google, program_id, {"background_color": "#224466"})
    forget_design_keys(app, program_id)
    old = design_change(app, google, program_id, {"background_color": "#446688"})
    return Size(count, program_id, seeded, new, old)


def populate(app: Flask, google: Any, count: int) -> int:
    """A program (made by create_program) with `count` members whose class and objects are
    at the stand-in and recorded delivered, seeded in bulk."""
    from app.extensions import db
    from app.models import Member, Merchant
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
        bulk_insert(Member.__table__, [
            {"program_id": program.id, "serial_number": new_serial(), "auth_token": new_token(),
             "download_token": new_token(), "name": "", "points": i % 500,
             "email": f"m{i}.p{program.id}@example.test", "pass_version": 1,
             "pass_updated_at": stamp, "created_at": now, "source": "api",
             "marketing_consent": False} for i in range(count)])
        seed_delivered_google(app, google, program)
        db.session.commit()
        _analyze()
        return int(program.id)


def seed_delivered_google(app: Flask, google: Any, program: Any) -> None:
    """The program's class and every member's object at the stand-in, recorded delivered
    with its body hash, milestones and design key, as a delivery leaves them.

    The members must have no ledger entries and no tier (as bulk seeds have): a card then
    depends on the member's own row alone, so each body is built from one loaded snapshot
    with that member's row put in, not one card query per member. The old path's sweep
    rebuilds every body from the database, so a body built wrongly here would show up as
    object calls in that baseline.
    """
    from app.extensions import db
    from app.models import GoogleClass, GoogleObject
    from app.models.base import utcnow
    from app.updates.google import body_hash
    from app.updates.google_design import object_design_key
    from app.wallet.content import card_content
    from app.wallet.google import mapping, messages
    from app.wallet.google.savelink import art_tag, strip_art

    wallet = app.extensions["walletpass.google"]
    base = app.config["SETTINGS"].BASE_URL
    names = {img.filename for img in program.images}
    cls = mapping.loyalty_class(program, issuer_id=ISSUER, base_url=base, image_names=names,
                                callback_url=wallet.callback_url)
    google.resources["loyaltyClass"][cls["id"]] = cls
    db.session.add(GoogleClass(program_id=program.id, inserted=True,
                               delivered_design=program.design_version, attempts=0))
    tag, key = art_tag(strip_art(program)), object_design_key(program)
    rows, now = [], utcnow()
    for version, snapshot in _snapshots(program):
        content = card_content(snapshot)
        body = mapping.loyalty_object(program, content, issuer_id=ISSUER,
                                      serial_number=snapshot.member.serial_number,
                                      base_url=base, art_tag=tag)
        google.resources["loyaltyObject"][body["id"]] = body
        rows.append({"member_id": snapshot.member.id, "inserted": True,
                     "delivered_version": version, "body_hash": body_hash(body),
                     "design_key": key, "delivered_at": now, "status": 200, "attempts": 0,
                     "created_at": now, "notified_at": [], "messages": [],
                     "milestones": messages.milestone_values(mapping.card_fields(content))})
    bulk_insert(GoogleObject.__table__, _json_columns(
        rows, ("notified_at", "messages", "milestones")))


def _snapshots(program: Any) -> Any:
    """(pass version, card snapshot) of each member of the program, from one loaded
    snapshot and each member's row (see seed_delivered_google)."""
    from app.extensions import db
    from app.models import Member
    from app.wallet.snapshot import CardMember, load_snapshot

    columns = ("id", "serial_number", "auth_token", "name", "email", "points", "created_at",
               "language")
    rows = db.session.execute(
        select(Member.pass_version, Member.tier_id, *(getattr(Member, c) for c in columns))
        .where(Member.program_id == program.id).order_by(Member.id)).all()
    if not rows:
        return
    template = load_snapshot(db.session.get(Member, rows[0].id))
    for row in rows:
        assert row.tier_id is None, "seed_delivered_google: members with a tier"
        member = CardMember(**{c: getattr(row, c) for c in columns})
        yield row.pass_version, replace(template, member=replace(member,
                                                                 name=member.name or ""))


def _json_columns(rows: list[dict[str, Any]], names: tuple[str, ...]) -> list[dict[str, Any]]:
    """Rows for bulk_insert: JSON columns as JSON text for PostgreSQL's COPY."""
    from app.extensions import db

    if db.session.connection().dialect.name != "postgresql":
        return rows
    return [{**row, **{n: json.dumps(row[n]) for n in names}} for row in rows]


def _analyze() -> None:
    """Refresh PostgreSQL's planner statistics after a bulk seed (autovacuum would, soon)."""
    from app.extensions import db

    if db.session.connection().dialect.name == "postgresql":
        db.session.execute(text("ANALYZE"))
        db.session.commit()


def forget_design_keys(app: Flask, program_id: int) -> None:
    """Clear the design key of every object of the program, as before the key existed: the
    next design change then re-checks every object body (the old path)."""
    from app.extensions import db
    from app.models import GoogleObject, Member

    with app.app_context():
        db.session.execute(update(GoogleObject).where(GoogleObject.member_id.in_(
            select(Member.id).where(Member.program_id == program_id))).values(design_key=None))
        db.session.commit()


def design_change(app: Flask, google: Any, program_id: int, design: dict[str, Any]) -> Change:
    """A design change by update_program, committed, then the sweep until nothing is left;
    timed, except for counting what is pending."""
    from app.extensions import db
    from app.models import Program
    from app.programs.operations import update_program
    from app.programs.schemas import ProgramDesign
    from app.validation import parse

    before, throttled = len(google.calls()), google.throttled
    with app.app_context():
        started = time.perf_counter()
        update_program(db.session.get(Program, program_id), parse(ProgramDesign, design))
        db.session.commit()
        committed = time.perf_counter() - started
        at_commit = pending(program_id)
        swept, left = _drain(program_id)
    calls = google.calls()[before:]
    objects = [c.path for c in calls if c.status != 429 and "/loyaltyObject" in c.path]
    return Change(committed + swept, committed, sum(c.status != 429 and "/loyaltyClass" in c.path
                                         for c in calls),
                  len(objects), len(set(objects)), google.throttled - throttled, at_commit,
                  left)


def pending(program_id: int) -> int:
    """Objects of the program whose member's pass is newer than what Google shows."""
    from app.extensions import db
    from app.models import GoogleObject, Member

    return int(db.session.scalar(
        select(func.count()).select_from(GoogleObject)
        .join(Member, Member.id == GoogleObject.member_id)
        .where(Member.program_id == program_id,
               Member.pass_version > GoogleObject.delivered_version)) or 0)


def _drain(program_id: int, timeout: float = 900.0) -> tuple[float, int]:
    """Run the update sweep until nothing of the program is pending (bounded): seconds spent
    (back-off waits included, counting not) and objects still pending."""
    from app.jobs import PASS_UPDATES, run_sweep_now

    spent, deadline = 0.0, time.monotonic() + timeout
    mark = time.perf_counter()
    while True:
        while run_sweep_now(PASS_UPDATES):
            pass
        spent += time.perf_counter() - mark
        left = pending(program_id)
        if not left or time.monotonic() > deadline:
            return spent, left
        mark = time.perf_counter()
        time.sleep(0.2)


def _object_level(app: Flask, google: Any, count: int) -> tuple[int, Change]:
    """A points label change (every object body shows it) on a program of `count` objects;
    the program's id and the change."""
    program_id = populate(app, google, count)
    return program_id, design_change(app, google, program_id, {"points_label": "Beans"})


def _member_ids(app: Flask, program_id: int, limit: int) -> list[int]:
    """The program's first `limit` members."""
    from app.extensions import db
    from app.models import Member

    with app.app_context():
        return list(db.session.scalars(select(Member.id).where(
            Member.program_id == program_id).order_by(Member.id).limit(limit)))


def _latency(app: Flask, google: Any, member_ids: list[int]) -> list[float]:
    """Seconds from an earn's commit to its object PATCH at the stand-in, per trial."""
    from app.extensions import db
    from app.jobs import start_embedded_worker
    from app.models import Member
    from app.updates.changes import touch_pass

    worker = start_embedded_worker(app)
    out = []
    try:
        for member_id in member_ids:
            with app.app_context():
                member = db.session.get(Member, member_id)
                object_id = f"{ISSUER}.{member.serial_number}"
                member.points += 7
                touch_pass(member)
                started = time.perf_counter()
                db.session.commit()
            out.append(_wait_patch(google, object_id, started))
    finally:
        if worker is not None:
            worker.stop()
    return out


def _wait_patch(google: Any, object_id: str, started: float, timeout: float = 30.0) -> float:
    """Seconds until a PATCH of the object arrives after `started`."""
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        for call in reversed(google.calls("PATCH", "loyaltyObject")):
            if call.at >= started and call.path.endswith(object_id) and call.status == 200:
                return call.at - started
        time.sleep(0.005)
    return float("inf")


def class_only_ok(change: Change) -> bool:
    """One class PATCH, no object call, no 429, nothing left pending."""
    return (change.class_calls == 1 and change.object_calls == 0 and change.throttled == 0
            and change.pending_after == 0)


def baseline_ok(size: Size) -> bool:
    """The old path really ran: every object pending after the commit, each found
    unchanged (one class PATCH, no object call), nothing left."""
    return size.old.pending_at_commit == size.objects and class_only_ok(size.old)


def object_level_ok(change: Change, count: int) -> bool:
    """One class PATCH and exactly one PATCH per object, no 429, nothing left pending."""
    return (change.class_calls == 1 and change.object_calls == change.distinct_objects == count
            and change.throttled == 0 and change.pending_after == 0)


def _report(kind: str, results: list[Size], object_level: tuple[int, Change],
            latencies: list[float]) -> int:
    """Print one database's figures; 1 when a target is missed."""
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"{kind}: CPU cores {os.cpu_count()}, load average {load}")
    print(f"  {'objects':>9}  {'class-only change (commit)':>38}  "
          f"{'old path, bodies re-hashed (commit)':>38}  {'ratio':>6}")
    for size in results:
        print(f"  {size.objects:9,}  {_cost(size.new, size.objects):>38}  "
              f"{_cost(size.old, size.objects):>38}  {size.old.seconds / size.new.seconds:5.0f}x")
    if len(results) > 1:
        small, big = results[0], results[-1]
        print(f"  cost per object at {big.objects:,} over {small.objects:,}: class-only "
              f"{_growth(small.new, big.new, small.objects, big.objects):.2f}, old path "
              f"{_growth(small.old, big.old, small.objects, big.objects):.2f} (1.00: linear)")
    for size in results:
        print(f"  {size.objects:,}: class-only {_calls(size.new)}; old path "
              f"{size.old.pending_at_commit:,} pending after the commit, {_calls(size.old)}")
    count, change = object_level
    print(f"  object-level change (points label) on {count:,} objects at the stand-in's 20 "
          f"requests/s: {_calls(change)}, {change.distinct_objects:,} distinct objects, "
          f"{change.seconds:.1f} s ({change.object_calls / change.seconds:.1f} objects/s)")
    p99 = _p99(latencies)
    print(f"  earn -> object PATCH over {len(latencies)} trials: median "
          f"{statistics.median(latencies) * 1000:.0f} ms, p99 {p99 * 1000:.0f} ms "
          f"(target p99 < {TARGET_P99 * 1000:.0f} ms)")
    ok = (all(class_only_ok(s.new) and baseline_ok(s) for s in results) and p99 < TARGET_P99
          and object_level_ok(change, count))
    print("  targets met" if ok else "  TARGETS MISSED", flush=True)
    return 0 if ok else 1


def _cost(change: Change, objects: int) -> str:
    """Seconds and cost per object of one change."""
    return (f"{change.seconds:7.3f} s ({change.committed:6.3f} s) "
            f"{change.seconds / objects * 1e6:7.1f} us/object")


def _growth(small: Change, big: Change, small_n: int, big_n: int) -> float:
    """Cost per object at the big size over the small size."""
    return (big.seconds / big_n) / (small.seconds / small_n)


def _calls(change: Change) -> str:
    """Google calls by kind, 429s and what was left pending."""
    return (f"{change.calls} Google calls ({change.class_calls} class, {change.object_calls} "
            f"object), {change.throttled} 429s, {change.pending_after} left pending")


def _p99(values: list[float]) -> float:
    """The 99th percentile (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]


if __name__ == "__main__":
    sys.exit(main())
