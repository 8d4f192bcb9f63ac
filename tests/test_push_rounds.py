"""The Apple rounds of a sweep, overlapped: a round is pushed while the one before is
recorded and the next is claimed; every device still gets exactly one push, and a failure
or the end of the sweep's time leaves every row recorded, released or leased for a retry."""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from app.extensions import db
from app.models import AppleDevice, AppleRegistration, Member
from app.models.base import utcnow
from app.updates import apple, pipeline
from app.wallet.apple.apns import ApnsAnswer, ApnsClient
from tests.conftest import Api, apns_settings
from tests.test_updates import add_devices, enroll, lagging, sweep


@pytest.fixture
def app(make_app: Any, apns: Any, apns_tls: dict[str, Path],
        monkeypatch: pytest.MonkeyPatch) -> Flask:
    """The app, pushing to the stand-in in rounds of 4 (the first one too), 1 s leases."""
    monkeypatch.setattr(apple, "FIRST_ROUND", 4)
    return make_app(**apns_settings(apns, apns_tls, PUSH_BATCH_SIZE=4, PUSH_LEASE_SECONDS=1.0))


def states(app: Flask) -> dict[str, set[str]]:
    """Device tokens by the state of their registration: delivered (the latest version
    pushed), leased (held by a claim) or due (waiting, free to be claimed now)."""
    R = AppleRegistration
    out: dict[str, set[str]] = {"delivered": set(), "leased": set(), "due": set()}
    with app.app_context():
        now = utcnow()
        for token, pushed, version, next_at in db.session.execute(
                select(AppleDevice.push_token, R.pushed_version, Member.pass_version,
                       R.next_attempt_at).join(R.device).join(R.member)):
            state = ("delivered" if pushed == version else
                     "leased" if next_at is not None and next_at > now else "due")
            out[state].add(token)
    return out


def change_every_card(api: Api, program: dict[str, Any]) -> None:
    """A program-wide design change (every member's card changes)."""
    resp = api.patch(f"/programs/{program['id']}", {"background_color": "#0a0b0c"})
    assert resp.status_code == 200, resp.get_json()


def test_rounds_overlap_and_push_every_device_exactly_once(
        app: Flask, api: Api, apns: Any, program: dict[str, Any],
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(apple, "FIRST_ROUND", 1)  # rounds of 1, 2, then 4
    tokens = add_devices(app, enroll(api, program, 30))
    held_while_pushing: list[int] = []
    apns.delay = 0.05
    apns.on_push = lambda push: held_while_pushing.append(len(states(app)["leased"]))
    change_every_card(api, program)
    assert sweep(app) == 30
    counts = Counter(apns.tokens())
    assert set(counts) == set(tokens.values()) and set(counts.values()) == {1}
    assert lagging(app) == 0
    # While a round of at most 4 was pushed, the next round was already claimed.
    assert max(held_while_pushing) > 4
    assert states(app)["delivered"] == set(tokens.values())


def test_a_push_that_fails_mid_sweep_stops_it_and_every_row_comes_back_once(
        app: Flask, api: Api, apns: Any, program: dict[str, Any],
        monkeypatch: pytest.MonkeyPatch) -> None:
    tokens = add_devices(app, enroll(api, program, 12))
    sent: list[list[str]] = []
    real_send = ApnsClient.send

    def send(self: ApnsClient, batch: list[str]) -> list[ApnsAnswer]:
        sent.append(list(batch))
        if len(sent) == 2:
            raise RuntimeError("the push thread broke before sending round 2")
        return real_send(self, batch)

    monkeypatch.setattr(ApnsClient, "send", send)
    change_every_card(api, program)
    assert sweep(app) == 4  # round 1; round 2 failed; the sweep stopped
    first, failed = set(sent[0]), set(sent[1])
    after = states(app)
    assert after["delivered"] == first == set(apns.tokens())  # round 1 recorded
    assert after["leased"] == failed  # held until its lease ends: never pushed twice at once
    assert after["due"] == set(tokens.values()) - first - failed  # round 3 given back at once
    assert sweep(app) == 4 and states(app)["leased"] == failed
    time.sleep(1.1)  # the failed round's lease runs out
    assert sweep(app) == 4
    counts = Counter(apns.tokens())
    assert set(counts) == set(tokens.values()) and set(counts.values()) == {1}
    assert lagging(app) == 0


def test_a_record_that_fails_mid_sweep_is_retried_before_the_sweep_ends(
        app: Flask, api: Api, apns: Any, program: dict[str, Any],
        monkeypatch: pytest.MonkeyPatch) -> None:
    tokens = add_devices(app, enroll(api, program, 12))
    calls = 0
    real_record = apple.record

    def record(claims: list[apple.Claim], answers: dict[str, ApnsAnswer],
               settings: Any) -> None:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise RuntimeError("the database went away while round 2 was pushed")
        real_record(claims, answers, settings)

    monkeypatch.setattr(apple, "record", record)
    change_every_card(api, program)
    sweep(app)
    after = states(app)
    assert len(apns.tokens()) == 8  # rounds 1 and 2 went out before the sweep stopped
    assert after["delivered"] == set(apns.tokens())  # both recorded on the way out
    assert after["leased"] == set()  # so neither is pushed again when a lease ends
    assert len(after["due"]) == 4  # round 3 was never claimed
    assert sweep(app) == 4
    counts = Counter(apns.tokens())
    assert set(counts) == set(tokens.values()) and set(counts.values()) == {1}


def test_a_sweep_out_of_time_gives_back_the_round_it_claimed_ahead(
        app: Flask, api: Api, apns: Any, program: dict[str, Any],
        monkeypatch: pytest.MonkeyPatch) -> None:
    tokens = add_devices(app, enroll(api, program, 12))
    claimed: list[int] = []
    real_claim = apple.claim_batch

    def claim_batch(*args: Any) -> list[apple.Claim]:
        claims = real_claim(*args)
        claimed.append(len(claims))
        return claims

    monkeypatch.setattr(apple, "claim_batch", claim_batch)
    monkeypatch.setattr(pipeline, "SWEEP_BUDGET", 1.0)
    app.config["SETTINGS"].PUSH_LEASE_SECONDS = 60.0  # the round claimed ahead stays held
    apns.delay = 1.5  # the first round outlasts the sweep's time
    change_every_card(api, program)
    started = time.monotonic()
    assert sweep(app) == 4
    assert time.monotonic() - started < 5
    assert claimed == [4, 4]  # round 2 was claimed while round 1 was pushed
    after = states(app)
    assert len(after["delivered"]) == 4 and after["leased"] == set()  # round 2 given back
    apns.delay = 0.0
    monkeypatch.setattr(pipeline, "SWEEP_BUDGET", 30.0)
    assert sweep(app) == 8
    counts = Counter(apns.tokens())
    assert set(counts) == set(tokens.values()) and set(counts.values()) == {1}


def test_a_push_thread_is_waited_for_no_longer_than_its_bound(
        app: Flask, apns: Any) -> None:
    apns.delay = 1.0
    with app.app_context():
        pusher = apple.Pusher(apple.current_client(), ["ab" * 32])
    started = time.monotonic()
    with pytest.raises(TimeoutError):
        pusher.result(timeout=0.2)
    assert time.monotonic() - started < 0.8
    assert pusher.result(timeout=10) == [ApnsAnswer("ab" * 32, 200)]
