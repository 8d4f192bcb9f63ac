"""The production set end to end: `walletpass up` (gunicorn, two Celery workers, one beat) plus a
second gunicorn, on PostgreSQL and Redis, with APNs, Google and SMTP stand-ins on loopback."""

from __future__ import annotations

import hashlib
import io
import json
import os
import signal
import subprocess
import sys
import time
import zipfile
from collections import Counter
from collections.abc import Callable, Iterator
from itertools import cycle
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
from flask import Flask
from sqlalchemy import create_engine, select, text

from app import create_app
from app.extensions import db
from app.models import AppleRegistration, Member
from tests.conftest import apns_settings, app_config, new_api_key
from tests.google_standin import GoogleStandIn, service_account_info
from tests.net import free_port, wait_port
from tests.smtp_standin import SmtpStandIn
from tests.test_celery import redis_url  # noqa: F401  (the redis-server fixture)

ROOT = Path(__file__).resolve().parent.parent
MEMBERS = 20
ISSUER = "3388000000012345678"
COALESCE = 8.0  # long enough that a member's second round always falls in its window
WAIT = 60.0


@pytest.fixture
def prod_db(postgres_url: str) -> str:
    """A fresh, empty PostgreSQL database (`walletpass up` migrates it)."""
    admin = create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text("DROP DATABASE IF EXISTS walletpass_prod WITH (FORCE)"))
        conn.execute(text("CREATE DATABASE walletpass_prod"))
    admin.dispose()
    return postgres_url.rsplit("/", 1)[0] + "/walletpass_prod"


@pytest.fixture
def smtp() -> Iterator[SmtpStandIn]:
    """A plain SMTP server on loopback."""
    server = SmtpStandIn().up()
    yield server
    server.down()


@pytest.fixture
def settings(tmp_path: Path, cert_paths: dict[str, Path], prod_db: str, redis_url: str,  # noqa: F811
             apns: Any, apns_tls: dict[str, Path], google: GoogleStandIn,
             smtp: SmtpStandIn) -> dict[str, Any]:
    """Every setting of the set (as for create_app), the stand-ins' included."""
    google.rate_limit = None
    info, _ = service_account_info(google.token_uri)
    key_file = tmp_path / "google-sa.json"
    key_file.write_text(json.dumps(info))
    port = free_port()
    return app_config(
        tmp_path, cert_paths, prod_db, BASE_URL=f"http://127.0.0.1:{port}",
        CELERY_BROKER_URL=redis_url, GOOGLE_SERVICE_ACCOUNT_FILE=str(key_file),
        GOOGLE_ISSUER_ID=ISSUER, GOOGLE_API_URL=google.url, GOOGLE_TIMEOUT=3.0,
        SMTP_URL=smtp.url, MAIL_RATE=1000.0, SMTP_TIMEOUT=5.0,
        PUSH_COALESCE_SECONDS=COALESCE, **apns_settings(apns, apns_tls))


def environ(settings: dict[str, Any]) -> dict[str, str]:
    """The WALLETPASS_ variables for these settings, on top of this process's environment."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("WALLETPASS_")}
    env.update({f"WALLETPASS_{k}": _text(v) for k, v in settings.items()})
    env["PYTHONPATH"] = str(ROOT)
    return env


def _text(value: Any) -> str:
    """A setting as an environment value."""
    return ("true" if value else "false") if isinstance(value, bool) else str(value)


def spawn(argv: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    """Start a child in its own process group, its output in a log file."""
    with log.open("wb") as out:
        return subprocess.Popen(argv, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)


def kill_group(proc: subprocess.Popen[bytes]) -> None:
    """Kill a child's whole process group (the teardown of last resort)."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait(10)


def wait_until(check: Callable[[], bool], timeout: float = WAIT) -> bool:
    """Wait (bounded) until check() is true; returns its last answer."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.2)
    return check()


class Http:
    """The JSON API and the public pages, spread over several gunicorn instances in turn."""

    def __init__(self, ports: list[int], key: str = "") -> None:
        self.bases = cycle([f"http://127.0.0.1:{p}" for p in ports])
        self.session = requests.Session()
        self.headers = {"Authorization": f"Bearer {key}"} if key else {}

    def request(self, method: str, path: str, **kw: Any) -> requests.Response:
        """One request to the next instance (every call has a timeout)."""
        headers = {**self.headers, **kw.pop("headers", {})}
        return self.session.request(method, next(self.bases) + path, headers=headers,
                                    timeout=15, **kw)

    def api(self, method: str, path: str, body: Any = None) -> Any:
        """A JSON API call that must succeed; returns the answer's JSON."""
        resp = self.request(method, "/api/v1" + path, json=body)
        assert resp.status_code in (200, 201), resp.text
        return resp.json()


def check_pkpass(data: bytes) -> dict[str, Any]:
    """Assert a signed .pkpass (manifest hashes match, signature present); return pass.json."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        names = set(archive.namelist())
        assert {"pass.json", "manifest.json", "signature"} <= names
        manifest = json.loads(archive.read("manifest.json"))
        assert set(manifest) == names - {"manifest.json", "signature"}
        for name, digest in manifest.items():
            assert hashlib.sha1(archive.read(name)).hexdigest() == digest
        assert len(archive.read("signature")) > 500  # a detached PKCS#7 signature
        return dict(json.loads(archive.read("pass.json")))


def register_device(http: Http, pkpass: dict[str, Any], index: int) -> str:
    """Register one iPhone for a pass through the PassKit web service; returns its token."""
    token = f"{index:08x}".ljust(64, "0")
    path = (f"/wallet/v1/devices/dev{index:04d}/registrations/"
            f"{pkpass['passTypeIdentifier']}/{pkpass['serialNumber']}")
    resp = http.request("POST", path, json={"pushToken": token},
                        headers={"Authorization": f"ApplePass {pkpass['authenticationToken']}"})
    assert resp.status_code == 201, resp.text
    return token


def set_up_members(http: Http) -> tuple[list[dict[str, Any]], dict[int, str]]:
    """A program, MEMBERS members with e-mails, their passes downloaded, one device each."""
    program = http.api("POST", "/programs", {"name": "Bean There Rewards", "template": "cafe"})
    members, tokens = [], {}
    for i in range(MEMBERS):
        member = http.api("POST", f"/programs/{program['id']}/members",
                          {"email": f"m{i}@example.test", "name": f"Member {i}"})
        resp = http.request("GET", urlsplit(member["links"]["apple"]).path)
        assert resp.status_code == 200
        assert resp.headers["Content-Type"].startswith("application/vnd.apple.pkpass")
        pkpass = check_pkpass(resp.content)
        assert pkpass["serialNumber"] == member["serial_number"]
        tokens[member["id"]] = register_device(http, pkpass, i)
        members.append(member)
    return members, tokens


def earn_round(http: Http, members: list[dict[str, Any]], points: int, times: int) -> None:
    """Earn `points` `times` in a row for every member, through the instances in turn."""
    for member in members:
        for _ in range(times):
            http.api("POST", f"/members/{member['id']}/earn", {"points": points})


def pushes_by_token(apns: Any) -> Counter[str]:
    """How many pushes each device token received."""
    return Counter(apns.tokens())


def registrations_caught_up(app: Flask) -> bool:
    """Whether every device has been pushed its pass's latest version."""
    with app.app_context():
        rows = db.session.execute(select(AppleRegistration.pushed_version, Member.pass_version)
                                  .join(Member, Member.id == AppleRegistration.member_id)).all()
        db.session.remove()
    return len(rows) == MEMBERS and all(pushed == latest for pushed, latest in rows)


def balances(app: Flask) -> dict[int, int]:
    """Every member's balance, from the database."""
    with app.app_context():
        rows = db.session.execute(select(Member.id, Member.points)).all()
        db.session.remove()
    return {mid: points for mid, points in rows}


def stop_up(proc: subprocess.Popen[bytes]) -> int:
    """SIGTERM `walletpass up` and return its exit status (bounded wait)."""
    proc.send_signal(signal.SIGTERM)
    return proc.wait(30)


def logs(folder: Path) -> str:
    """The tail of every child's log, for a failure message."""
    return "\n".join(f"--- {p.name}\n{p.read_text(errors='replace')[-3000:]}"
                     for p in sorted(folder.glob("*.log")))


@pytest.mark.parametrize(("given", "message"), [
    ({}, "Set WALLETPASS_DATABASE_URL and WALLETPASS_CELERY_BROKER_URL first"),
    ({"WALLETPASS_DATABASE_URL": "sqlite:///x.db", "WALLETPASS_CELERY_BROKER_URL": "redis://h"},
     "WALLETPASS_DATABASE_URL must be a PostgreSQL URL"),
    ({"WALLETPASS_DATABASE_URL": "postgresql+psycopg://h/db",
      "WALLETPASS_CELERY_BROKER_URL": "amqp://h"},
     "WALLETPASS_CELERY_BROKER_URL must be a Redis URL"),
])
def test_up_refuses_without_postgresql_and_redis(tmp_path: Path, given: dict[str, str],
                                                 message: str) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WALLETPASS_")}
    env.update(PYTHONPATH=str(ROOT), WALLETPASS_DATA_DIR=str(tmp_path), **given)
    result = subprocess.run([sys.executable, "-m", "app.cli", "up"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert message in result.stderr
    assert not list(tmp_path.iterdir())  # refused before building anything


def test_production_set_end_to_end(settings: dict[str, Any], tmp_path: Path, apns: Any,
                                   google: GoogleStandIn, smtp: SmtpStandIn) -> None:
    env = environ(settings)
    port1 = int(settings["BASE_URL"].rsplit(":", 1)[1])
    port2 = free_port()
    up = spawn([sys.executable, "-m", "app.cli", "up", "--web-workers", "2",
                "--celery-workers", "2", "--bind", f"127.0.0.1:{port1}"], env,
               tmp_path / "up.log")
    web2: subprocess.Popen[bytes] | None = None
    try:
        wait_port(port1, "walletpass up's gunicorn", timeout=60)
        web2 = spawn([sys.executable, "-m", "gunicorn", "--workers", "1", "--bind",
                      f"127.0.0.1:{port2}", "wsgi:app"], env, tmp_path / "web2.log")
        wait_port(port2, "the second gunicorn", timeout=60)
        _walk_the_set(settings, [port1, port2], apns, google, smtp, tmp_path)
        assert stop_up(up) == 0, logs(tmp_path)
        assert "stopping the others" not in (tmp_path / "up.log").read_text()
    finally:
        for proc in (up, web2):
            if proc is not None:
                kill_group(proc)


def _walk_the_set(settings: dict[str, Any], ports: list[int], apns: Any,
                  google: GoogleStandIn, smtp: SmtpStandIn, tmp_path: Path) -> None:
    """Enroll, download, register, earn through both instances; assert every end state."""
    app = create_app({**settings, "CELERY_BROKER_URL": ""})  # in-process: reads the same DB
    assert requests.get(f"http://127.0.0.1:{ports[0]}/", timeout=15).status_code < 500
    http = Http(ports, new_api_key(app))
    members, tokens = set_up_members(http)
    earn_round(http, members, 5, times=1)  # the first change of each pass: pushed at once
    assert wait_until(lambda: len(apns.pushes) >= MEMBERS), logs(tmp_path)
    earn_round(http, members, 3, times=2)  # inside each device's window: one push for both
    assert wait_until(lambda: registrations_caught_up(app)), logs(tmp_path)
    time.sleep(1.0)  # a duplicate push from a second worker would arrive by now
    assert pushes_by_token(apns) == {token: 2 for token in tokens.values()}

    expected = {m["id"]: m["points"] + 5 + 3 + 3 for m in members}
    assert balances(app) == expected
    objects = {f"{ISSUER}.{m['serial_number']}": expected[m["id"]] for m in members}
    assert wait_until(lambda: _google_balances(google, objects) == objects), logs(tmp_path)
    inserts = Counter(call.body["id"] for call in google.calls("POST", "loyaltyObject"))
    assert inserts == dict.fromkeys(objects, 1)

    emails = {f"m{i}@example.test" for i in range(MEMBERS)}
    assert wait_until(lambda: len(smtp.messages()) >= MEMBERS), logs(tmp_path)
    time.sleep(1.0)
    recipients = Counter(rcpt for _, rcpts in smtp.envelopes for rcpt in rcpts)
    assert recipients == dict.fromkeys(emails, 1)


def _google_balances(google: GoogleStandIn, objects: dict[str, int]) -> dict[str, int]:
    """The balance Google holds for each of these objects."""
    stored = google.resources.get("loyaltyObject", {})
    return {oid: stored[oid]["loyaltyPoints"]["balance"]["int"] for oid in objects
            if oid in stored}


def _python(code: str) -> list[str]:
    """A command line running a bit of Python."""
    return [sys.executable, "-c", code]


def test_a_child_that_dies_stops_the_others(tmp_path: Path) -> None:
    from app.production import Child, run

    specs = [Child("sleeper", _python("import time; time.sleep(60)")),
             Child("quitter", _python("import time; time.sleep(0.5); raise SystemExit(3)"))]
    started = time.monotonic()
    assert run(specs, tmp_path) == 1
    assert time.monotonic() - started < 20


def test_stop_kills_a_child_that_ignores_sigterm(tmp_path: Path) -> None:
    from app.production import Child, Supervisor

    stubborn = ("import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
                "time.sleep(60)")
    sup = Supervisor([Child("stubborn", _python(stubborn)),
                      Child("polite", _python("import time; time.sleep(60)"))], tmp_path)
    sup.start()
    time.sleep(1.0)  # let it ignore SIGTERM
    started = time.monotonic()
    sup.stop(timeout=1.0)
    assert time.monotonic() - started < 8
    assert all(proc.poll() is not None for proc in sup.procs.values())
    assert sup.procs["stubborn"].returncode == -signal.SIGKILL
    assert sup.procs["polite"].returncode == -signal.SIGTERM
