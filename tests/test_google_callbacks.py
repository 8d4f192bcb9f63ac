"""Google Wallet save/delete callbacks, verified with a locally generated key chain."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from flask import Flask
from sqlalchemy import select

from app.extensions import db
from app.models import GoogleObject
from app.wallet.google.callbacks import CallbackError, verify_callback
from tests.conftest import Api
from tests.google_signing import KeyChain
from tests.google_standin import GoogleStandIn, Server, service_account_info
from tests.test_google_wallet import ISSUER, sweep

NOW = int(time.time() * 1000)


@pytest.fixture
def google() -> Iterator[GoogleStandIn]:
    """The Google stand-in, serving the test root keys too."""
    server = Server()
    yield server.start()
    server.stop()


@pytest.fixture
def chain(google: GoogleStandIn) -> KeyChain:
    """A key chain whose root key the stand-in publishes."""
    keys = KeyChain()
    google.root_keys = keys.root_document()
    return keys


@pytest.fixture
def app(make_app: Any, google: GoogleStandIn, chain: KeyChain, tmp_path: Path) -> Flask:
    """The app with Google on; root keys fetched from the stand-in."""
    info, _ = service_account_info(google.token_uri)
    path = tmp_path / "sa.json"
    path.write_text(json.dumps(info))
    return make_app(GOOGLE_SERVICE_ACCOUNT_FILE=str(path), GOOGLE_ISSUER_ID=ISSUER,
                    GOOGLE_API_URL=google.url, GOOGLE_ROOT_KEYS_URL=google.keys_url,
                    GOOGLE_TIMEOUT=3.0)


def test_valid_chain_verifies() -> None:
    keys = KeyChain()
    body = keys.callback(ISSUER, f"{ISSUER}.abc", nonce="n1")
    message = verify_callback(body, ISSUER, keys.root_document()["keys"], NOW)
    assert (message["eventType"], message["nonce"]) == ("save", "n1")


@pytest.mark.parametrize("case", ["forged_message", "other_root", "expired_key",
                                  "expired_message", "wrong_issuer", "expired_root",
                                  "tampered_message", "not_ecv2"])
def test_bad_callbacks_are_refused(case: str) -> None:
    keys, roots = KeyChain(), None
    body = keys.callback(ISSUER, f"{ISSUER}.abc")
    if case == "forged_message":
        body = keys.callback(ISSUER, f"{ISSUER}.abc",
                             signer=ec.generate_private_key(ec.SECP256R1()))
    elif case == "other_root":
        roots = KeyChain().root_document()["keys"]
    elif case == "expired_key":
        body = keys.callback(ISSUER, f"{ISSUER}.abc", key_expires_ms=NOW - 1)
    elif case == "expired_message":
        body = keys.callback(ISSUER, f"{ISSUER}.abc", message_expires_ms=NOW - 1)
    elif case == "wrong_issuer":
        body = keys.callback("999", f"{ISSUER}.abc")
    elif case == "expired_root":
        roots = keys.root_document(expires_ms=NOW - 1)["keys"]
    elif case == "tampered_message":
        body["signedMessage"] = body["signedMessage"].replace('"save"', '"del"')
    elif case == "not_ecv2":
        body["protocolVersion"] = "ECv2"
    with pytest.raises(CallbackError):
        verify_callback(body, ISSUER, roots or keys.root_document()["keys"], NOW)


def test_save_and_delete_are_recorded_once(app: Flask, api: Api, program: dict[str, Any],
                                           google: GoogleStandIn, chain: KeyChain) -> None:
    member = api.post(f"/programs/{program['id']}/members",
                      {"email": "ann@example.test"}).get_json()
    sweep(app)
    object_id = f"{ISSUER}.{member['serial_number']}"
    save = chain.callback(ISSUER, object_id, "save", nonce="nonce-1")
    first = api.client.post("/google/callback", json=save)
    assert (first.status_code, first.get_json()) == (200, {"recorded": True})
    replay = api.client.post("/google/callback", json=save)
    assert (replay.status_code, replay.get_json()) == (200, {"recorded": False})
    with app.app_context():
        row = db.session.scalar(select(GoogleObject))
        assert row.saved_at is not None and row.removed_at is None
    removed = api.client.post("/google/callback",
                              json=chain.callback(ISSUER, object_id, "del", nonce="nonce-2"))
    assert removed.status_code == 200
    with app.app_context():
        assert db.session.scalar(select(GoogleObject)).removed_at is not None
    forged = chain.callback(ISSUER, object_id, "del",
                            signer=ec.generate_private_key(ec.SECP256R1()))
    assert api.client.post("/google/callback", json=forged).status_code == 400
    assert api.client.post("/google/callback", data="nope").status_code == 400
    assert google.root_key_requests == 1  # fetched once, then cached
