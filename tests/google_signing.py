"""A locally generated ECv2SigningOnly key chain that signs callbacks the way Google does."""

from __future__ import annotations

import base64
import json
import time
import uuid
from typing import Any

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from app.wallet.google.callbacks import PROTOCOL, SENDER, lv


def _spki(key: ec.EllipticCurvePrivateKey) -> str:
    """base64 SubjectPublicKeyInfo of a key's public half."""
    der = key.public_key().public_bytes(serialization.Encoding.DER,
                                        serialization.PublicFormat.SubjectPublicKeyInfo)
    return base64.b64encode(der).decode()


def _sign(key: ec.EllipticCurvePrivateKey, data: bytes) -> str:
    """base64 DER ECDSA-SHA256 signature."""
    return base64.b64encode(key.sign(data, ec.ECDSA(hashes.SHA256()))).decode()


class KeyChain:
    """A root key (published like Google's) and an intermediate key it signs."""

    def __init__(self) -> None:
        self.root = ec.generate_private_key(ec.SECP256R1())
        self.intermediate = ec.generate_private_key(ec.SECP256R1())

    def root_document(self, expires_ms: int | None = None) -> dict[str, Any]:
        """The root keys document (as served at pay.google.com/gp/m/issuer/keys)."""
        expires_ms = expires_ms or int(time.time() * 1000) + 86_400_000
        return {"keys": [{"keyValue": _spki(self.root), "protocolVersion": PROTOCOL,
                          "keyExpiration": str(expires_ms)}]}

    def callback(self, issuer_id: str, object_id: str, event: str = "save", *,
                 nonce: str | None = None, message_expires_ms: int | None = None,
                 key_expires_ms: int | None = None,
                 signer: ec.EllipticCurvePrivateKey | None = None) -> dict[str, Any]:
        """A signed callback body for one event."""
        now = int(time.time() * 1000)
        signed_key = json.dumps({"keyValue": _spki(self.intermediate),
                                 "keyExpiration": str(key_expires_ms or now + 3_600_000)})
        message = json.dumps({"classId": object_id.rsplit(".", 1)[0] + ".class",
                              "objectId": object_id, "eventType": event,
                              "expTimeMillis": message_expires_ms or now + 60_000,
                              "nonce": nonce or str(uuid.uuid4())})
        key_sig = _sign(self.root, lv(SENDER) + lv(PROTOCOL) + lv(signed_key))
        msg_sig = _sign(signer or self.intermediate,
                        lv(SENDER) + lv(issuer_id) + lv(PROTOCOL) + lv(message))
        return {"protocolVersion": PROTOCOL, "signature": msg_sig,
                "intermediateSigningKey": {"signedKey": signed_key, "signatures": [key_sig]},
                "signedMessage": message}
