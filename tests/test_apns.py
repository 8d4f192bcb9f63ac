"""The APNs client against a real HTTP/2 TLS stand-in that requires the client certificate."""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from app.config import Settings
from app.wallet.apple.apns import (
    ApnsAnswer,
    ApnsClient,
    ApnsConfig,
    Outcome,
    apns_config,
    classify,
)
from app.wallet.apple.certs import create_dev_identity, load_identity


def client_config(apns: Any, apns_tls: dict[str, Path], paths: dict[str, Path],
                  **settings: Any) -> ApnsConfig:
    """A client configuration for the stand-in with the given dev certificates."""
    values = Settings(APNS_URL=apns.url, APNS_CA_FILE=str(apns_tls["ca"]), APNS_TIMEOUT=5.0)
    for key, value in settings.items():
        setattr(values, key, value)
    identity = load_identity(cert_path=paths["cert"], key_path=paths["key"],
                             wwdr_path=paths["wwdr"])
    return apns_config(values, identity)


@pytest.fixture
def client(apns: Any, apns_tls: dict[str, Path], cert_paths: dict[str, Path]) -> Any:
    """A client for the stand-in, closed after the test."""
    c = ApnsClient(client_config(apns, apns_tls, cert_paths))
    yield c
    c.close()


def test_push_is_http2_post_with_topic_and_empty_json(client: ApnsClient, apns: Any) -> None:
    [answer] = client.send(["ab" * 32])
    assert answer == ApnsAnswer("ab" * 32, 200)
    [push] = apns.pushes
    assert push.method == "POST" and push.http_version == "2"
    assert push.topic == client.config.topic and push.topic.startswith("pass.")
    assert push.body == b"{}"


def test_answers_are_parsed_and_classified(client: ApnsClient, apns: Any) -> None:
    apns.answer("01" * 32, 400, "BadDeviceToken")
    apns.answer("02" * 32, 400, "DeviceTokenNotForTopic")
    apns.answer("03" * 32, 410, "Unregistered", timestamp=1_700_000_000_000)
    apns.answer("04" * 32, 429, "TooManyRequests")
    apns.answer("05" * 32, 500, "InternalServerError")
    apns.answer("06" * 32, 503, "ServiceUnavailable")
    apns.answer("07" * 32, 403, "BadCertificate")
    apns.answer("08" * 32, 400, "BadTopic")
    tokens = [f"{i:02d}" * 32 for i in range(1, 10)]
    answers = {a.token: a for a in client.send(tokens)}
    assert answers["03" * 32].timestamp == 1_700_000_000_000
    assert answers["01" * 32].reason == "BadDeviceToken"
    outcomes = [classify(answers[t]) for t in tokens]
    assert outcomes == [Outcome.BAD_TOKEN, Outcome.BAD_TOKEN, Outcome.UNREGISTERED,
                        Outcome.RETRY, Outcome.RETRY, Outcome.RETRY, Outcome.CERTIFICATE,
                        Outcome.REJECTED, Outcome.DELIVERED]


def test_many_in_flight_on_one_long_lived_connection(client: ApnsClient, apns: Any) -> None:
    apns.delay = 0.2
    tokens = [f"{i:064x}" for i in range(300)]
    started = time.monotonic()
    answers = client.send(tokens)
    elapsed = time.monotonic() - started
    assert sorted(a.token for a in answers) == sorted(tokens)
    assert all(a.status == 200 for a in answers)
    assert elapsed < 0.2 * 300 / 10  # concurrent, not one after another
    client.send(["ff" * 32])
    assert len({p.client_port for p in apns.pushes}) == 1


def test_every_request_times_out(apns: Any, apns_tls: dict[str, Path],
                                 cert_paths: dict[str, Path]) -> None:
    apns.delay = 3.0
    c = ApnsClient(client_config(apns, apns_tls, cert_paths, APNS_TIMEOUT=0.5))
    started = time.monotonic()
    [answer] = c.send(["aa" * 32])
    c.close()
    assert answer.status == 0 and answer.error
    assert classify(answer) is Outcome.RETRY
    assert time.monotonic() - started < 2.5


def test_stand_in_requires_a_client_certificate_from_the_chain(
        apns: Any, apns_tls: dict[str, Path], tmp_path: Path) -> None:
    stranger = create_dev_identity(tmp_path / "other")  # a different, untrusted root
    c = ApnsClient(client_config(apns, apns_tls, stranger))
    [answer] = c.send(["aa" * 32])
    c.close()
    assert answer.status == 0 and classify(answer) is Outcome.RETRY
    assert apns.pushes == []


def test_unreachable_server_is_retry(apns: Any, apns_tls: dict[str, Path],
                                     cert_paths: dict[str, Path]) -> None:
    config = replace(client_config(apns, apns_tls, cert_paths), base_url="https://127.0.0.1:9")
    c = ApnsClient(config)
    answers = c.send(["aa" * 32, "bb" * 32])
    c.close()
    assert [classify(a) for a in answers] == [Outcome.RETRY, Outcome.RETRY]


def test_config_never_shows_the_key(apns: Any, apns_tls: dict[str, Path],
                                    cert_paths: dict[str, Path]) -> None:
    config = client_config(apns, apns_tls, cert_paths)
    assert "PRIVATE" not in repr(config) and "BEGIN" not in repr(config)


def test_reconnects_after_the_server_closes_the_connection(
        client: ApnsClient, apns: Any, apns_tls: dict[str, Path],
        cert_paths: dict[str, Path]) -> None:
    from tests.apns_standin import ApnsStandIn

    assert client.send(["aa" * 32])[0].status == 200
    port = int(apns.url.rsplit(":", 1)[1])
    apns.stop(timeout=1)  # APNs closes idle connections now and then
    again = ApnsStandIn(apns_tls, client_ca=cert_paths["root"])
    again.start(port)
    try:
        answers = client.send(["bb" * 32, "cc" * 32])
        assert [a.status for a in answers] == [200, 200], answers
        assert sorted(again.tokens()) == ["bb" * 32, "cc" * 32]
    finally:
        client.close()
        again.stop()
