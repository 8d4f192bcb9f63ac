"""The same update pipeline under Celery, with a real redis-server on loopback as the broker."""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from app.jobs import PASS_UPDATES, run_sweep
from tests.conftest import apns_settings
from tests.net import free_port, wait_port
from tests.test_updates import add_devices, enroll, lagging
from tests.test_webservice import touch


@pytest.fixture
def redis_url(tmp_path: Path) -> Iterator[str]:
    """A throwaway redis-server on a free loopback port (no persistence)."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.fail("redis-server is not installed: run `bash tests/setup_services.sh` first.")
    port = free_port()
    proc = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1",
                             "--save", "", "--appendonly", "no", "--dir", str(tmp_path)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_port(port, "redis-server")
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        proc.terminate()
        proc.wait(10)


@pytest.fixture
def app(make_app: Any, apns: Any, apns_tls: dict[str, Path], redis_url: str) -> Flask:
    """The app with Celery on the Redis broker, pushing to the stand-in."""
    return make_app(**apns_settings(apns, apns_tls, CELERY_BROKER_URL=redis_url))


def worker(app: Flask) -> Any:
    """A Celery worker running in a thread of this process (solo pool)."""
    from celery.contrib.testing.worker import start_worker

    return start_worker(app.extensions["celery"], pool="solo", perform_ping_check=False,
                        shutdown_timeout=10, loglevel="WARNING")


def test_beat_runs_the_pass_updates_sweep(app: Flask) -> None:
    schedule = app.extensions["celery"].conf.beat_schedule
    entry = schedule["sweep-pass_updates"]
    assert entry["task"] == "walletpass.run_sweep" and entry["args"] == ("pass_updates",)
    assert 0 < entry["schedule"] <= 5


def test_change_is_pushed_through_celery_and_redis(app: Flask, api: Any, apns: Any,
                                                   program: dict[str, Any]) -> None:
    ids = enroll(api, program, 5)
    tokens = add_devices(app, ids)
    with worker(app):
        touch(app, ids[0])  # after commit, wake() queues walletpass.run_sweep on Redis
        assert apns.wait_for(1, timeout=20)
        assert apns.tokens() == [tokens[ids[0]]]
        api.patch(f"/programs/{program['id']}", {"background_color": "#123456"})
        assert apns.wait_for(5, timeout=20)  # the four others at once
        _wait_until(lambda: lagging(app) == 1)  # the first waits out its coalescing window
        time.sleep(app.config["SETTINGS"].PUSH_COALESCE_SECONDS)
        run_sweep.delay(PASS_UPDATES)  # what beat sends every SWEEP_EVERY seconds
        _wait_until(lambda: lagging(app) == 0)
    assert len(apns.pushes) == 6
    assert set(apns.tokens()) == set(tokens.values())


def test_change_while_the_worker_is_down_is_pushed_when_it_starts(
        app: Flask, api: Any, apns: Any, program: dict[str, Any]) -> None:
    ids = enroll(api, program, 3)
    tokens = add_devices(app, ids)
    for m in ids:
        touch(app, m)
    time.sleep(0.3)
    assert apns.pushes == []
    with worker(app):
        assert apns.wait_for(3, timeout=20)
        _wait_until(lambda: lagging(app) == 0)
    assert sorted(apns.tokens()) == sorted(tokens.values())


def _wait_until(check: Any, timeout: float = 20.0) -> None:
    """Wait (bounded) until check() is true."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.05)
    assert check()
