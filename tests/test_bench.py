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
    bench_import,
    bench_mail,
    bench_publish,
    bench_push,
)
from tests.conftest import apns_settings
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
        make_app: Any, apns: Any, apns_tls: dict[str, Path]) -> None:
    """bench_push: a program made by create_program, changed by update_program, and every
    registered device pushed through the sweep."""
    app = make_app(**apns_settings(apns, apns_tls))
    program_id = bench_push._populate(app, TOKENS)
    assert bench_push._fan_out(app, program_id, len(TOKENS), "#224466") > 0
    assert sorted(set(apns.tokens())) == TOKENS


def test_google_bench_design_change_and_earn_latency(
        make_app: Any, google: GoogleStandIn, tmp_path: Path) -> None:
    """bench_google: seeded objects, one class PATCH for a design change, and an earn's
    object PATCH through the embedded worker."""
    app = make_app(**google_settings(google, tmp_path), EMBEDDED_WORKER=True,
                   WORKER_POLL_SECONDS=0.2)
    program_id, member_ids = bench_google._populate(app, google, 3)
    assert len(member_ids) == 3
    change = bench_google._design_change(app, google, program_id)
    assert change["calls"] == 1 and change["throttled"] == 0
    [latency] = bench_google._latency(app, google, member_ids[:1])
    assert math.isfinite(latency)


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
