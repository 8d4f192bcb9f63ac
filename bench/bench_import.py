"""CSV e-mail list imports of 10,000 and 100,000 rows: rows per second and peak memory,
then the welcome mails reaching a local SMTP server, and the same file imported again.

Run ``python -m bench.bench_import [--sizes 10000,100000] [--databases sqlite,postgresql]
[--mail-sizes 10000] [--no-trace]``.

Each (database, size) runs in a fresh subprocess on a fresh migrated database: it writes
a generated CSV (email, name, birthday, phone, external_id, language; 2% of rows repeat an
earlier e-mail, 1% have a bad one) to a file, uploads it through the API (the file is the
streamed request body) and runs the imports sweep to the end, as the worker does. It
prints the upload time, the import time, the CPU seconds this process spent on both (the
figure to compare on a busy machine; PostgreSQL's own work is in its server processes)
and rows per second (whole rows of the file over upload + import), the process's peak
RSS and its growth during the upload and import, and, in a second run under tracemalloc
(skip with --no-trace), the peak of Python memory allocated during the upload and import;
then the time of one page of the members list (50 members, mid-list) and of a search by
name over all of them (best of 3, 200s).

For the sizes in --mail-sizes, the app sends to a real SMTP server on loopback (aiosmtpd
in a thread of the same process), with MAIL_RATE raised to 1,000,000/s (the default, 10/s,
is a production pace): the outbox relay and the mail sweep run until nothing is due, and
the time until the server has every welcome mail gives mails per second. Each member must
get exactly one mail carrying their own card link (every link received is matched to the
members' card tokens); a random sample of 200 of those links is fetched from the app and
must answer 200. Then the same file is imported again: it must create 0 members, queue 0
mails and (with the server) deliver 0.

The last lines give the ratio of the largest size's peaks to the smallest's (target:
within 1.5 x) and whether 100,000 rows took under 30 s. PostgreSQL is a throwaway server
(tests/pg.py) with fsync off.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import random
import re
import resource
import subprocess
import sys
import tempfile
import threading
import time
import tracemalloc
from contextlib import contextmanager
from email import message_from_bytes, policy
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from bench.bench_earn import database, make_app

TARGET_SECONDS = 30.0
TARGET_RATIO = 1.5
MAIL_RATE = 1_000_000.0
"""MAIL_RATE for the mail runs (the default, 10 mails/s, would take 1,000 s for 10,000)."""
CARD_SAMPLE = 200
"""Card links (of those received) fetched from the app, which must answer 200."""
CARD_LINK = re.compile(r"/cards/([A-Za-z0-9_-]+)")


def write_csv(path: Path, rows: int) -> int:
    """A customer list of `rows` data rows; returns how many distinct valid e-mails it has."""
    rng = random.Random(rows)
    langs = ["en", "th", "zh-Hant", "ms", "vi", ""]
    valid: list[int] = []
    with path.open("w", encoding="utf-8", newline="") as out:
        out.write("email,name,birthday,phone,external_id,language\r\n")
        for i in range(rows):
            roll = rng.random()
            if roll < 0.02 and valid:
                email = f"customer{rng.choice(valid)}@example.com"  # a repeat
            elif roll < 0.03:
                email = f"customer{i}-at-example.com"  # invalid
            else:
                email = f"customer{i}@example.com"
                valid.append(i)
            birthday = f"19{rng.randint(50, 99)}-{rng.randint(1, 12):02}-{rng.randint(1, 28):02}"
            phone = f"+66 8{rng.randint(1, 9)} {rng.randint(100, 999)} {rng.randint(1000, 9999)}"
            out.write(f"{email},Customer {i},{birthday},{phone},C{i:07},"
                      f"{langs[i % len(langs)]}\r\n")
    return len(valid)


def rss_mb() -> float:
    """This process's resident memory now, in MB."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def one(url: str, rows: int, tmp: Path, trace: bool, mail: bool) -> dict[str, Any]:
    """Import one generated file (in this process) and measure it; with `mail`, then the
    welcome mails to a local SMTP server, and importing the file again."""
    from app.distribution import imports
    from app.jobs import run_sweep_now
    from tests.conftest import Api, new_api_key

    logging.disable(logging.WARNING)
    sink = MailSink() if mail else None
    if sink is not None:
        sink.controller.start()
    app = make_app(url, tmp, **({"SMTP_URL": sink.url, "MAIL_RATE": MAIL_RATE}
                                if sink else {}))
    api = Api(app.test_client(), new_api_key(app))
    program = api.post("/programs", {"name": "Bench", "template": "cafe"}).get_json()
    csv_path = tmp / "list.csv"
    expected = write_csv(csv_path, rows)
    base_rss = rss_mb()
    if trace:
        tracemalloc.start()
    started, cpu_started = time.perf_counter(), time.process_time()
    answer = _upload(api, program["id"], csv_path)
    uploaded = time.perf_counter()
    with app.app_context():
        run_sweep_now(imports.SWEEP)
    finished, cpu = time.perf_counter(), time.process_time() - cpu_started
    traced = tracemalloc.get_traced_memory()[1] / 2**20 if trace else None
    status = api.get(f"/imports/{answer.get_json()['id']}").get_json()
    assert status["status"] == "done" and status["created"] == expected, status
    peak_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    pid = program["id"]
    list_ms = _best_ms(lambda: api.get(f"/programs/{pid}/members?limit=50&after={rows // 2}"))
    search_ms = _best_ms(lambda: api.get(f"/programs/{pid}/members?q=Customer+{rows - 7}"))
    got = {"list_ms": list_ms, "search_ms": search_ms, "rows": rows,
           "created": status["created"], "upload_s": uploaded - started,
           "import_s": finished - uploaded, "total_s": finished - started, "cpu_s": cpu,
           "rows_per_s": rows / (finished - started), "peak_rss_mb": peak_rss,
           "rss_growth_mb": peak_rss - base_rss, "traced_peak_mb": traced}
    try:
        if sink is not None:
            got |= mail_run(app, api, pid, sink, status["created"])
        if not trace:
            got |= reimport(app, api, pid, csv_path, sink)
    finally:
        if sink is not None:
            sink.controller.stop()
    return got


class MailSink:
    """A real SMTP server on loopback (aiosmtpd, in a thread) that keeps only the card
    token of each welcome mail it receives (100,000 whole messages would not fit)."""

    def __init__(self) -> None:
        from aiosmtpd.controller import Controller

        from tests.net import free_port

        self.tokens: list[str] = []
        self.no_link = 0
        self.lock = threading.Lock()
        self.port = free_port()
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port,
                                     ready_timeout=10)

    @property
    def url(self) -> str:
        """The SMTP_URL of this server."""
        return f"smtp://127.0.0.1:{self.port}"

    def count(self) -> int:
        """Mails received so far."""
        with self.lock:
            return len(self.tokens) + self.no_link

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        """Keep the card token of the text part's card link."""
        message = message_from_bytes(envelope.original_content or envelope.content,
                                     policy=policy.default)
        body = message.get_body(("plain",))  # type: ignore[attr-defined]
        found = CARD_LINK.search(body.get_content() if body is not None else "")
        with self.lock:
            if found:
                self.tokens.append(found.group(1))
            else:
                self.no_link += 1
        return "250 Message accepted"


def send_mail(app: Any) -> int:
    """Relay the outbox and run the mail sweep until nothing is left to send, as the worker
    does; returns the mails attempted."""
    from app.jobs import run_sweep_now
    from app.mail.channel import SWEEP as MAIL
    from app.outbox import SWEEP as OUTBOX

    sent = 0
    with app.app_context():
        run_sweep_now(OUTBOX)
        while attempted := run_sweep_now(MAIL):
            sent += attempted
    return sent


def mail_run(app: Any, api: Any, program_id: int, sink: MailSink,
             created: int) -> dict[str, Any]:
    """Time the welcome mails of the import until the server has them all, check their card
    links, and check that importing the same file again creates and sends nothing."""
    from app.extensions import db
    from app.models import Member

    started = time.perf_counter()
    attempted = send_mail(app)
    mail_s = time.perf_counter() - started
    received = sink.count()
    assert attempted == received == created, (attempted, received, created)
    assert sink.no_link == 0, f"{sink.no_link} mails without a card link"
    with app.app_context():
        tokens = set(db.session.scalars(select(Member.download_token).where(
            Member.program_id == program_id)))
        db.session.remove()
    assert set(sink.tokens) == tokens and len(sink.tokens) == len(tokens), \
        "each member gets one mail, with their own card link"
    sample = random.Random(created).sample(sink.tokens, min(CARD_SAMPLE, len(sink.tokens)))
    statuses = {api.client.get(f"/cards/{token}").status_code for token in sample}
    assert statuses == {200}, statuses
    return {"mails": received, "mail_s": mail_s, "mails_per_s": received / mail_s,
            "cards_checked": len(sample)}


def reimport(app: Any, api: Any, program_id: int, csv_path: Path,
             sink: MailSink | None) -> dict[str, Any]:
    """Import the same file again: the members it created, the mails it queued (after the
    outbox relay) and, with a server, the mails that reached it."""
    from app.distribution import imports
    from app.extensions import db
    from app.jobs import run_sweep_now
    from app.models import MailDelivery
    from app.outbox import SWEEP as OUTBOX

    def queued() -> int:
        with app.app_context():
            run_sweep_now(OUTBOX)
            count = db.session.scalar(select(func.count()).select_from(MailDelivery))
            db.session.remove()
            return int(count or 0)

    mails_before, received_before = queued(), sink.count() if sink else 0
    answer = _upload(api, program_id, csv_path)
    with app.app_context():
        run_sweep_now(imports.SWEEP)
    status = api.get(f"/imports/{answer.get_json()['id']}").get_json()
    assert status["status"] == "done", status
    again = {"again_created": status["created"], "again_queued": queued() - mails_before}
    if sink is not None:
        send_mail(app)
        again["again_received"] = sink.count() - received_before
    return again


def _upload(api: Any, program_id: int, csv_path: Path) -> Any:
    """POST the file to the imports API as a streamed body (202)."""
    with csv_path.open("rb") as body:
        answer = api.client.post(
            f"/api/v1/programs/{program_id}/imports?consent_basis=Bench+customers",
            input_stream=body, content_length=csv_path.stat().st_size,
            headers={**api.headers, "Content-Type": "text/csv"})
    assert answer.status_code == 202, answer.get_json()
    return answer


def _best_ms(call: Any, rounds: int = 3) -> float:
    """The best of a few timings of a call, in ms (it must answer 200)."""
    best = float("inf")
    for _ in range(rounds):
        started = time.perf_counter()
        assert call().status_code == 200
        best = min(best, time.perf_counter() - started)
    return best * 1000


def run_child(kind: str, rows: int, trace: bool, mail: bool = False) -> dict[str, Any]:
    """Measure one size on a fresh database of this kind, in a subprocess."""
    args = [sys.executable, "-m", "bench.bench_import", "--child", kind, "--rows", str(rows)]
    if trace:
        args.append("--trace")
    if mail:
        args.append("--mail")
    out = subprocess.run(args, check=True, capture_output=True, text=True)
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


@contextmanager
def child_database(kind: str, tmp: Path) -> Any:
    """A database for a child run."""
    with database(kind, tmp) as url:
        yield url


def main(argv: list[str] | None = None) -> None:
    """Parse arguments and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument("--no-trace", action="store_true")
    parser.add_argument("--child")
    parser.add_argument("--rows", type=int)
    parser.add_argument("--trace", action="store_true")
    parser.add_argument("--mail-sizes", default="10000",
                        help="sizes whose welcome mails are sent to a local SMTP server "
                             "(comma-separated, or none)")
    parser.add_argument("--mail", action="store_true")
    opts = parser.parse_args(argv)
    if opts.child:
        with tempfile.TemporaryDirectory() as tmp, child_database(opts.child, Path(tmp)) as url:
            print(json.dumps(one(url, opts.rows, Path(tmp), opts.trace, opts.mail)))
        return
    sizes = [int(s) for s in opts.sizes.split(",")]
    mail_sizes = {int(s) for s in opts.mail_sizes.split(",") if s.strip().isdigit()}
    print(f"Mail runs: MAIL_RATE set to {MAIL_RATE:,.0f}/s for the bench (default 10/s); "
          f"a sample of {CARD_SAMPLE} received card links is fetched (each must answer 200), "
          "every received link is matched to its member's card token.")
    print(f"{'database':<11}{'rows':>8}{'upload s':>10}{'import s':>10}{'CPU s':>7}{'rows/s':>9}"
          f"{'peak RSS MB':>13}{'RSS growth':>12}{'traced peak MB':>16}"
          f"{'list ms':>9}{'search ms':>11}")
    for kind in opts.databases.split(","):
        results = []
        for rows in sizes:
            got = run_child(kind, rows, trace=False, mail=rows in mail_sizes)
            if not opts.no_trace:
                got["traced_peak_mb"] = run_child(kind, rows, trace=True)["traced_peak_mb"]
            results.append(got)
            traced = f"{got['traced_peak_mb']:.1f}" if got["traced_peak_mb"] else "-"
            print(f"{kind:<11}{rows:>8}{got['upload_s']:>10.2f}{got['import_s']:>10.2f}"
                  f"{got['cpu_s']:>7.1f}{got['rows_per_s']:>9.0f}{got['peak_rss_mb']:>13.1f}"
                  f"{got['rss_growth_mb']:>12.1f}{traced:>16}{got['list_ms']:>9.1f}"
                  f"{got['search_ms']:>11.1f}", flush=True)
            _mail_lines(kind, got)
        _verdict(kind, results)


def _mail_lines(kind: str, got: dict[str, Any]) -> None:
    """The mail run's and the second import's lines."""
    if "mails" in got:
        print(f"  {kind} {got['rows']:,} rows: {got['mails']:,} welcome mails reached the SMTP "
              f"server in {got['mail_s']:.1f} s ({got['mails_per_s']:.0f} mails/s), each with "
              f"its member's card link; {got['cards_checked']} sampled card links answered "
              "200", flush=True)
    received = (f", {got['again_received']} mails reached the server"
                if "again_received" in got else "")
    print(f"  {kind} {got['rows']:,} rows imported again: {got['again_created']} members "
          f"created, {got['again_queued']} mails queued{received}", flush=True)


def _verdict(kind: str, results: list[dict[str, Any]]) -> None:
    """Ratios of the largest size's peaks to the smallest's, and the 30 s target."""
    small, large = results[0], results[-1]
    rss = large["peak_rss_mb"] / small["peak_rss_mb"]
    line = f"{kind}: peak RSS {large['rows']} / {small['rows']} rows = {rss:.2f} x"
    if small["traced_peak_mb"] and large["traced_peak_mb"]:
        traced = large["traced_peak_mb"] / small["traced_peak_mb"]
        line += f"; traced peak {traced:.2f} x"
        line += " (target <= 1.5 x: " + ("met" if max(rss, traced) <= TARGET_RATIO
                                         else "MISSED") + ")"
    for got in results:
        if got["rows"] == 100_000:
            line += (f"; 100,000 rows in {got['total_s']:.1f} s (target < 30 s: "
                     f"{'met' if got['total_s'] < TARGET_SECONDS else 'MISSED'})")
    print(line, flush=True)


if __name__ == "__main__":
    os.environ.setdefault("WALLETPASS_LOG_LEVEL", "WARNING")
    main()
