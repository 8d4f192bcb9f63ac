"""Health and metrics (issue 18, part 2): /healthz, /readyz against real PostgreSQL and Redis
servers that are stopped mid-test, /metrics after real requests, pushes and mails (and
summed over two processes), request ids in logs and jobs, and no secret in any log line."""

from __future__ import annotations

import io
import json
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
from flask import Flask, request
from prometheus_client.parser import text_string_to_metric_families

from app import create_app, jobs
from app.extensions import db
from app.jobs import PASS_UPDATES, run_sweep_now, start_embedded_worker
from app.logs import redact
from app.models import Member
from tests.conftest import Api, apns_settings, app_config
from tests.dashboard_helpers import csrf_of, new_owner
from tests.google_standin import service_account_info
from tests.net import free_port, wait_port
from tests.pg import PostgresServer, find_bindir
from tests.smtp_standin import SmtpStandIn
from tests.test_production import environ, kill_group, spawn
from tests.test_webservice import touch

BOUND = 2.5
"""Seconds /readyz may take with a dependency down (its checks have 1.5 s each)."""
RID = "req-test-0123456789"


@pytest.fixture
def database() -> str:
    """One database leg (SQLite): the probes' PostgreSQL cases start servers of their own."""
    return "sqlite"


@pytest.fixture
def probe_app(tmp_path: Path, cert_paths: dict[str, Path]) -> Iterator[Callable[..., Flask]]:
    """Apps on a database URL of the test's choosing (a server it stops, or none at all)."""
    apps: list[Flask] = []

    def factory(url: str, **extra: Any) -> Flask:
        apps.append(create_app(app_config(tmp_path, cert_paths, url, **extra)))
        return apps[-1]

    yield factory
    for app in apps:
        with app.app_context():
            db.engine.dispose()


def start_redis(folder: Path) -> tuple[subprocess.Popen[bytes], str]:
    """A throwaway redis-server on loopback (stopped by the caller)."""
    binary = shutil.which("redis-server")
    assert binary, "redis-server is not installed: run `bash tests/setup_services.sh`"
    port = free_port()
    proc = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                             "--appendonly", "no", "--dir", str(folder)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_port(port, "redis-server")
    return proc, f"redis://127.0.0.1:{port}/0"


def ready(app: Flask) -> tuple[int, dict[str, Any], float]:
    """GET /readyz: status, JSON and seconds taken."""
    started = time.monotonic()
    resp = app.test_client().get("/readyz")
    return resp.status_code, resp.get_json(), time.monotonic() - started


# --- /healthz and /readyz ----------------------------------------------------------------


def test_healthz_answers_without_touching_the_database(probe_app: Any) -> None:
    port = free_port()  # nothing listens: any database use would fail
    app = probe_app(f"postgresql+psycopg://walletpass:Pg-s3cret@127.0.0.1:{port}/x")
    resp = app.test_client().get("/healthz")
    assert (resp.status_code, resp.get_json()) == (200, {"status": "ok"})
    status, body, took = ready(app)  # the same app is not ready: proof the two differ
    assert status == 503 and body["checks"]["database"].startswith("error")
    assert "Pg-s3cret" not in json.dumps(body) and took < BOUND


def test_readyz_ok_on_sqlite_with_the_embedded_worker(make_app: Any) -> None:
    app = make_app(EMBEDDED_WORKER=True, WORKER_POLL_SECONDS=5.0)
    status, body, _ = ready(app)
    assert body["checks"]["broker"].startswith("off")  # no worker in this process yet
    assert status == 200
    worker = start_embedded_worker(app)
    assert worker is not None
    try:
        assert ready(app)[:2] == (200, {"status": "ok", "checks": {
            "database": "ok", "broker": "ok", "certificate": "ok"}})
    finally:
        worker.stop()
    status, body, _ = ready(app)
    assert status == 503 and body["checks"]["broker"] == "error: the embedded worker has stopped"


@pytest.fixture
def postgres(tmp_path: Path) -> Iterator[PostgresServer]:
    """A PostgreSQL server of this test alone (it stops it)."""
    bindir = find_bindir()
    assert bindir is not None, "PostgreSQL is not installed"
    server = PostgresServer(bindir)
    server.start()
    try:
        yield server
    finally:
        try:
            server.stop()
        except subprocess.CalledProcessError:  # the test stopped it already
            pass


def test_readyz_on_postgresql_and_redis_names_each_one_that_stops(
        probe_app: Any, postgres: PostgresServer, tmp_path: Path) -> None:
    redis_proc, redis_url = start_redis(tmp_path)
    try:
        app = probe_app(postgres.url("postgres"), CELERY_BROKER_URL=redis_url)
        assert ready(app)[:2] == (200, {"status": "ok", "checks": {
            "database": "ok", "broker": "ok", "certificate": "ok"}})
        redis_proc.terminate()
        redis_proc.wait(10)
        status, body, took = ready(app)
        assert status == 503 and body["status"] == "unavailable", body
        assert body["checks"]["broker"].startswith("error: ") and took < BOUND
        assert body["checks"]["database"] == "ok"
        postgres._run("pg_ctl", "-D", str(postgres.datadir), "-m", "immediate", "stop")
        status, body, took = ready(app)
        assert status == 503 and took < BOUND
        assert body["checks"]["database"].startswith("error: "), body
        assert body["checks"]["certificate"] == "ok"
    finally:
        redis_proc.kill()
        redis_proc.wait(10)


def test_readyz_answers_within_the_bound_when_the_servers_hang(probe_app: Any) -> None:
    with socket.socket() as silent:  # accepts connections (the backlog) and never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        port = silent.getsockname()[1]
        app = probe_app(f"postgresql+psycopg://walletpass:Pg-s3cret@127.0.0.1:{port}/x",
                        CELERY_BROKER_URL=f"redis://:Redis-s3cret@127.0.0.1:{port}/0")
        status, body, took = ready(app)
    assert status == 503 and took < BOUND, (took, body)
    assert body["checks"]["database"].startswith("error: ")
    assert body["checks"]["broker"].startswith("error: ")
    assert "s3cret" not in json.dumps(body)


def test_readyz_fails_on_an_expired_certificate(make_app: Any) -> None:
    import datetime as dt

    from app.health import check_certificate

    app = make_app()
    assert check_certificate(app) == "ok"
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=366 * 30)
    assert check_certificate(app, later).startswith("error: the ")
    assert "expired on" in check_certificate(app, later)


# --- /metrics ----------------------------------------------------------------------------


def value(text: str, name: str, **labels: str) -> float:
    """The sum of the samples called `name` whose labels include these."""
    total = 0.0
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                total += sample.value
    return total


def scrape(app: Flask, **headers: str) -> str:
    """GET /metrics, which must answer 200."""
    resp = app.test_client().get("/metrics", headers=headers)
    assert resp.status_code == 200, resp.get_data(True)
    assert resp.mimetype == "text/plain"
    return resp.get_data(True)


MEMBER_ROUTE = "/api/v1/members/<int:member_id>"


def test_metrics_count_requests_by_route_and_pass_builds(make_app: Any) -> None:
    app = make_app()
    api = Api(app.test_client(), new_owner(app))
    pid = api.post("/programs", {"name": "Cafe", "template": "cafe"}).get_json()["id"]
    members = [api.post(f"/programs/{pid}/members", {"email": f"m{i}@example.test"})
               .get_json() for i in range(2)]
    before = scrape(app)
    for m in (members[0], members[1], members[0]):
        assert api.get(f"/members/{m['id']}").status_code == 200
    assert api.get("/members/999999").status_code == 404
    assert app.test_client().get(urlsplit(members[0]["links"]["apple"]).path).status_code == 200
    after = scrape(app)
    ok, missing = ({"method": "GET", "route": MEMBER_ROUTE, "status": s} for s in ("200", "404"))
    assert value(after, "walletpass_http_requests_total", **ok) - value(
        before, "walletpass_http_requests_total", **ok) == 3
    assert value(after, "walletpass_http_requests_total", **missing) - value(
        before, "walletpass_http_requests_total", **missing) == 1
    seconds = "walletpass_http_request_duration_seconds"
    assert value(after, f"{seconds}_count", route=MEMBER_ROUTE) - value(
        before, f"{seconds}_count", route=MEMBER_ROUTE) == 4
    assert value(after, f"{seconds}_bucket", route=MEMBER_ROUTE, le="+Inf") > 0
    assert f"/members/{members[0]['id']}" not in after  # the rule, never the raw path
    assert value(after, "walletpass_pass_build_seconds_count") - value(
        before, "walletpass_pass_build_seconds_count") == 1
    assert value(after, "walletpass_queue_pending", queue="outbox") == 2  # not relayed yet
    form = {"file": (io.BytesIO(b"email\nx@example.test\n"), "list.csv", "text/csv"),
            "consent_basis": "Customers of our paper card who agreed to e-mails"}
    assert api.client.post(f"/api/v1/programs/{pid}/imports", data=form, headers=api.headers,
                           content_type="multipart/form-data").status_code == 202
    waiting = scrape(app)
    assert value(waiting, "walletpass_queue_pending", queue="import") == 1
    assert value(waiting, "walletpass_queue_oldest_seconds", queue="import") >= 0
    with app.app_context():
        run_sweep_now("imports")
    assert value(scrape(app), "walletpass_queue_pending", queue="import") == 0


def test_metrics_count_google_calls_by_status(google: Any) -> None:
    from app.wallet.google.client import GoogleClient
    from app.wallet.google.issuer import SCOPE

    info, _ = service_account_info(google.token_uri)
    client = GoogleClient(info, google.url, timeout=5.0, scope=SCOPE)
    before = scrape_text()
    client.get("loyaltyClass", "1.missing")
    client.insert("loyaltyClass", {"id": "1.c", "issuerName": "Bean",
                                   "reviewStatus": "UNDER_REVIEW"})
    client.get("loyaltyClass", "1.c")
    after = scrape_text()
    for method, status, count in (("GET", "404", 1), ("POST", "200", 1), ("GET", "200", 1)):
        assert value(after, "walletpass_google_calls_total", method=method, status=status) - \
            value(before, "walletpass_google_calls_total", method=method, status=status) == count


def scrape_text() -> str:
    """This process's metrics, as /metrics renders them (no app needed)."""
    from app.metrics import render

    return render().decode()


def test_metrics_count_a_push_and_a_mail_and_the_outbox_lag(
        make_app: Any, apns: Any, apns_tls: dict[str, Path]) -> None:
    smtp = SmtpStandIn().up()
    try:
        app = make_app(**apns_settings(apns, apns_tls, SMTP_URL=smtp.url,
                                              MAIL_RATE=1000.0))
        api = Api(app.test_client(), new_owner(app))
        pid = api.post("/programs", {"name": "Cafe", "template": "cafe"}).get_json()["id"]
        before = scrape(app)
        member = api.post(f"/programs/{pid}/members", {"email": "ann@example.test"}).get_json()
        lagging = scrape(app)
        assert value(lagging, "walletpass_queue_pending", queue="outbox") == 1
        token = register_device(app, member)
        touch(app, member["id"])
        with app.app_context():
            assert run_sweep_now(PASS_UPDATES) >= 1
            assert run_sweep_now("mail") == 1  # relays the welcome event, then sends it
        after = scrape(app)
    finally:
        smtp.down()
    assert apns.tokens() == [token] and len(smtp.messages()) == 1
    pushed = {"status": "200", "reason": ""}
    assert value(after, "walletpass_apns_pushes_total", **pushed) - value(
        before, "walletpass_apns_pushes_total", **pushed) == 1
    assert value(after, "walletpass_mails_total", outcome="sent") - value(
        before, "walletpass_mails_total", outcome="sent") == 1
    assert value(after, "walletpass_queue_pending", queue="outbox") == 0
    assert value(after, "walletpass_job_runs_total", sweep="mail") - value(
        before, "walletpass_job_runs_total", sweep="mail") == 1


def register_device(app: Flask, member: dict[str, Any]) -> str:
    """Download the member's pass and register a device for it (the PassKit web service);
    returns the device's push token."""
    import zipfile

    client = app.test_client()
    data = client.get(urlsplit(member["links"]["apple"]).path).get_data()
    pkpass = json.loads(zipfile.ZipFile(io.BytesIO(data)).read("pass.json"))
    token = "ab" * 32
    resp = client.post(f"/wallet/v1/devices/dev1/registrations/{pkpass['passTypeIdentifier']}/"
                       f"{pkpass['serialNumber']}", json={"pushToken": token},
                       headers={"Authorization": f"ApplePass {pkpass['authenticationToken']}"})
    assert resp.status_code == 201, resp.get_data(True)
    return token


def test_metrics_ask_for_the_token_when_one_is_set(make_app: Any) -> None:
    app = make_app(METRICS_TOKEN="metrics-token-123")
    client = app.test_client()
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert "walletpass_http_requests_total" in scrape(
        app, Authorization="Bearer metrics-token-123")
    assert client.get("/healthz").status_code == 200  # the probes stay open


def test_metrics_of_two_processes_add_up(tmp_path: Path,
                                         cert_paths: dict[str, Path],
                                         sqlite_template: Path) -> None:
    from app.production import fresh_metrics_dir

    folder = tmp_path / "shared"
    folder.mkdir()
    (folder / "stale.db").write_text("from an earlier run")
    metrics_dir = fresh_metrics_dir(folder)
    assert list(metrics_dir.iterdir()) == []
    path = tmp_path / "gunicorn.db"
    shutil.copyfile(sqlite_template, path)
    env = environ(app_config(tmp_path, cert_paths, f"sqlite:///{path}"))
    env["PROMETHEUS_MULTIPROC_DIR"] = str(metrics_dir)
    ports = [free_port(), free_port()]
    procs = [spawn([sys.executable, "-m", "gunicorn", "--workers", "1", "--bind",
                    f"127.0.0.1:{port}", "wsgi:app"], env, tmp_path / f"web{port}.log")
             for port in ports]
    sweep = subprocess.Popen([sys.executable, "-m", "app.cli", "sweep"], env=env,  # a worker
                             cwd=Path(__file__).resolve().parent.parent,
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        for port in ports:
            wait_port(port, "gunicorn", timeout=60)
        for port, count in zip(ports, (3, 5), strict=True):
            for _ in range(count):
                assert requests.get(f"http://127.0.0.1:{port}/healthz", timeout=10).ok
        _, errors = sweep.communicate(timeout=60)
        assert sweep.returncode == 0, errors
        text = requests.get(f"http://127.0.0.1:{ports[0]}/metrics", timeout=10).text
    finally:
        sweep.kill()
        sweep.wait(10)
        for proc in procs:
            kill_group(proc)
    assert value(text, "walletpass_http_requests_total", route="/healthz", status="200") == 8
    assert value(text, "walletpass_job_runs_total", sweep="outbox") == 1  # the third process
    assert len({p.name for p in metrics_dir.glob("counter_*.db")}) == 3


def test_walletpass_up_gives_its_children_json_logs_and_a_fresh_metrics_folder(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from app.production import child_environment

    monkeypatch.delenv("WALLETPASS_LOG_FORMAT", raising=False)
    (tmp_path / "metrics").mkdir()
    (tmp_path / "metrics" / "counter_1.db").write_text("old")
    env = child_environment(tmp_path)
    assert env["WALLETPASS_LOG_FORMAT"] == "json"
    assert env["PROMETHEUS_MULTIPROC_DIR"] == str(tmp_path / "metrics")
    assert list((tmp_path / "metrics").iterdir()) == []
    monkeypatch.setenv("WALLETPASS_LOG_FORMAT", "text")
    assert child_environment(None)["WALLETPASS_LOG_FORMAT"] == "text"  # an explicit choice


# --- request ids and logs ----------------------------------------------------------------


def json_lines(err: str) -> list[dict[str, Any]]:
    """The JSON log lines written to stderr (every line must be one)."""
    return [json.loads(line) for line in err.splitlines() if line.strip()]


def wait_for_line(capsys: pytest.CaptureFixture[str], seen: list[dict[str, Any]],
                  match: Callable[[dict[str, Any]], bool], timeout: float = 15.0) -> bool:
    """Read stderr (bounded) until a JSON line matches; every line read is kept in `seen`."""
    deadline = time.monotonic() + timeout
    while True:
        seen += json_lines(capsys.readouterr().err)
        if any(match(line) for line in seen) or time.monotonic() > deadline:
            return any(match(line) for line in seen)
        time.sleep(0.05)


def carries(line: dict[str, Any], rid: str) -> bool:
    """Whether a log line names this request id (a job woken by several names them all)."""
    return rid in str(line.get("request_id", "")).split(",")


def enroll_with_id(app: Flask, rid: str) -> Any:
    """A merchant, a program, then an enrollment sent with X-Request-ID: rid."""
    api = Api(app.test_client(), new_owner(app))
    pid = api.post("/programs", {"name": "Cafe", "template": "cafe"}).get_json()["id"]
    return api.post(f"/programs/{pid}/members", {"email": "ann@example.test"},
                    headers={"X-Request-ID": rid})


def test_the_request_id_is_on_the_answer_the_request_and_its_jobs(
        make_app: Any, capsys: pytest.CaptureFixture[str]) -> None:
    app = make_app(EMBEDDED_WORKER=True, WORKER_POLL_SECONDS=30.0, LOG_FORMAT="json")
    worker = start_embedded_worker(app)
    assert worker is not None
    try:
        time.sleep(0.5)  # the sweeps' first runs (at start) are over
        resp = enroll_with_id(app, RID)
        assert resp.status_code == 201 and resp.headers["X-Request-ID"] == RID
        seen: list[dict[str, Any]] = []
        for sweep in ("outbox", "mail"):  # the mail was queued by the outbox job in turn
            assert wait_for_line(capsys, seen, lambda line, s=sweep: carries(line, RID) and
                                 line.get("sweep") == s), seen
    finally:
        worker.stop()
    mine = [line for line in seen if carries(line, RID)]
    http = [line for line in mine if line["logger"] == "walletpass.http"]
    assert len(http) == 1 and http[0]["route"] == "/api/v1/programs/<int:program_id>/members"
    assert http[0]["status"] == 201 and {"time", "level", "message"} <= set(http[0])
    fresh = app.test_client().get("/healthz", headers={"X-Request-ID": "no spaces allowed"})
    generated = fresh.headers["X-Request-ID"]
    assert generated != "no spaces allowed" and len(generated) == 32
    assert app.test_client().get("/healthz").headers["X-Request-ID"] != generated


def test_the_request_id_travels_with_the_celery_task(
        make_app: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from tests.test_celery import worker

    redis_proc, redis_url = start_redis(tmp_path)
    try:
        app = make_app(CELERY_BROKER_URL=redis_url, LOG_FORMAT="json")
        with worker(app):
            resp = enroll_with_id(app, RID)
            assert resp.headers["X-Request-ID"] == RID
            seen: list[dict[str, Any]] = []
            assert wait_for_line(capsys, seen, lambda line: carries(line, RID)
                                 and line.get("sweep") == "outbox"), seen
    finally:
        redis_proc.kill()
        redis_proc.wait(10)


@pytest.mark.parametrize(("text", "secret"), [
    ("postgresql+psycopg://walletpass:Db-pass-1@db.internal/walletpass", "Db-pass-1"),
    ("Authorization: Bearer wp_abcdefghijklmnopqrstuvwx", "abcdefghijklmnop"),
    ("{'Authorization': 'ApplePass Zm9vYmFyYmF6cXV4'}", "Zm9vYmFyYmF6cXV4"),
    ('{"private_key": "-----BEGIN PRIVATE KEY-----\\nMIIEvQIBADANBg\\n-----END PRIVATE '
     'KEY-----\\n"}', "MIIEvQIBADANBg"),
    ("device token " + "0123456789abcdef" * 4, "0123456789abcdef" * 4),
    ("pushToken=abc123def456 and password: hunter2hunter", "hunter2hunter"),
])
def test_redact_replaces_each_kind_of_secret(text: str, secret: str) -> None:
    assert secret not in redact(text) and "[redacted]" in redact(text)


def test_no_secret_reaches_the_log(make_app: Any, apns: Any, apns_tls: dict[str, Path],
                                   capsys: pytest.CaptureFixture[str],
                                   monkeypatch: pytest.MonkeyPatch) -> None:
    import logging

    db_url = "postgresql+psycopg://walletpass:Db-Passw0rd-42@db.internal:5432/walletpass"
    info, _ = service_account_info("http://127.0.0.1:9/token")
    key_body = info["private_key"].splitlines()[5]
    app = make_app(LOG_LEVEL="DEBUG", LOG_FORMAT="json", **apns_settings(apns, apns_tls))

    def careless() -> str:
        """A view that logs what it should not: every header and its JSON body."""
        logging.getLogger("app.careless").warning("headers=%s body=%s", dict(request.headers),
                                                  request.get_json())
        return "logged"

    app.add_url_rule("/careless", "careless", careless, methods=["POST"])
    key = new_owner(app)
    api = Api(app.test_client(), key)
    headers = {"X-Request-ID": RID}
    pid = api.post("/programs", {"name": "Cafe", "template": "cafe"}).get_json()["id"]
    member = api.post(f"/programs/{pid}/members", {"email": "ann@example.test"}).get_json()
    push_token = register_device(app, member)
    with app.app_context():
        auth_token = db.session.get(Member, member["id"]).auth_token
    client = app.test_client()
    wrong = "Wr0ng-Password-Typed"
    assert client.post("/login", headers=headers, data={
        "csrf_token": csrf_of(client), "email": "owner@example.test",
        "password": wrong}).status_code == 401
    assert client.get("/api/v1/programs", headers={**api.headers, **headers}).status_code == 200
    assert client.post("/careless", headers={**api.headers, **headers}, json={
        "database": db_url, "service_account": info, "password": wrong}).status_code == 200
    assert client.post("/wallet/v1/log", headers=headers, json={"logs": [
        f"Web service error: pushToken={push_token} authenticationToken: {auth_token}, "
        f"Authorization: ApplePass {auth_token}"]}).status_code == 200

    def leaky() -> int:
        raise RuntimeError(f"cannot reach {db_url} as {info['client_email']} with "
                           f"{json.dumps(info)}")

    monkeypatch.setitem(jobs.SWEEPS, "leaky", jobs.Sweep("leaky", leaky, 60.0))
    touch(app, member["id"])
    with app.app_context():
        assert run_sweep_now("leaky", RID) == 0
        assert run_sweep_now(PASS_UPDATES, RID) >= 1
    assert apns.tokens() == [push_token]
    assert value(scrape(app), "walletpass_job_failures_total", sweep="leaky") == 1
    err = capsys.readouterr().err
    lines = json_lines(err)  # every line is JSON
    assert any(line["logger"] == "app.careless" for line in lines)
    assert any("Traceback" in line.get("exc", "") for line in lines if carries(line, RID))
    assert any(line["logger"] == "apple_device_log" or "device reports" in line["message"]
               for line in lines)
    for secret in (key, key[3:20], wrong, "Db-Passw0rd-42", key_body, push_token, auth_token,
                   "correct horse battery"):
        assert secret not in err, f"a secret reached the log: {secret[:6]}..."
    assert RID in err
