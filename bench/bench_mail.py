"""Mail sending: queued welcome mails through the mail sweep to a real SMTP server on
loopback, in mails per second, against a raw smtplib client on the same server.

Run ``python -m bench.bench_mail [--mails N] [--databases sqlite,postgresql]``.

For each database and for N/10 and N mails (default 20,000), a fresh subprocess on a fresh
migrated database seeds N enrolled members (one program, names and the five card languages
mixed, 1 in 200 addresses on the merchant's suppression list) and their N queued welcome
mails, in bulk. The SMTP server is aiosmtpd in a separate process (so its CPU is its own
and is printed apart), writing every message it accepts to a file.

- The baseline: a raw ``smtplib`` client sends as many messages as the sweep will send,
  pre-built (the app's welcome mails of a few members, one per language, as bytes; the
  same size as the real ones), over one reused connection to the same server.
- The run: ``MAIL_RATE`` raised to 1,000,000/s (the default, 10/s, is a production pace),
  the mail sweep runs until nothing is due, as the worker does.

Afterwards the server's file is read back: every member not suppressed got exactly one
mail, at their address, whose text part carries their own card link and whose
List-Unsubscribe carries an unsubscribe token naming them; no suppressed address got one;
the baseline's messages are counted apart. The last lines give mails/s at N/10 and N and
their ratio (how the cost per mail grows with the size of the queue). PostgreSQL is a
throwaway server (tests/pg.py) with fsync off; its own CPU is not in the client figure.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import signal
import smtplib
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from email import message_from_bytes, policy
from pathlib import Path
from typing import Any

from bench.bench_earn import database, make_app

MAIL_RATE = 1_000_000.0
"""MAIL_RATE for the bench (the default, 10 mails/s, is a production pace)."""
DEFAULT_MAILS = 20_000
SUPPRESS_EVERY = 200
"""One member in this many has an address on the suppression list: no mail may reach it."""
LANGUAGES = ["en", "th", "zh-Hant", "ms", "vi", ""]
SEED_CHUNK = 5_000
BASELINE_FROM = "bench@example.com"
CARD_LINK = re.compile(r"/cards/([A-Za-z0-9_-]+)")
UNSUBSCRIBE = re.compile(r"/mail/unsubscribe/([^>\s]+)")
SECRET = "bench"


# -- the SMTP server, in its own process ------------------------------------------------

class Recorder:
    """aiosmtpd handler: append every accepted message (recipients, bytes) to a file."""

    def __init__(self, out: Any) -> None:
        self.out = out

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        """Keep the message as it came."""
        rcpt = ",".join(envelope.rcpt_tos).encode()
        content = envelope.original_content or envelope.content
        self.out.write(b"%d %d\n" % (len(rcpt), len(content)) + rcpt + content)
        return "250 Message accepted"


def serve(port: int, out_path: Path) -> None:
    """Run aiosmtpd on 127.0.0.1:port until SIGTERM, then flush the file."""
    from aiosmtpd.controller import Controller

    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM})
    with out_path.open("wb") as out:
        controller = Controller(Recorder(out), hostname="127.0.0.1", port=port,
                                ready_timeout=10, data_size_limit=1 << 20)
        controller.start()
        print("ready", flush=True)
        signal.sigwait({signal.SIGTERM})
        controller.stop()


class ServerProcess:
    """The SMTP server subprocess: its URL, its CPU seconds, and what it received."""

    def __init__(self, tmp: Path) -> None:
        from tests.net import free_port

        self.port = free_port()
        self.path = tmp / "received.bin"
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bench.bench_mail", "--smtp-server", str(self.port),
             "--out", str(self.path)], stdout=subprocess.PIPE, text=True)
        assert self.proc.stdout is not None
        if self.proc.stdout.readline().strip() != "ready":
            self.proc.kill()
            raise RuntimeError("the SMTP server did not start")

    @property
    def url(self) -> str:
        """The SMTP_URL of this server."""
        return f"smtp://127.0.0.1:{self.port}"

    def cpu(self) -> float:
        """CPU seconds (user + system) the server process has used so far."""
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        """Stop the server (bounded wait) so its file is complete."""
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)

    def records(self) -> Iterator[tuple[str, bytes]]:
        """(recipients, message bytes) of every message received."""
        with self.path.open("rb") as data:
            while line := data.readline():
                rcpt_len, size = (int(x) for x in line.split())
                yield data.read(rcpt_len).decode(), data.read(size)


# -- seeding ------------------------------------------------------------------------------

def seed(app: Any, mails: int) -> dict[str, Any]:
    """A program, `mails` members with addresses and their queued welcome mails, in bulk;
    returns the program id and, by address, each member's id, card token and suppression."""
    from sqlalchemy import insert, select

    from app.extensions import db
    from app.models import MailDelivery, MailSuppression, Member, Program
    from app.models.base import utcnow
    from tests.conftest import Api, new_api_key

    api = Api(app.test_client(), new_api_key(app))
    program = api.post("/programs", {"name": "Bench Rewards", "template": "cafe"}).get_json()
    members: dict[str, dict[str, Any]] = {}
    with app.app_context():
        merchant_id = db.session.get(Program, program["id"]).merchant_id  # type: ignore[union-attr]
        now = utcnow()
        for start in range(0, mails, SEED_CHUNK):
            rows = [{"program_id": program["id"], "serial_number": f"bench-{i:08d}",
                     "auth_token": f"a{i:030d}", "download_token": f"card{i:08d}x",
                     "name": f"Customer {i}" if i % 7 else "", "email": f"customer{i}@example.com",
                     "language": LANGUAGES[i % len(LANGUAGES)] or None, "points": 0,
                     "pass_version": 1, "pass_updated_at": now, "created_at": now,
                     "source": "import"} for i in range(start, min(mails, start + SEED_CHUNK))]
            db.session.execute(insert(Member), rows)
        for member_id, email, token in db.session.execute(
                select(Member.id, Member.email, Member.download_token)
                .where(Member.program_id == program["id"])):
            number = int(str(email).removeprefix("customer").split("@")[0])
            members[str(email)] = {"id": member_id, "token": token,
                                   "suppressed": number % SUPPRESS_EVERY == SUPPRESS_EVERY - 1}
        db.session.execute(insert(MailSuppression), [
            {"merchant_id": merchant_id, "email": email, "reason": "manual", "detail": "",
             "created_at": now} for email, m in members.items() if m["suppressed"]])
        ids = sorted(m["id"] for m in members.values())
        for start in range(0, len(ids), SEED_CHUNK):
            db.session.execute(insert(MailDelivery), [
                {"member_id": mid, "kind": "welcome", "event_key": "enrolled", "params": {},
                 "status": "pending", "attempts": 0, "next_attempt_at": now,
                 "last_error": "", "created_at": now} for mid in ids[start:start + SEED_CHUNK]])
        db.session.commit()
        db.session.remove()
    return {"program_id": program["id"], "members": members}


def prebuilt(app: Any) -> list[bytes]:
    """The welcome mails of the first members (one per language), as the bytes sent."""
    from sqlalchemy import select

    from app.extensions import db
    from app.mail.tasks import prepare
    from app.models import MailDelivery

    with app.app_context():
        ids = list(db.session.scalars(select(MailDelivery.id).order_by(MailDelivery.id)
                                      .limit(len(LANGUAGES))))
        built = [item.message.data for item in prepare(ids, app.config["SETTINGS"])]
        db.session.rollback()  # nothing marked: the sweep sends them all
        db.session.remove()
    return built


# -- the two timed runs ---------------------------------------------------------------------

def raw_smtp(server: ServerProcess, messages: list[bytes], count: int) -> dict[str, float]:
    """The baseline: `count` pre-built messages over one reused smtplib connection."""
    cpu, server_cpu = time.process_time(), server.cpu()
    started = time.perf_counter()
    with smtplib.SMTP("127.0.0.1", server.port, timeout=10) as smtp:
        for i in range(count):
            smtp.sendmail(BASELINE_FROM, [f"baseline{i}@example.com"],
                          messages[i % len(messages)])
    seconds = time.perf_counter() - started
    return {"raw_s": seconds, "raw_per_s": count / seconds,
            "raw_cpu_s": time.process_time() - cpu, "raw_server_cpu_s": server.cpu() - server_cpu}


def sweep_to_the_end(app: Any, server: ServerProcess) -> dict[str, float]:
    """Run the mail sweep until nothing is due, as the worker does; time and CPU."""
    from app.jobs import run_sweep_now
    from app.mail.channel import SWEEP

    cpu, server_cpu = time.process_time(), server.cpu()
    started = time.perf_counter()
    attempted = 0
    with app.app_context():
        while handled := run_sweep_now(SWEEP):
            attempted += handled
    return {"attempted": attempted, "mail_s": time.perf_counter() - started,
            "cpu_s": time.process_time() - cpu, "server_cpu_s": server.cpu() - server_cpu}


# -- checking what arrived --------------------------------------------------------------

def check(server: ServerProcess, members: dict[str, dict[str, Any]]) -> dict[str, int]:
    """Every member not suppressed got exactly one mail with their own card link and
    unsubscribe token; no suppressed address got one. Returns the counts."""
    from itsdangerous import URLSafeSerializer

    from app.mail.suppressions import TOKEN_SALT

    tokens = URLSafeSerializer(SECRET, salt=TOKEN_SALT)
    got: dict[str, int] = {}
    baseline = 0
    for rcpt, raw in server.records():
        if rcpt.startswith("baseline"):
            baseline += 1
            continue
        member = members[rcpt]
        message = message_from_bytes(raw, policy=policy.default)
        body = message.get_body(("plain",))  # type: ignore[attr-defined]
        card = CARD_LINK.search(body.get_content() if body is not None else "")
        assert card and card.group(1) == member["token"], f"{rcpt}: not their card link"
        unsubscribe = UNSUBSCRIBE.search(str(message["List-Unsubscribe"]))
        assert unsubscribe and tokens.loads(unsubscribe.group(1)) == member["id"], rcpt
        assert message["To"].addresses[0].addr_spec == rcpt, rcpt
        got[rcpt] = got.get(rcpt, 0) + 1
    wanted = {e for e, m in members.items() if not m["suppressed"]}
    twice = [e for e, n in got.items() if n > 1]
    assert not twice, f"{len(twice)} members got their mail more than once"
    assert set(got) == wanted, (f"{len(wanted - set(got))} members got no mail, "
                                f"{len(set(got) - wanted)} suppressed addresses got one")
    return {"received": len(got), "baseline_received": baseline,
            "suppressed": len(members) - len(wanted)}


def statuses(app: Any) -> dict[str, int]:
    """How many mail rows end in each status."""
    from sqlalchemy import func, select

    from app.extensions import db
    from app.models import MailDelivery

    with app.app_context():
        counts = dict(db.session.execute(select(MailDelivery.status, func.count())
                                         .group_by(MailDelivery.status)).all())
        db.session.remove()
    return {str(k): int(v) for k, v in counts.items()}


def one(url: str, mails: int, tmp: Path) -> dict[str, Any]:
    """Seed, measure the baseline and the sweep, and check every mail, in this process."""
    logging.disable(logging.WARNING)
    server = ServerProcess(tmp)
    try:
        app = make_app(url, tmp, SMTP_URL=server.url, MAIL_RATE=MAIL_RATE, SECRET_KEY=SECRET)
        seeded = seed(app, mails)
        to_send = sum(1 for m in seeded["members"].values() if not m["suppressed"])
        got: dict[str, Any] = {"mails": mails, "to_send": to_send}
        got |= raw_smtp(server, prebuilt(app), to_send)
        got |= sweep_to_the_end(app, server)
    finally:
        server.stop()
    got |= check(server, seeded["members"])
    got["statuses"] = statuses(app)
    assert got["attempted"] == mails, got
    assert got["statuses"] == {"sent": to_send, "suppressed": mails - to_send}, got["statuses"]
    assert got["baseline_received"] == to_send, got
    got["mails_per_s"] = to_send / got["mail_s"]
    got["ratio"] = got["mails_per_s"] / got["raw_per_s"]
    return got


def run_child(kind: str, mails: int) -> dict[str, Any]:
    """Measure one size on a fresh database of this kind, in a subprocess."""
    out = subprocess.run([sys.executable, "-m", "bench.bench_mail", "--child", kind,
                          "--mails", str(mails)], check=True, capture_output=True, text=True)
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def main(argv: list[str] | None = None) -> None:
    """Parse arguments and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--mails", type=int, default=DEFAULT_MAILS)
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument("--child")
    parser.add_argument("--smtp-server", type=int)
    parser.add_argument("--out")
    opts = parser.parse_args(argv)
    if opts.smtp_server:
        serve(opts.smtp_server, Path(opts.out))
        return
    if opts.child:
        with tempfile.TemporaryDirectory() as tmp, database(opts.child, Path(tmp)) as url:
            print(json.dumps(one(url, opts.mails, Path(tmp))))
        return
    print(f"MAIL_RATE {MAIL_RATE:,.0f}/s for the bench; the SMTP server (aiosmtpd) runs in "
          f"its own process; 1 in {SUPPRESS_EVERY} addresses suppressed; load average "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"{'database':<11}{'mails':>7}{'sent':>7}{'seconds':>9}{'mails/s':>9}{'CPU s':>7}"
          f"{'server CPU s':>14}{'raw mails/s':>13}{'raw server CPU s':>18}{'ratio':>7}")
    for kind in opts.databases.split(","):
        results = []
        for mails in (max(1, opts.mails // 10), opts.mails):
            got = run_child(kind, mails)
            results.append(got)
            print(f"{kind:<11}{mails:>7}{got['received']:>7}{got['mail_s']:>9.1f}"
                  f"{got['mails_per_s']:>9.0f}{got['cpu_s']:>7.1f}{got['server_cpu_s']:>14.1f}"
                  f"{got['raw_per_s']:>13.0f}{got['raw_server_cpu_s']:>18.1f}"
                  f"{got['ratio']:>7.2f}", flush=True)
        small, large = results
        print(f"{kind}: {small['mails']:,} mails at {small['mails_per_s']:.0f}/s, "
              f"{large['mails']:,} at {large['mails_per_s']:.0f}/s: "
              f"{large['mails_per_s'] / small['mails_per_s']:.2f} x the rate at 10 x the "
              "queue; every mail arrived once with its member's card link", flush=True)
    print(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    os.environ.setdefault("WALLETPASS_LOG_LEVEL", "WARNING")
    main()
