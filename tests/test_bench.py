"""The benchmarks still run against the app as it is: each module imports and parses its
options, and the parts that build data through the app's operations run on a few members.

A change to an operation's signature, a model or a page then breaks this test rather than a
benchmark run days later. Sizes are tiny: this checks the code paths, not the figures.
"""

from __future__ import annotations

import importlib
import json
import logging
import math
import pkgutil
import threading
from pathlib import Path
from typing import Any

import pytest
from werkzeug.serving import make_server

import bench
from bench import (
    bench_analytics,
    bench_dashboard,
    bench_earn,
    bench_google,
    bench_http,
    bench_import,
    bench_mail,
    bench_publish,
    bench_push,
)
from tests.conftest import apns_settings, app_config
from tests.google_standin import GoogleStandIn, service_account_info

TOKENS = [f"{i:064x}" for i in range(1, 4)]


def test_every_benchmark_imports_and_parses_its_options(
        capsys: pytest.CaptureFixture[str]) -> None:
    """Every module of bench/ imports, and its main() answers --help with its docstring."""
    names = [m.name for m in pkgutil.iter_modules(bench.__path__)]
    assert {"bench_push", "bench_google", "bench_http", "bench_publish"} <= set(names)
    for name in names:
        module = importlib.import_module(f"bench.{name}")
        with pytest.raises(SystemExit) as stop:
            module.main(["--help"])
        assert stop.value.code == 0, name
        first_line = module.__doc__.strip().splitlines()[0].split(",")[0]
        assert first_line.split()[0] in capsys.readouterr().out, name


def google_settings(google: GoogleStandIn, tmp_path: Path) -> dict[str, Any]:
    """Settings pointing Google Wallet at the stand-in, with the benchmarks' issuer."""
    info, _ = service_account_info(google.token_uri)
    path = tmp_path / "sa.json"
    path.write_text(json.dumps(info))
    return {"GOOGLE_SERVICE_ACCOUNT_FILE": str(path), "GOOGLE_ISSUER_ID": bench_google.ISSUER,
            "GOOGLE_API_URL": google.url, "GOOGLE_TIMEOUT": 5.0}


def test_push_bench_fans_a_design_change_out_to_every_device(
        make_app: Any, apns: Any, apns_tls: dict[str, Path], cert_paths: dict[str, Path],
        tmp_path: Path) -> None:
    """bench_push: a program made by create_program and seeded in bulk (COPY on PostgreSQL),
    the raw client, then two changes by update_program, every registered device pushed
    through the sweep."""
    settings = app_config(tmp_path, cert_paths, "", **apns_settings(apns, apns_tls))
    app = make_app(**apns_settings(apns, apns_tls), PUSH_COALESCE_SECONDS=0.0)
    size = bench_push._measure_size(app, settings, TOKENS)
    assert size.devices == len(TOKENS) and min(size.raw, size.cold, size.warm) > 0
    assert sorted(set(apns.tokens())) == TOKENS
    # each token: two raw-client calls (a connect push and a round each), the two changes
    assert sorted(apns.tokens()) == sorted(TOKENS * 6)
    assert bench_push.sizes(100_000) == [10_000, 100_000] and bench_push.sizes(5) == [1, 5]


def test_push_bench_runs_end_to_end_against_nghttpd(capsys: pytest.CaptureFixture[str]) -> None:
    """bench_push's main: both sizes and the latency trials on SQLite, against nghttpd,
    printing the ratio with its verdict and how the cost grows."""
    assert bench_push.main(["--devices", "20", "--databases", "sqlite", "--trials", "3"]) == 0
    out = capsys.readouterr().out
    assert "sqlite: CPU cores" in out and "load average" in out
    rows = [line for line in out.splitlines() if "(target 0.8 x raw)" in line]
    assert [line.split()[0] for line in rows] == ["2", "20"]
    assert all(" PASS " in line or " MISS " in line for line in rows)
    assert "cost per push at 20 over 2 devices" in out and "over 3 trials" in out


def test_google_bench_class_only_change_old_path_and_object_change(
        make_app: Any, google: GoogleStandIn, tmp_path: Path) -> None:
    """bench_google on both databases: objects seeded in bulk (COPY on PostgreSQL) as a
    delivery leaves them; a colour change is one class PATCH with nothing left pending; with
    the design keys cleared the same kind of change leaves every object to the sweep, which
    finds each body unchanged (so the seeded hashes are right); a points label change
    PATCHes each object once; an earn's object PATCH arrives through the embedded worker."""
    app = make_app(**google_settings(google, tmp_path), EMBEDDED_WORKER=True,
                   WORKER_POLL_SECONDS=0.2)
    size = bench_google._measure_size(app, google, 4)
    assert bench_google.class_only_ok(size.new) and size.new.pending_at_commit == 0
    assert bench_google.baseline_ok(size) and size.old.pending_at_commit == 4
    program_id, change = bench_google._object_level(app, google, 3)
    assert bench_google.object_level_ok(change, 3) and change.object_calls == 3
    labels = [o["loyaltyPoints"]["label"] for o in google.resources["loyaltyObject"].values()
              if o["classId"].endswith(f"-{program_id}")]
    assert labels == ["Beans"] * 3
    [latency] = bench_google._latency(app, google, bench_google._member_ids(
        app, size.program_id, 1))
    assert math.isfinite(latency)


def test_google_bench_prints_ratios_growth_and_verdict(
        capsys: pytest.CaptureFixture[str]) -> None:
    """bench_google's main on SQLite, 2 then 20 objects: both sizes with the ratio to the
    old path, the cost growth, the object-level change and the latency, targets met."""
    assert bench_google.main(["--objects", "20", "--databases", "sqlite",
                              "--object-change", "3", "--trials", "2", "--check"]) == 0
    out = capsys.readouterr().out
    rows = [line.split() for line in out.splitlines() if line.strip().endswith("x")
            and "us/object" in line]
    assert [r[0] for r in rows] == ["2", "20"]
    assert "cost per object at 20 over 2: class-only" in out
    assert "20: class-only 1 Google calls (1 class, 0 object), 0 429s, 0 left pending; " \
        "old path 20 pending after the commit" in out
    assert "on 3 objects at the stand-in's 20 requests/s: 4 Google calls (1 class, " \
        "3 object)" in out and "3 distinct objects" in out
    assert "over 2 trials" in out and "targets met" in out


def test_publish_bench_reaches_every_card(make_app: Any, apns: Any,
                                          apns_tls: dict[str, Path], google: GoogleStandIn,
                                          tmp_path: Path) -> None:
    """bench_publish: the existing way (update_program) and the designer's publish both reach
    every Apple device and Google object."""
    from app.jobs import start_embedded_worker

    app = make_app(**apns_settings(apns, apns_tls), **google_settings(google, tmp_path),
                   EMBEDDED_WORKER=True, WORKER_POLL_SECONDS=0.2, PUSH_COALESCE_SECONDS=0.0)
    program_id = bench_publish._populate(app, google, TOKENS)
    worker = start_embedded_worker(app)
    try:
        for name, change in (("baseline", lambda p: bench_publish._update(p, "#446688")),
                             ("publish", bench_publish._publish)):
            assert bench_publish._timed(app, program_id, name, change) < 60
    finally:
        if worker is not None:
            worker.stop()
    assert set(TOKENS) <= set(apns.tokens())
    classes = google.resources["loyaltyClass"].values()
    assert [c["hexBackgroundColor"].upper() for c in classes] == ["#0A5C36"]


def test_analytics_and_dashboard_benches_seed_and_measure(make_app: Any) -> None:
    """bench_analytics and bench_dashboard: the bulk seed fits the models, the rollups run,
    and every timed chart and page answers (they assert it)."""
    app = make_app()
    bench_earn.api_key(app)  # the merchant
    program_id = bench_analytics.seed(app, members=30, entries=120, days=3)
    bench_analytics.roll_up(app)
    client = bench_analytics.owner_client(app)
    bench_analytics.measure(app, client, program_id, 3)
    bench_dashboard.wallets(app)
    bench_dashboard.measure(app, client)


def test_earn_bench_rows_move_balances(make_app: Any) -> None:
    """bench_earn: programs and members made through the API, earns counted (run_rows
    checks every balance and pass version moved)."""
    app = make_app()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        client = bench_earn.Client(f"http://127.0.0.1:{server.server_port}",
                                   bench_earn.api_key(app))
        rows = bench_earn.run_rows(app, client, threads=2, calls=2, rounds=1)
    finally:
        server.shutdown()
        server.server_close()
    assert set(rows) == {"GET member", "earn, own member", "earn, one hot member"}


def test_earn_bench_prints_cost_growth_per_row(capsys: pytest.CaptureFixture[str]) -> None:
    """bench_earn's main on SQLite: each row at the full size with its cost growth from a
    tenth of the calls (both sizes measured, each earn row's totals checked)."""
    assert bench_earn.main(["--databases", "sqlite", "--threads", "2", "--calls", "10",
                            "--rounds", "1"]) == 0
    rows = [line for line in capsys.readouterr().out.splitlines() if line.startswith("sqlite")]
    assert len(rows) == 3 and all("cost x" in r and "vs 1 calls per thread" in r for r in rows)


def test_import_bench_imports_its_generated_list(make_app: Any, database_url: str,
                                                 tmp_path: Path) -> None:
    """bench_import: the generated CSV is uploaded through the API and imported by the sweep
    (one() asserts every valid, distinct e-mail became a member), the welcome mails reach
    its SMTP server, and the same file again creates and queues nothing."""
    make_app()  # the fixture's app empties the database afterwards
    try:
        result = bench_import.one(database_url, 60, tmp_path, trace=False, mail=True)
    finally:
        logging.disable(logging.NOTSET)  # one() silences logging for the benchmark's process
    assert result["rows"] == 60 and result["created"] > 50
    assert result["mails"] == result["created"]
    assert result["again_created"] == 0 and result["again_queued"] == 0


def test_http_bench_prints_both_sizes_and_a_verdict_per_target(
        capsys: pytest.CaptureFixture[str]) -> None:
    """bench_http on SQLite, 2 then 20 members, 1 s per row: gunicorn as `walletpass up`
    runs it, every row at both sizes (the full size with its cost growth), the earns
    counted (measure_rows checks the balances moved), one PASS or MISS line per target,
    and --check failing exactly when one is missed."""
    code = bench_http.main(["--databases", "sqlite", "--members", "20", "--duration", "1",
                            "--warmup", "0", "--rounds", "1", "--connections", "2",
                            "--check"])
    out = capsys.readouterr().out
    rows = [line.split() for line in out.splitlines() if line.startswith("sqlite ")]
    assert [(r[1], " ".join(r[2:4]).split(" ")[0]) for r in rows] == [
        (size, name) for size in ("2", "20") for name in ("bare", "member", "earn", "pass")]
    assert all("cost x" in " ".join(r) for r in rows[4:]) and not any(
        "cost x" in " ".join(r) for r in rows[:4])
    verdicts = [line for line in out.splitlines() if line.startswith(("PASS ", "MISS "))]
    assert [v.split(" (")[0].split()[1:3] for v in verdicts] == [
        ["sqlite", "member"]] * 2 + [["sqlite", "pass"]] * 2
    assert code == (1 if any(v.startswith("MISS") for v in verdicts) else 0)


def test_mail_bench_sends_every_queued_mail_once(make_app: Any, database_url: str,
                                                 tmp_path: Path) -> None:
    """bench_mail: seeded members and queued welcome mails, the raw smtplib baseline and the
    sweep against its SMTP server process; one() checks each mail arrived once with its
    member's card link and that the suppressed address got none."""
    make_app()  # the fixture's app empties the database afterwards
    try:
        result = bench_mail.one(database_url, 250, tmp_path)
    finally:
        logging.disable(logging.NOTSET)  # one() silences logging for the benchmark's process
    assert result["received"] == result["baseline_received"] == 249
    assert result["statuses"] == {"sent": 249, "suppressed": 1}
    assert result["mails_per_s"] > 0 and result["raw_per_s"] > 0
