"""The update pipeline: changes reach every registered device through the APNs stand-in."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import threading
import time
import zipfile
from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select, update

from app.extensions import db
from app.jobs import PASS_UPDATES, run_sweep_now, start_embedded_worker
from app.models import AppleDevice, AppleRegistration, Member
from app.models.base import utcnow
from tests.conftest import Api, apns_settings
from tests.test_webservice import Device, auth_token, pass_type_id, touch


@pytest.fixture
def app(make_app: Any, apns: Any, apns_tls: dict[str, Path]) -> Flask:
    """The app, pushing to the stand-in."""
    return make_app(**apns_settings(apns, apns_tls))


def sweep(app: Flask) -> int:
    """Run the pass_updates sweep once."""
    with app.app_context():
        return run_sweep_now(PASS_UPDATES)


def add_devices(app: Flask, member_ids: list[int], prefix: str = "") -> dict[int, str]:
    """Register one device per member straight in the database; returns member -> token."""
    tokens = {}
    with app.app_context():
        for mid in member_ids:
            token = f"{prefix}{mid:08x}".ljust(64, "0")
            device = AppleDevice(library_id=f"dev{prefix}{mid}", push_token=token)
            version = db.session.get(Member, mid).pass_version
            db.session.add(AppleRegistration(device=device, member_id=mid,
                                             pushed_version=version, fetched_version=version))
            tokens[mid] = token
        db.session.commit()
    return tokens


def enroll(api: Api, program: dict[str, Any], count: int) -> list[int]:
    """Enroll `count` members; returns their ids."""
    ids = []
    for i in range(count):
        resp = api.post(f"/programs/{program['id']}/members", {"email": f"m{i}@example.test"})
        ids.append(resp.get_json()["id"])
    return ids


def registrations(app: Flask) -> list[AppleRegistration]:
    """Every registration, loaded (detached) for assertions."""
    with app.app_context():
        rows = list(db.session.scalars(select(AppleRegistration).order_by(AppleRegistration.id)))
        db.session.expunge_all()
        return rows


def lagging(app: Flask) -> int:
    """Registrations whose device has not been pushed the latest version."""
    with app.app_context():
        return int(db.session.scalar(
            select(func.count()).select_from(AppleRegistration)
            .join(Member, Member.id == AppleRegistration.member_id)
            .where(Member.pass_version > AppleRegistration.pushed_version)) or 0)


def test_device_flow_end_to_end(make_app: Any, apns: Any, apns_tls: dict[str, Path]) -> None:
    app = make_app(**apns_settings(apns, apns_tls, EMBEDDED_WORKER=True,
                                   WORKER_POLL_SECONDS=0.2))
    worker = start_embedded_worker(app)
    assert worker is not None
    try:
        _walk_device_flow(app, app.test_client(), apns)
    finally:
        worker.stop()


def _walk_device_flow(app: Flask, client: FlaskClient, apns: Any) -> None:
    """Register, change, receive the push, list, fetch, 304, unregister."""
    from tests.conftest import new_api_key

    api = Api(client, new_api_key(app))
    program = api.post("/programs", {"name": "Cafe", "template": "cafe"}).get_json()
    member = api.post(f"/programs/{program['id']}/members", {"email": "a@example.test"}
                      ).get_json()
    serial, token = member["serial_number"], auth_token(app, member["id"])
    phone = Device(client, pass_type_id(app))
    assert phone.register(serial, token).status_code == 201
    first = phone.serials()
    assert first.get_json()["serialNumbers"] == [serial]
    have = phone.fetch(serial, token)
    assert have.status_code == 200
    time.sleep(1.05)  # tags and Last-Modified have one-second precision
    assert apns.pushes == []

    earned = api.post(f"/members/{member['id']}/earn", {"points": 5})  # at the till
    assert earned.status_code == 201, earned.get_json()
    assert apns.wait_for(1, timeout=5)
    [push] = apns.pushes
    assert push.token == phone.push_token and push.topic == pass_type_id(app)
    assert push.body == b"{}"

    listed = phone.serials(first.get_json()["lastUpdated"])
    assert listed.status_code == 200 and listed.get_json()["serialNumbers"] == [serial]
    new = phone.fetch(serial, token, since=have.headers["Last-Modified"])
    assert new.status_code == 200
    pass_json = json.loads(zipfile.ZipFile(io.BytesIO(new.data)).read("pass.json"))
    [points] = pass_json["storeCard"]["primaryFields"]
    assert points["value"] == 5 and "%@" in points["changeMessage"]
    assert phone.fetch(serial, token, since=new.headers["Last-Modified"]).status_code == 304

    assert api.patch(f"/programs/{program['id']}", {"background_color": "#112233"}
                     ).status_code == 200  # a design change
    assert apns.wait_for(2, timeout=8)
    assert phone.unregister(serial, token).status_code == 200
    touch(app, member["id"])
    time.sleep(0.6)
    assert len(apns.pushes) == 2
    [reg] = registrations(app) or [None]
    assert reg is None


def test_program_wide_change_pushes_every_device(app: Flask, api: Api, apns: Any,
                                                 program: dict[str, Any]) -> None:
    ids = enroll(api, program, 30)
    tokens = add_devices(app, ids)
    api.patch(f"/programs/{program['id']}", {"background_color": "#abcdef"})
    assert sweep(app) == 30
    assert sorted(apns.tokens()) == sorted(tokens.values())
    assert lagging(app) == 0
    assert sweep(app) == 0  # nothing left: no second push
    rows = registrations(app)
    assert all(r.push_status == 200 and r.pushed_at is not None for r in rows)


def test_a_batch_records_each_device_its_own_version(app: Flask, api: Api, apns: Any,
                                                     program: dict[str, Any],
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """One claim of many rows (held by several UPDATEs on SQLite), pushed, then one record of
    several versions: each registration gets its claimed version, or keeps a newer one."""
    from app import leases
    from app.updates.apple import claim_batch, push, record

    monkeypatch.setattr(leases, "IDS_PER_UPDATE", 2)
    ids = enroll(api, program, 5)
    add_devices(app, ids)
    for n, mid in enumerate(ids):
        for _ in range(n + 1):
            touch(app, mid)
    with app.app_context():
        claims = claim_batch(10, lease=60)
        assert len(claims) == 5 and claim_batch(10, lease=60) == []  # every row held
        assert len({c.version for c in claims}) == 5
        newer = claims[0].reg_id
        db.session.execute(update(AppleRegistration).where(AppleRegistration.id == newer)
                           .values(pushed_version=99))
        db.session.commit()
        record(claims, push(claims), app.config["SETTINGS"])
    assert len(apns.pushes) == 5
    for reg in registrations(app):
        claimed = next(c.version for c in claims if c.reg_id == reg.id)
        assert reg.pushed_version == (99 if reg.id == newer else claimed)
        assert reg.push_status == 200 and reg.attempts == 0 and reg.next_attempt_at is not None
    assert lagging(app) == 0


def test_bursts_coalesce_into_the_latest_version(app: Flask, member: dict[str, Any],
                                                 apns: Any) -> None:
    add_devices(app, [member["id"]])
    for _ in range(10):
        touch(app, member["id"])
        sweep(app)
    assert len(apns.pushes) == 1  # the rest wait for the coalescing window
    with app.app_context():
        db.session.execute(update(AppleRegistration).values(next_attempt_at=utcnow()))
        db.session.commit()
    sweep(app)
    assert len(apns.pushes) == 2
    [reg] = registrations(app)
    with app.app_context():
        assert reg.pushed_version == db.session.get(Member, member["id"]).pass_version


def test_one_push_per_device_with_several_changed_passes(app: Flask, api: Api, apns: Any,
                                                         program: dict[str, Any]) -> None:
    ids = enroll(api, program, 3)
    with app.app_context():
        device = AppleDevice(library_id="shared", push_token="ee" * 32)
        db.session.add_all([AppleRegistration(device=device, member_id=m, pushed_version=1)
                            for m in ids])
        db.session.commit()
    for m in ids:
        touch(app, m)
    sweep(app)
    assert apns.tokens() == ["ee" * 32]
    assert lagging(app) == 0


def test_apns_answers_update_registrations(app: Flask, api: Api, apns: Any,
                                           program: dict[str, Any], caplog: Any) -> None:
    ids = enroll(api, program, 6)
    tokens = add_devices(app, ids)
    bad, gone, back, busy, broken, refused = (tokens[m] for m in ids)
    later = int((time.time() + 60) * 1000)
    apns.answer(bad, 400, "BadDeviceToken")
    apns.answer(gone, 410, "Unregistered", timestamp=later)
    apns.answer(back, 410, "Unregistered", timestamp=int((time.time() - 3600) * 1000))
    apns.answer(busy, 429, "TooManyRequests")
    apns.answer(broken, 500, "InternalServerError")
    apns.answer(refused, 403, "BadCertificate")
    for m in ids:
        touch(app, m)
    sweep(app)
    by_token = {}
    with app.app_context():
        for reg in db.session.scalars(select(AppleRegistration)):
            by_token[reg.device.push_token] = (reg.push_status, reg.push_reason, reg.attempts,
                                               reg.next_attempt_at > utcnow())
        devices = set(db.session.scalars(select(AppleDevice.push_token)))
    assert bad not in devices and gone not in devices
    assert by_token[back][:3] == (410, "Unregistered", 1)  # registered after the timestamp
    assert by_token[busy] == (429, "TooManyRequests", 1, True)
    assert by_token[broken] == (500, "InternalServerError", 1, True)
    assert by_token[refused] == (403, "BadCertificate", 1, True)
    assert "REFUSED OUR CERTIFICATE" in caplog.text
    assert sweep(app) == 0  # backing off: nothing is due yet

    for token in (busy, broken, refused, back):
        apns.answer(token, 200)
    with app.app_context():
        db.session.execute(update(AppleRegistration).values(next_attempt_at=None))
        db.session.commit()
    assert sweep(app) == 4
    assert lagging(app) == 0


def test_concurrent_sweeps_push_each_device_once(app: Flask, api: Api, apns: Any,
                                                 program: dict[str, Any]) -> None:
    ids = enroll(api, program, 40)
    add_devices(app, ids)
    apns.delay = 0.02
    api.patch(f"/programs/{program['id']}", {"background_color": "#010203"})
    threads = [threading.Thread(target=sweep, args=(app,)) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    counts = Counter(apns.tokens())
    assert len(counts) == 40 and set(counts.values()) == {1}
    assert lagging(app) == 0


def test_killed_worker_loses_no_push(app: Flask, api: Api, apns: Any, program: dict[str, Any],
                                     database_url: str, tmp_path: Path,
                                     cert_paths: dict[str, Path],
                                     apns_tls: dict[str, Path]) -> None:
    ids = enroll(api, program, 120)
    tokens = add_devices(app, ids)
    api.patch(f"/programs/{program['id']}", {"background_color": "#0a0b0c"})
    apns.delay = 0.03
    worker = _sweep_process(database_url, tmp_path, cert_paths, apns, apns_tls)
    try:
        assert apns.wait_for(25, timeout=60), worker.stderr
    finally:
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait(10)
    assert lagging(app) > 0  # it died mid-fan-out
    apns.delay = 0.0
    time.sleep(1.2)  # the dead worker's claim lease runs out
    sweep(app)
    assert set(apns.tokens()) == set(tokens.values())
    assert lagging(app) == 0


def _sweep_process(database_url: str, tmp_path: Path, cert_paths: dict[str, Path],
                   apns: Any, apns_tls: dict[str, Path]) -> subprocess.Popen[bytes]:
    """`walletpass sweep` in a child process, with small batches and a 1 s claim lease."""
    env = {**os.environ,
           "WALLETPASS_DATA_DIR": str(tmp_path / "worker"),
           "WALLETPASS_DATABASE_URL": database_url,
           "WALLETPASS_SECRET_KEY": "test",
           "WALLETPASS_APPLE_CERT": str(cert_paths["cert"]),
           "WALLETPASS_APPLE_KEY": str(cert_paths["key"]),
           "WALLETPASS_APPLE_WWDR": str(cert_paths["wwdr"]),
           "WALLETPASS_APPLE_P12": "",
           "WALLETPASS_CELERY_BROKER_URL": "",
           "WALLETPASS_APNS_URL": apns.url,
           "WALLETPASS_APNS_CA_FILE": str(apns_tls["ca"]),
           "WALLETPASS_APNS_CONCURRENCY": "4",
           "WALLETPASS_PUSH_BATCH_SIZE": "10",
           "WALLETPASS_PUSH_LEASE_SECONDS": "1"}
    root = Path(__file__).resolve().parent.parent
    return subprocess.Popen([sys.executable, "-c", "from app.cli import main; main()",
                             "sweep"], env=env, cwd=root, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)


def test_lease_expiry_returns_claimed_rows(app: Flask, member: dict[str, Any],
                                          apns: Any) -> None:
    from app.updates.apple import claim_batch

    add_devices(app, [member["id"]])
    touch(app, member["id"])
    with app.app_context():
        assert len(claim_batch(10, lease=60)) == 1  # a worker claims it, then dies
        assert claim_batch(10, lease=60) == []
        db.session.execute(update(AppleRegistration).values(
            next_attempt_at=utcnow() - timedelta(seconds=1)))
        db.session.commit()
    sweep(app)
    assert len(apns.pushes) == 1 and lagging(app) == 0


def test_member_devices_api(app: Flask, client: FlaskClient, api: Api, other_api: Api,
                            member: dict[str, Any], apns: Any) -> None:
    phone = Device(client, pass_type_id(app))
    token = auth_token(app, member["id"])
    phone.register(member["serial_number"], token)
    touch(app, member["id"])
    sweep(app)
    resp = api.get(f"/members/{member['id']}/devices")
    assert resp.status_code == 200
    body = resp.get_json()
    [dev] = body["devices"]
    assert dev["channel"] == dev["wallet"] == "apple"
    assert len(dev["device"]) == 16 and phone.library_id not in resp.text
    assert len(dev["push_token_hint"]) == 8 and phone.push_token[:8] not in resp.text
    assert dev["push_status"] == 200 and dev["pushed_version"] == body["pass_version"]
    assert dev["registered_at"] and dev["pushed_at"] and not dev["up_to_date"]
    phone.serials()
    phone.fetch(member["serial_number"], token)
    [dev] = api.get(f"/members/{member['id']}/devices").get_json()["devices"]
    assert dev["up_to_date"] and dev["fetched_at"]
    assert dev["fetched_version"] == body["pass_version"]
    assert other_api.get(f"/members/{member['id']}/devices").status_code == 404


def test_stale_members_api(app: Flask, client: FlaskClient, api: Api, other_api: Api,
                           program: dict[str, Any], apns: Any) -> None:
    ids = enroll(api, program, 3)
    add_devices(app, ids)
    fresh, stale, recent = ids
    for m in ids:
        touch(app, m)
    with app.app_context():  # two changes are an hour old, one is recent
        old = utcnow() - timedelta(minutes=61)
        db.session.execute(update(Member).where(Member.id.in_([fresh, stale]))
                           .values(pass_updated_at=old))
        db.session.commit()
    phone = Device(client, pass_type_id(app), library_id=f"dev{fresh}")
    phone.serials()
    phone.fetch(api.get(f"/members/{fresh}").get_json()["serial_number"], auth_token(app, fresh))
    resp = api.get(f"/programs/{program['id']}/stale-members", query_string={"minutes": 30})
    assert resp.status_code == 200
    assert [m["id"] for m in resp.get_json()["members"]] == [stale]
    assert resp.get_json()["members"][0]["stale_devices"] == 1
    assert resp.get_json()["members"][0]["channel"] == "apple"
    everyone = api.get(f"/programs/{program['id']}/stale-members?minutes=120").get_json()
    assert everyone["members"] == []
    assert recent not in [m["id"] for m in everyone["members"]]
    for bad in ("0", "abc", "-5", "99999999"):
        assert api.get(f"/programs/{program['id']}/stale-members?minutes={bad}"
                       ).status_code == 422
    assert other_api.get(f"/programs/{program['id']}/stale-members").status_code == 404


# --- channels: one registration each, taking turns within a sweep ---------------------------


class BackloggedChannel:
    """A second channel that always has a full batch waiting and is slow to deliver it."""

    name = "backlogged"

    def __init__(self, seconds_per_batch: float) -> None:
        self.seconds_per_batch = seconds_per_batch
        self.batches = 0
        self.apple_pushes_seen: list[int] = []

    def batch_size(self, settings: Any) -> int:
        """A small batch."""
        return 10

    def run_batch(self, settings: Any) -> int:
        """Take a while, and claim a full batch every time (the backlog never ends)."""
        time.sleep(self.seconds_per_batch)
        self.batches += 1
        return 10


@pytest.fixture
def backlogged_first() -> Any:
    """Register a backlogged channel, with its turn before Apple's; removed afterwards."""
    import app.updates.pipeline  # noqa: F401  (registers the real channels)
    from app.updates import CHANNELS, register_channel

    before = dict(CHANNELS)
    channel = BackloggedChannel(0.05)
    CHANNELS.clear()
    register_channel(channel)  # adding a channel is this one call
    CHANNELS.update(before)
    yield channel
    CHANNELS.clear()
    CHANNELS.update(before)


def test_a_backlogged_channel_does_not_starve_another(
        app: Flask, api: Api, apns: Any, program: dict[str, Any], backlogged_first: Any,
        monkeypatch: pytest.MonkeyPatch) -> None:
    from app.updates import CHANNELS, pipeline

    assert list(CHANNELS) == ["backlogged", "apple", "google"]
    ids = enroll(api, program, 7)
    tokens = add_devices(app, ids)
    api.patch(f"/programs/{program['id']}", {"background_color": "#abcdef"})
    monkeypatch.setattr(pipeline, "SWEEP_BUDGET", 1.5)
    app.config["SETTINGS"].PUSH_BATCH_SIZE = 2  # Apple needs 4 batches for its 7 devices
    started = time.monotonic()
    claimed = sweep(app)
    elapsed = time.monotonic() - started
    assert sorted(apns.tokens()) == sorted(tokens.values())  # every Apple device, this sweep
    assert lagging(app) == 0
    assert backlogged_first.batches >= 4  # both channels had their turns
    assert claimed == 7 + 10 * backlogged_first.batches
    assert 1.4 <= elapsed < 5  # the backlog kept the sweep busy until its budget ran out


def test_a_failing_channel_is_skipped_for_the_sweep(
        app: Flask, api: Api, apns: Any, program: dict[str, Any], backlogged_first: Any,
        monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(settings: Any) -> int:
        raise RuntimeError("remote service down")

    monkeypatch.setattr(backlogged_first, "run_batch", broken)
    ids = enroll(api, program, 3)
    tokens = add_devices(app, ids)
    api.patch(f"/programs/{program['id']}", {"background_color": "#abcdef"})
    assert sweep(app) == 3
    assert sorted(apns.tokens()) == sorted(tokens.values())


def test_the_sweep_registers_its_channels_in_one_place() -> None:
    import app.updates.pipeline  # noqa: F401  (imports app.updates.channels)
    from app.updates import CHANNELS
    from app.updates.apple import AppleChannel
    from app.updates.google import GoogleChannel

    assert list(CHANNELS) == ["apple", "google"]
    assert isinstance(CHANNELS["apple"], AppleChannel)
    assert isinstance(CHANNELS["google"], GoogleChannel)
