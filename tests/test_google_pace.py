"""The Google rate limit holds for the whole deployment: workers share one pace in the database."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any

from flask import Flask

from app.updates.google_pace import Pacer, reserve
from app.wallet.google.client import GoogleClient, Outcome, classify
from app.wallet.google.issuer import SCOPE
from tests.google_standin import GoogleStandIn, service_account_info


def test_reservations_are_consecutive(app: Flask) -> None:
    with app.app_context():
        first = reserve(5, rate=10.0, now=lambda: 1000.0)
        second = reserve(5, rate=10.0, now=lambda: 1000.0)
        later = reserve(1, rate=10.0, now=lambda: 2000.0)
    assert (first, second, later) == (1000.0, 1000.5, 2000.0)


def test_two_workers_share_the_rate_and_get_no_429(app: Flask, google: GoogleStandIn,
                                                    tmp_path: Path) -> None:
    info, _ = service_account_info(google.token_uri)
    (tmp_path / "sa.json").write_text(json.dumps(info))
    answers: list[Any] = []

    def worker(n: int) -> None:
        client = GoogleClient(info, google.url, timeout=5, scope=SCOPE)
        with app.app_context():
            pacer = Pacer(20.0)
            for i in range(n):
                answers.append(client.get("loyaltyObject", f"1.w{threading.get_ident()}-{i}",
                                          pace=pacer.wait))

    started = time.monotonic()
    threads = [threading.Thread(target=worker, args=(25,)) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - started
    assert google.throttled == 0
    assert [classify(a) for a in answers] == [Outcome.NOT_FOUND] * 50
    assert elapsed >= 49 / 18 - 0.1  # 50 calls at 18 (20 less headroom) a second, together
