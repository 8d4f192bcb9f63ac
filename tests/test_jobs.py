"""The background worker: sweeps in their own threads, and `walletpass worker` as a process."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from app import jobs
from tests.conftest import Api, apns_settings, new_api_key
from tests.test_updates import add_devices, enroll, lagging


def test_a_stuck_sweep_does_not_hold_up_another(app: Flask,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    release = threading.Event()
    fast_ran = threading.Event()

    def stuck() -> int:
        release.wait(10)
        return 0

    def fast() -> int:
        fast_ran.set()
        return 1

    monkeypatch.setattr(jobs, "SWEEPS", {"stuck": jobs.Sweep("stuck", stuck, 60),
                                         "fast": jobs.Sweep("fast", fast, 60)})
    worker = jobs.EmbeddedWorker(app, poll=60)
    worker.start()
    try:
        fast_ran.clear()
        worker.dispatch(["stuck", "fast"])
        assert fast_ran.wait(5), "the fast sweep waited for the stuck one"
    finally:
        release.set()
        worker.stop()
    assert not worker.is_alive()


def test_worker_command_pushes_changes(make_app: Any, database_url: str, tmp_path: Path,
                                       cert_paths: dict[str, Path], apns: Any,
                                       apns_tls: dict[str, Path]) -> None:
    """`walletpass worker`, a separate process, sends the pushes the API's changes call for."""
    settings = apns_settings(apns, apns_tls)
    app = make_app(**settings)
    api = Api(app.test_client(), new_api_key(app))
    program = api.post("/programs", {"name": "Cafe", "template": "cafe"}).get_json()
    ids = enroll(api, program, 3)
    tokens = add_devices(app, ids)
    env = {k: v for k, v in os.environ.items() if not k.startswith("WALLETPASS_")}
    env.update({"WALLETPASS_DATA_DIR": str(tmp_path / "wdata"),
                "WALLETPASS_DATABASE_URL": database_url,
                "WALLETPASS_APPLE_CERT": str(cert_paths["cert"]),
                "WALLETPASS_APPLE_KEY": str(cert_paths["key"]),
                "WALLETPASS_APPLE_WWDR": str(cert_paths["wwdr"]),
                "WALLETPASS_WORKER_POLL_SECONDS": "0.2",
                **{f"WALLETPASS_{k}": str(v) for k, v in settings.items()}})
    proc = subprocess.Popen([sys.executable, "-c", "from app.cli import main; main()",
                             "worker"], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    try:
        assert api.patch(f"/programs/{program['id']}", {"points_label": "Beans"}
                         ).status_code == 200
        assert apns.wait_for(3, timeout=30)
        deadline = time.monotonic() + 30
        while lagging(app) and time.monotonic() < deadline:
            time.sleep(0.1)  # the worker records APNs' answers after they arrive
        assert lagging(app) == 0
    finally:
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=30)
    assert proc.returncode == 0, out
    assert set(apns.tokens()) == set(tokens.values())
