"""The Google REST client and service-account loading, against the loopback stand-in."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.wallet.google.client import GoogleClient, Outcome, classify
from app.wallet.google.issuer import SCOPE, GoogleConfigError, load_service_account
from tests.google_standin import GoogleStandIn, Server, service_account_info


@pytest.fixture
def google() -> Iterator[GoogleStandIn]:
    """The stand-in, running."""
    server = Server()
    yield server.start()
    server.stop()


def client(google: GoogleStandIn, timeout: float = 5.0) -> GoogleClient:
    info, _ = service_account_info(google.token_uri)
    return GoogleClient(info, google.url, timeout=timeout, scope=SCOPE)


def test_token_is_fetched_once_and_calls_are_authorized(google: GoogleStandIn) -> None:
    c = client(google)
    assert classify(c.get("loyaltyClass", "1.nope")) is Outcome.NOT_FOUND
    body = {"id": "1.c", "issuerName": "Bean", "reviewStatus": "UNDER_REVIEW"}
    assert classify(c.insert("loyaltyClass", body)) is Outcome.OK
    assert classify(c.get("loyaltyClass", "1.c")) is Outcome.OK
    assert google.token_requests == 1
    assert google.resources["loyaltyClass"]["1.c"]["issuerName"] == "Bean"


def test_upsert_patches_on_409_and_inserts_on_404(google: GoogleStandIn) -> None:
    c = client(google)
    obj = {"id": "1.o", "classId": "1.c", "state": "ACTIVE"}
    assert classify(c.upsert("loyaltyObject", obj, exists=True)) is Outcome.OK  # 404 -> insert
    assert [r.method for r in google.calls()] == ["PATCH", "POST"]
    obj["accountName"] = "Ann"
    assert classify(c.upsert("loyaltyObject", obj, exists=False)) is Outcome.OK  # 409 -> patch
    assert [r.status for r in google.calls()][2:] == [409, 200]
    assert google.resources["loyaltyObject"]["1.o"]["accountName"] == "Ann"
    assert google.schema_errors == []


def test_failures_are_answers_not_exceptions(google: GoogleStandIn) -> None:
    c = client(google)
    google.fail_next(503)
    assert classify(c.get("loyaltyObject", "1.o")) is Outcome.RETRY
    google.fail_next(429, reason="rateLimitExceeded")
    assert classify(c.get("loyaltyObject", "1.o")) is Outcome.RETRY
    google.fail_next(403, reason="quotaExceeded")
    answer = c.get("loyaltyObject", "1.o")
    assert (answer.reason, classify(answer)) == ("quotaExceeded", Outcome.QUOTA)
    google.fail_next(400, reason="invalidArgument")
    assert classify(c.get("loyaltyObject", "1.o")) is Outcome.REJECTED
    down = GoogleClient(service_account_info(google.token_uri)[0], "http://127.0.0.1:9/x",
                        timeout=2, scope=SCOPE)
    answer = down.get("loyaltyObject", "1.o")
    assert answer.status == 0 and classify(answer) is Outcome.RETRY
    no_token = GoogleClient(service_account_info("http://127.0.0.1:9/token")[0], google.url,
                            timeout=2, scope=SCOPE)
    answer = no_token.get("loyaltyObject", "1.o")
    assert answer.status == 0 and answer.error and answer.error.startswith("token")


def test_service_account_file_errors_are_clear(tmp_path: Path) -> None:
    missing = tmp_path / "missing.json"
    with pytest.raises(GoogleConfigError, match="cannot read"):
        load_service_account(str(missing))
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(GoogleConfigError, match="not JSON"):
        load_service_account(str(bad))
    info, _ = service_account_info("http://127.0.0.1:9/token")
    wrong = tmp_path / "wrong.json"
    wrong.write_text(json.dumps({**info, "type": "authorized_user"}))
    with pytest.raises(GoogleConfigError, match="not a service account"):
        load_service_account(str(wrong))
    broken = tmp_path / "broken.json"
    broken.write_text(json.dumps({**info, "private_key": "-----BEGIN PRIVATE KEY-----\nxx"}))
    with pytest.raises(GoogleConfigError, match="private_key"):
        load_service_account(str(broken))
    good = tmp_path / "good.json"
    good.write_text(json.dumps(info))
    assert load_service_account(str(good)).email == info["client_email"]
