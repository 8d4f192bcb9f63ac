"""Pass build throughput against the bare RSA signing rate, on one core.

Run ``python -m bench.bench_passes [--passes N] [--rounds R] [--check]``. Each
round times, one after the other: bare ``key.sign`` of a manifest-sized
message (each pass's real manifest.json), the fast ``PassSigner.build_pkpass``
of N distinct passes, the fast signature alone, the same build signed by
``cryptography``'s ``PKCS7SignatureBuilder``, that builder's signature alone,
and a naive build (``zipfile`` + ``PKCS7SignatureBuilder``, N/4 passes). The
pass dicts are made before timing. The best round of each row is reported,
because the machine is noisy. With ``--check`` the exit status is 1 when the
fast build falls below 0.85 x the bare signing rate.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import io
import json
import os
import random
import struct
import sys
import tempfile
import time
import zipfile
import zlib
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.padding import PKCS1v15
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
from cryptography.hazmat.primitives.hashes import SHA256

from app.wallet.apple.certs import SigningIdentity, create_dev_identity, load_identity
from app.wallet.apple.signing import (
    PassSigner,
    StaticBundle,
    make_static_bundle,
    sign_manifest_reference,
)

TARGET_RATIO = 0.85
# (name, width, height, share of noisy bytes): sizes of a typical storeCard design
IMAGES = [
    ("icon.png", 29, 29, 0.1), ("icon@2x.png", 58, 58, 0.06), ("icon@3x.png", 87, 87, 0.04),
    ("logo.png", 160, 50, 0.05), ("logo@2x.png", 320, 100, 0.03),
    ("logo@3x.png", 480, 150, 0.02), ("strip.png", 375, 123, 0.03),
    ("strip@2x.png", 750, 246, 0.02), ("strip@3x.png", 1125, 369, 0.015),
]  # fmt: skip
LANGUAGES = ["en", "th", "zh-Hant", "vi", "ms"]


# --- sample data --------------------------------------------------------------


def png(width: int, height: int, noise: float, rng: random.Random) -> bytes:
    """Return a valid RGBA PNG whose pixels are a gradient with some noise."""
    rows = []
    for y in range(height):
        row = bytearray((x * 7 + y * 3) & 0xFF for x in range(width * 4))
        for i in rng.sample(range(len(row)), int(len(row) * noise)):
            row[i] = rng.getrandbits(8)
        rows.append(b"\x00" + bytes(row))

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)
    idat = zlib.compress(b"".join(rows), 6)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")
    )


def pass_strings(language: str) -> bytes:
    """Return a UTF-16 (BOM) pass.strings file with ~20 entries."""
    lines = [f'"label_{i}" = "{language} text for label number {i}";' for i in range(20)]
    return "\n".join(lines).encode("utf-16")


def static_files() -> dict[str, bytes]:
    """Return ~9 images and 5 pass.strings files of realistic sizes."""
    rng = random.Random(7)
    files = {name: png(w, h, noise, rng) for name, w, h, noise in IMAGES}
    for language in LANGUAGES:
        files[f"{language}.lproj/pass.strings"] = pass_strings(language)
    return files


def sample_pass(identity: SigningIdentity, number: int) -> dict[str, Any]:
    """Return a realistic storeCard pass.json dict (~1.5 KB) for member `number`."""
    serial = f"M{number:08d}-{hashlib.sha1(str(number).encode()).hexdigest()[:12]}"
    points = (number * 37) % 10_000

    def field(key: str, label: str, value: object, **extra: object) -> dict[str, object]:
        return {"key": key, "label": label, "value": value, **extra}

    return {
        "formatVersion": 1,
        "passTypeIdentifier": identity.pass_type_id,
        "teamIdentifier": identity.team_id,
        "serialNumber": serial,
        "authenticationToken": hashlib.sha256(serial.encode()).hexdigest()[:32],
        "webServiceURL": "https://wallet.example.com/wallet",
        "organizationName": "Café Lumière Coffee Roasters",
        "description": "Café Lumière loyalty card",
        "logoText": "Café Lumière",
        "backgroundColor": "rgb(40, 24, 16)",
        "foregroundColor": "rgb(255, 248, 240)",
        "labelColor": "rgb(214, 170, 120)",
        "storeCard": {
            "headerFields": [field("tier", "label_1", "Gold")],
            "primaryFields": [
                field("points", "label_2", points, changeMessage="You now have %@ points")
            ],
            "secondaryFields": [
                field("member", "label_3", f"Member {number}"),
                field("next", "label_4", f"{10_000 - points} points to your next reward"),
            ],
            "auxiliaryFields": [
                field("since", "label_5", "2024-03-01", dateStyle="PKDateStyleMedium"),
            ],
            "backFields": [
                field("terms", "label_6", "Points expire 12 months after they are earned. "
                      "One reward per visit. Not exchangeable for cash."),
                field("contact", "label_7", "hello@cafe-lumiere.example · +66 2 123 4567"),
            ],
        },
        "barcodes": [{
            "format": "PKBarcodeFormatQR", "message": serial,
            "messageEncoding": "iso-8859-1", "altText": serial,
        }],
        "locations": [
            {"latitude": 13.7563 + i / 100, "longitude": 100.5018, "relevantText": "Welcome back!"}
            for i in range(3)
        ],
        "semantics": {"balance": {"amount": str(points), "currencyCode": "THB"}},
    }  # fmt: skip


# --- the comparison paths ----------------------------------------------------------


class ReferenceSigner(PassSigner):
    """The fast builder, but signing with cryptography's PKCS7SignatureBuilder."""

    def sign_manifest(self, manifest: bytes, signing_time: dt.datetime | None = None) -> bytes:
        """Sign with the reference builder (signing_time is the current time)."""
        return sign_manifest_reference(self.identity, manifest)


def naive_build(
    identity: SigningIdentity, pass_json: dict[str, Any], files: dict[str, bytes]
) -> bytes:
    """Build a pass the usual way: json.dumps, hash everything, zipfile, PKCS7SignatureBuilder."""
    contents = dict(files)
    contents["pass.json"] = json.dumps(pass_json, ensure_ascii=False).encode()
    manifest = json.dumps({n: hashlib.sha1(d).hexdigest() for n, d in contents.items()}).encode()
    contents["manifest.json"] = manifest
    contents["signature"] = sign_manifest_reference(identity, manifest)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in contents.items():
            archive.writestr(name, data)
    return out.getvalue()


# --- timing ------------------------------------------------------------------------


def rate(run: Callable[[int], object], count: int) -> float:
    """Return operations per second of calling run(i) for i in range(count)."""
    start = time.perf_counter()
    for i in range(count):
        run(i)
    return count / (time.perf_counter() - start)


def pin_one_core() -> str:
    """Restrict this process to a single CPU where the OS allows it."""
    if not hasattr(os, "sched_setaffinity"):
        return "not pinned (no sched_setaffinity)"
    cpu = max(os.sched_getaffinity(0))
    os.sched_setaffinity(0, {cpu})
    return f"pinned to CPU {cpu}"


def measure(
    identity: SigningIdentity, bundle: StaticBundle, files: dict[str, bytes],
    count: int, rounds: int,
) -> dict[str, float]:  # fmt: skip
    """Time every row `rounds` times, interleaved, and keep each row's best rate."""
    signer = PassSigner(identity)
    reference = ReferenceSigner(identity)
    passes = [sample_pass(identity, i) for i in range(count)]
    manifests = _manifest_samples(signer, bundle, passes)
    key = identity.private_key
    assert isinstance(key, RSAPrivateKey), "the benchmark compares against RSA signing"
    naive_count = max(1, count // 4)
    rows: dict[str, Callable[[], float]] = {
        "bare RSA signing": lambda: rate(
            lambda i: key.sign(manifests[i], PKCS1v15(), SHA256()), count
        ),
        "fast build": lambda: rate(lambda i: signer.build_pkpass(passes[i], bundle), count),
        "fast signature only": lambda: rate(lambda i: signer.sign_manifest(manifests[i]), count),
        "same build, PKCS7SignatureBuilder signature": lambda: rate(
            lambda i: reference.build_pkpass(passes[i], bundle), count
        ),
        "PKCS7SignatureBuilder signature only": lambda: rate(
            lambda i: sign_manifest_reference(identity, manifests[i]), count
        ),
        "naive build (zipfile + PKCS7SignatureBuilder)": lambda: rate(
            lambda i: naive_build(identity, passes[i], files), naive_count
        ),
    }
    best = dict.fromkeys(rows, 0.0)
    for _ in range(rounds):
        for name, run in rows.items():
            best[name] = max(best[name], run())
    return best


def _manifest_samples(
    signer: PassSigner, bundle: StaticBundle, passes: Sequence[dict[str, Any]]
) -> list[bytes]:
    """Return the real manifest.json of each pass (the bare signing message)."""
    out = []
    for pass_json in passes:
        with zipfile.ZipFile(io.BytesIO(signer.build_pkpass(pass_json, bundle))) as archive:
            out.append(archive.read("manifest.json"))
    return out


def report(best: dict[str, float]) -> float:
    """Print each row as passes/s and x bare signing; return the fast build ratio."""
    bare = best["bare RSA signing"]
    for name, value in best.items():
        print(f"{name:46s} {value:8.0f} passes/s = {value / bare:.2f} x bare RSA signing")
    return best["fast build"] / bare


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--passes", type=int, default=2000, help="distinct passes per row")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds (best kept)")
    parser.add_argument("--check", action="store_true", help=f"fail below {TARGET_RATIO} x")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark and print the figures."""
    args = parse_args(argv)
    print(pin_one_core())
    with tempfile.TemporaryDirectory() as tmp:
        paths = create_dev_identity(Path(tmp))
        identity = load_identity(
            cert_path=paths["cert"], key_path=paths["key"], wwdr_path=paths["wwdr"]
        )
    files = static_files()
    bundle = make_static_bundle(files)
    sample = PassSigner(identity).build_pkpass(sample_pass(identity, 1), bundle)
    with zipfile.ZipFile(io.BytesIO(sample)) as archive:
        pass_size = archive.getinfo("pass.json").file_size
    print(
        f"{len(files)} static files ({sum(map(len, files.values())) // 1024} KB), "
        f"pass.json {pass_size} B, "
        f"pkpass {len(sample) // 1024} KB; {args.passes} distinct passes, "
        f"best of {args.rounds} rounds"
    )
    ratio = report(measure(identity, bundle, files, args.passes, args.rounds))
    if args.check and ratio < TARGET_RATIO:
        print(f"FAIL: fast build is {ratio:.2f} x bare RSA signing, below {TARGET_RATIO}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
