"""Google Wallet save/delete callbacks: ECv2SigningOnly verification, step by step.

A callback body is exactly ``{protocolVersion: "ECv2SigningOnly", signature,
intermediateSigningKey: {signedKey, signatures}, signedMessage}``. With ``lv(x)`` = the
4-byte little-endian length of x's UTF-8 bytes followed by those bytes:

1. Google's root keys (configured file, or fetched from GOOGLE_ROOT_KEYS_URL and cached):
   keep those with protocolVersion "ECv2SigningOnly" and keyExpiration in the future.
2. One of intermediateSigningKey.signatures verifies (ECDSA P-256, SHA-256, DER) under a
   root key over lv("GooglePayPasses") + lv("ECv2SigningOnly") + lv(signedKey).
3. signedKey is JSON {keyValue: base64 X.509 SubjectPublicKeyInfo, keyExpiration: ms},
   not expired.
4. signature verifies under keyValue over lv("GooglePayPasses") + lv(issuerId) +
   lv("ECv2SigningOnly") + lv(signedMessage).
5. signedMessage is JSON {classId, objectId, expTimeMillis, eventType: save|del, nonce};
   a past expTimeMillis is refused. Deliveries repeat: the caller deduplicates on nonce.
"""

from __future__ import annotations

import base64
import binascii
import json
import struct
import threading
import time
from collections.abc import Callable
from typing import Any

import requests
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

PROTOCOL = "ECv2SigningOnly"
SENDER = "GooglePayPasses"
EVENTS = ("save", "del")
ROOT_KEYS_TTL = 3600.0


class CallbackError(ValueError):
    """A callback failed verification; the message says which step."""


def lv(text: str) -> bytes:
    """Length-value encoding: 4-byte little-endian length, then the UTF-8 bytes."""
    data = text.encode("utf-8")
    return struct.pack("<I", len(data)) + data


def _public_key(b64: Any) -> ec.EllipticCurvePublicKey:
    """An EC P-256 public key from base64 SubjectPublicKeyInfo."""
    try:
        key = serialization.load_der_public_key(base64.b64decode(b64, validate=True))
    except (TypeError, ValueError, binascii.Error) as exc:
        raise CallbackError(f"unreadable public key ({exc})") from None
    if not isinstance(key, ec.EllipticCurvePublicKey) or key.curve.name != "secp256r1":
        raise CallbackError("public key is not ECDSA P-256")
    return key


def _verifies(key: ec.EllipticCurvePublicKey, signature: Any, data: bytes) -> bool:
    """Whether a base64 DER ECDSA-SHA256 signature over data verifies under key."""
    try:
        key.verify(base64.b64decode(signature, validate=True), data, ec.ECDSA(hashes.SHA256()))
    except (InvalidSignature, TypeError, ValueError, binascii.Error):
        return False
    return True


def _not_expired(ms: Any, now_ms: int) -> bool:
    """Whether a millisecond timestamp (number or numeric string) is in the future."""
    try:
        return int(ms) > now_ms
    except (TypeError, ValueError):
        return False


def usable_root_keys(keys: list[dict[str, Any]], now_ms: int) -> list[ec.EllipticCurvePublicKey]:
    """Step 1: the root keys for ECv2SigningOnly that have not expired."""
    out = []
    for entry in keys:
        if (isinstance(entry, dict) and entry.get("protocolVersion") == PROTOCOL
                and _not_expired(entry.get("keyExpiration"), now_ms)):
            try:
                out.append(_public_key(entry.get("keyValue")))
            except CallbackError:
                continue
    return out


def verify_callback(body: Any, issuer_id: str, root_keys: list[dict[str, Any]],
                    now_ms: int | None = None) -> dict[str, Any]:
    """Verify a callback and return its signed message (CallbackError when it fails)."""
    now_ms = int(time.time() * 1000) if now_ms is None else now_ms
    if not isinstance(body, dict) or body.get("protocolVersion") != PROTOCOL:
        raise CallbackError("not an ECv2SigningOnly message")
    inter = body.get("intermediateSigningKey")
    if not isinstance(inter, dict):
        raise CallbackError("intermediateSigningKey must be an object")
    signed_key, signed_message = inter.get("signedKey"), body.get("signedMessage")
    if not isinstance(signed_key, str) or not isinstance(signed_message, str):
        raise CallbackError("signedKey and signedMessage must be strings")
    roots = usable_root_keys(root_keys, now_ms)
    if not roots:
        raise CallbackError("no usable Google root key")
    key_data = lv(SENDER) + lv(PROTOCOL) + lv(signed_key)
    signatures = inter.get("signatures")
    if not isinstance(signatures, list):
        signatures = []
    if not any(_verifies(root, sig, key_data) for root in roots for sig in signatures):
        raise CallbackError("intermediate signing key is not signed by a Google root key")
    key = _json(signed_key, "signedKey")
    if not _not_expired(key.get("keyExpiration"), now_ms):
        raise CallbackError("intermediate signing key has expired")
    message_data = lv(SENDER) + lv(issuer_id) + lv(PROTOCOL) + lv(signed_message)
    if not _verifies(_public_key(key.get("keyValue")), body.get("signature"), message_data):
        raise CallbackError("message signature does not verify")
    message = _json(signed_message, "signedMessage")
    if not _not_expired(message.get("expTimeMillis"), now_ms):
        raise CallbackError("message has expired")
    if message.get("eventType") not in EVENTS or not isinstance(message.get("nonce"), str):
        raise CallbackError("message lacks a known eventType or a nonce")
    return message


def _json(text: str, name: str) -> dict[str, Any]:
    """Parse a signed JSON string that must be an object."""
    try:
        value = json.loads(text)
    except ValueError:
        raise CallbackError(f"{name} is not JSON") from None
    if not isinstance(value, dict):
        raise CallbackError(f"{name} is not a JSON object")
    return value


class RootKeys:
    """Google's root signing keys: from a configured file, or fetched and cached for an hour."""

    def __init__(self, url: str, file: str = "", timeout: float = 10.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.url, self.file, self.timeout, self.clock = url, file, timeout, clock
        self._keys: list[dict[str, Any]] = []
        self._fetched_at: float | None = None
        self._lock = threading.Lock()

    def get(self) -> list[dict[str, Any]]:
        """The root keys (an empty list when they cannot be had right now)."""
        if self.file:
            with open(self.file, encoding="utf-8") as handle:
                return _keys_of(json.load(handle))
        with self._lock:
            fresh = (self._fetched_at is not None
                     and self.clock() - self._fetched_at < ROOT_KEYS_TTL)
            if not fresh:
                try:
                    resp = requests.get(self.url, timeout=self.timeout)
                    resp.raise_for_status()
                    self._keys, self._fetched_at = _keys_of(resp.json()), self.clock()
                except (requests.RequestException, ValueError):
                    pass  # keep the last keys we had; the callback is refused if none
            return self._keys


def _keys_of(document: Any) -> list[dict[str, Any]]:
    """The "keys" list of Google's root keys document."""
    keys = document.get("keys") if isinstance(document, dict) else None
    return [k for k in keys if isinstance(k, dict)] if isinstance(keys, list) else []
