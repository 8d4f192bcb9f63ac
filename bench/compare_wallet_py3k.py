"""Our in-process signer against the approach of wallet-py3k (openssl spawned per pass).

Run ``python -m bench.compare_wallet_py3k [--passes N]``. The brief named wallet-py3;
that package is not on the registry, and its Python 3 fork wallet-py3k signs each pass by
running ``openssl smime -sign`` in a subprocess. This benchmark builds the same passes
(same pass.json, same static files) three ways in one run and prints each rate as a ratio
of walletpass's:

- walletpass: ``PassSigner.build_pkpass`` (one RSA signature in-process);
- openssl per pass: ``openssl smime -sign -binary`` spawned for every pass, as wallet-py3k
  does, then zipfile;
- wallet-py3k itself, when it is installed (``pip install wallet-py3k``).
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from app.wallet.apple.certs import SigningIdentity, create_dev_identity, load_identity
from app.wallet.apple.signing import PassSigner, make_static_bundle
from bench.bench_passes import pin_one_core, sample_pass, static_files


def openssl_build(paths: dict[str, Path], pass_json: dict[str, Any],
                  files: dict[str, bytes]) -> bytes:
    """Build a pass by spawning openssl to sign, as wallet-py3k does."""
    contents = dict(files)
    contents["pass.json"] = json.dumps(pass_json).encode()
    manifest = json.dumps({n: hashlib.sha1(d).hexdigest() for n, d in contents.items()}).encode()
    signature = subprocess.run(
        ["openssl", "smime", "-binary", "-sign", "-certfile", str(paths["wwdr"]),
         "-signer", str(paths["cert"]), "-inkey", str(paths["key"]), "-outform", "DER"],
        input=manifest, capture_output=True, check=True, timeout=30).stdout
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, data in {**contents, "manifest.json": manifest,
                           "signature": signature}.items():
            archive.writestr(name, data)
    return out.getvalue()


def wallet_py3k_builder(paths: dict[str, Path], files: dict[str, bytes]
                        ) -> Callable[[dict[str, Any]], bytes] | None:
    """A builder using wallet-py3k's own Pass class, or None when it is not installed."""
    try:
        from wallet.models import Barcode, BarcodeFormat, Pass, StoreCard  # type: ignore
    except ImportError:
        return None

    def build(pass_json: dict[str, Any]) -> bytes:
        card = StoreCard()
        for f in pass_json["storeCard"]["primaryFields"]:
            card.addPrimaryField(f["key"], f["value"], f["label"])
        for f in pass_json["storeCard"]["secondaryFields"]:
            card.addSecondaryField(f["key"], f["value"], f["label"])
        p = Pass(card, passTypeIdentifier=pass_json["passTypeIdentifier"],
                 organizationName=pass_json["organizationName"],
                 teamIdentifier=pass_json["teamIdentifier"])
        p.serialNumber = pass_json["serialNumber"]
        p.description = pass_json["description"]
        p.barcode = Barcode(message=pass_json["serialNumber"], format=BarcodeFormat.QR)
        for name, data in files.items():
            p.addFile(name, io.BytesIO(data))
        return p.create(str(paths["cert"]), str(paths["key"]), str(paths["wwdr"]),
                        "").getvalue()

    return build


def rate(run: Callable[[int], object], count: int) -> float:
    """Operations per second of run(i) for i in range(count)."""
    start = time.perf_counter()
    for i in range(count):
        run(i)
    return count / (time.perf_counter() - start)


def main(argv: Sequence[str] | None = None) -> int:
    """Measure the three builders on the same passes and print ratios."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--passes", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    print(pin_one_core())
    with tempfile.TemporaryDirectory() as tmp:
        paths = create_dev_identity(Path(tmp))
        identity: SigningIdentity = load_identity(cert_path=paths["cert"],
                                                  key_path=paths["key"],
                                                  wwdr_path=paths["wwdr"])
        files = static_files()
        bundle = make_static_bundle(files)
        signer = PassSigner(identity)
        passes = [sample_pass(identity, i) for i in range(args.passes)]
        rows: dict[str, Callable[[int], object]] = {
            "walletpass (in-process)": lambda i: signer.build_pkpass(passes[i], bundle),
            "openssl spawned per pass": lambda i: openssl_build(paths, passes[i], files),
        }
        py3k = wallet_py3k_builder(paths, files)
        if py3k is not None:
            rows["wallet-py3k 0.0.4"] = lambda i: py3k(passes[i])
        best = dict.fromkeys(rows, 0.0)
        for _ in range(args.rounds):
            for name, run in rows.items():
                best[name] = max(best[name], rate(run, args.passes))
    base = best["walletpass (in-process)"]
    for name, value in best.items():
        print(f"{name:28s} {value:8.0f} passes/s = {value / base:5.3f} x walletpass")
    if py3k is None:
        print("(wallet-py3k not installed: `pip install wallet-py3k` adds its own row)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
