"""Start-up: the real `walletpass` command, embedded defaults, and clear certificate errors."""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import subprocess
import sys
import time
import urllib.request
import zipfile
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from app import create_app
from app.wallet.apple.certs import CertificateError
from tests.conftest import app_config
from tests.net import free_port


def walletpass(*args: str, env: dict[str, str],
               timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """Run the installed console script's code with a clean WALLETPASS_* environment."""
    return subprocess.run([sys.executable, "-c", "from app.cli import main; main()", *args],
                          env=env, capture_output=True, text=True, timeout=timeout)


def clean_env(data_dir: Path, **extra: str) -> dict[str, str]:
    """The process environment without WALLETPASS_* settings, plus the given ones."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("WALLETPASS_")}
    env.update({"WALLETPASS_DATA_DIR": str(data_dir), **extra})
    return env


def test_serve_with_embedded_defaults(tmp_path: Path) -> None:
    env = clean_env(tmp_path / "data")
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-c", "from app.cli import main; main()", "serve",
                             "--host", "127.0.0.1", "--port", str(port)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        doc = _wait_json(f"http://127.0.0.1:{port}/api/v1/openapi.json", proc)
        assert doc["openapi"].startswith("3.")
        created = walletpass("create-merchant", "--name", "Cafe", "--email", "a@b.co", env=env)
        assert created.returncode == 0, created.stderr
        key = created.stdout.strip().splitlines()[-1]
        req = urllib.request.Request(
            f"http://127.0.0.1:{port}/api/v1/programs", method="POST",
            data=json.dumps({"name": "Cafe Card", "template": "cafe"}).encode(),
            headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=30) as resp:
            assert resp.status == 201
            program_id = json.loads(resp.read())["id"]
        req = urllib.request.Request(
            f"http://127.0.0.1:{port}/api/v1/programs/{program_id}/members", method="POST",
            data=json.dumps({"email": "ann@example.test"}).encode(),
            headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=30) as resp:
            link = json.loads(resp.read())["links"]["apple"]
        assert link.startswith(f"http://127.0.0.1:{port}/cards/")
        with urllib.request.urlopen(link, timeout=30) as resp:
            assert resp.headers["Content-Type"] == "application/vnd.apple.pkpass"
            assert zipfile.ZipFile(io.BytesIO(resp.read())).testzip() is None
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    output = proc.stdout.read() if proc.stdout else ""
    card_token = link.split("/cards/")[1].split("/")[0]
    assert "GET /cards/<token>/apple.pkpass 200" in output  # each request logged by route
    assert card_token not in output and key not in output  # never by path, never the key
    assert (tmp_path / "data" / "walletpass.db").exists()
    assert (tmp_path / "data" / "dev-certs" / "pass-cert.pem").exists()
    key_file = tmp_path / "data" / "dev-certs" / "pass-key.pem"
    assert key_file.stat().st_mode & 0o077 == 0


def _wait_json(url: str, proc: subprocess.Popen[str], seconds: float = 60) -> dict:
    """Poll a URL until it answers JSON (bounded), failing with the server's output."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"server exited: {proc.stdout.read() if proc.stdout else ''}")
        try:
            with urllib.request.urlopen(url, timeout=5) as resp:
                return dict(json.loads(resp.read()))
        except OSError:
            time.sleep(0.2)
    pytest.fail("server did not answer in time")


def test_missing_certificate_is_a_clear_cli_error(tmp_path: Path) -> None:
    env = clean_env(tmp_path / "data", WALLETPASS_APPLE_CERT=str(tmp_path / "nope.pem"),
                    WALLETPASS_APPLE_KEY=str(tmp_path / "nope.key"),
                    WALLETPASS_APPLE_WWDR=str(tmp_path / "wwdr.pem"))
    result = walletpass("create-merchant", "--name", "x", "--email", "x@y.co", env=env)
    assert result.returncode != 0
    assert "nope.pem" in result.stderr
    assert "Traceback" not in result.stderr


def test_expected_ids_must_match_certificate(tmp_path: Path, cert_paths: dict[str, Path]
                                             ) -> None:
    url = f"sqlite:///{tmp_path / 'x.db'}"
    with pytest.raises(CertificateError, match="WALLETPASS_APPLE_PASS_TYPE_ID"):
        create_app(app_config(tmp_path, cert_paths, url, APPLE_PASS_TYPE_ID="pass.com.other"))
    with pytest.raises(CertificateError, match="WALLETPASS_APPLE_TEAM_ID"):
        create_app(app_config(tmp_path, cert_paths, url, APPLE_TEAM_ID="OTHERTEAM1"))
    app = create_app(app_config(tmp_path, cert_paths, url,
                                APPLE_PASS_TYPE_ID="pass.example.walletpass.dev",
                                APPLE_TEAM_ID="DEVTEAM000"))
    assert app.extensions["walletpass.apple"].identity.team_id == "DEVTEAM000"


def test_expired_certificate_stops_start_up(tmp_path: Path, cert_paths: dict[str, Path]
                                            ) -> None:
    """A pass certificate past its end date, from a valid WWDR, is refused at start-up."""
    files = _chain_with_expired_leaf(tmp_path)
    url = f"sqlite:///{tmp_path / 'x.db'}"
    config = {**app_config(tmp_path, cert_paths, url), **files}
    with pytest.raises(CertificateError, match="(?i)expired"):
        create_app(config)


def _cert(subject: x509.Name, issuer: x509.Name, public_key: object, signer: object,
          days: tuple[int, int], ca: bool) -> x509.Certificate:
    """A certificate valid from now+days[0] to now+days[1]."""
    now = dt.datetime.now(dt.UTC)
    builder = (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer)
               .public_key(public_key).serial_number(x509.random_serial_number())  # type: ignore[arg-type]
               .not_valid_before(now + dt.timedelta(days=days[0]))
               .not_valid_after(now + dt.timedelta(days=days[1]))
               .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
    return builder.sign(signer, hashes.SHA256())  # type: ignore[arg-type]


def _chain_with_expired_leaf(tmp_path: Path, leaf_days: tuple[int, int] = (-30, -1)
                             ) -> dict[str, str]:
    """A WWDR-like CA (valid) and a pass certificate it issued that expired yesterday.

    With other leaf_days, a valid non-development chain (what a real certificate looks like).
    """
    ca_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    leaf_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Test WWDR")])
    leaf_name = x509.Name([
        x509.NameAttribute(NameOID.USER_ID, "pass.example.walletpass.dev"),
        x509.NameAttribute(NameOID.COMMON_NAME, "expired"),
        x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, "DEVTEAM000")])
    ca = _cert(ca_name, ca_name, ca_key.public_key(), ca_key, (-60, 365), True)
    leaf = _cert(leaf_name, ca_name, leaf_key.public_key(), ca_key, leaf_days, False)
    pem = serialization.Encoding.PEM
    out = {"APPLE_WWDR": tmp_path / "wwdr.pem", "APPLE_CERT": tmp_path / "expired.pem",
           "APPLE_KEY": tmp_path / "expired-key.pem"}
    out["APPLE_WWDR"].write_bytes(ca.public_bytes(pem))
    out["APPLE_CERT"].write_bytes(leaf.public_bytes(pem))
    out["APPLE_KEY"].write_bytes(leaf_key.private_bytes(
        pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    return {k: str(v) for k, v in out.items()}


@pytest.mark.parametrize("base_url", ["http://wallet.example.com", "https://127.0.0.1:8443",
                                      "https://localhost", "https://[::1]"])
def test_real_certificate_with_an_unreachable_base_url_warns(
        tmp_path: Path, cert_paths: dict[str, Path], caplog: Any, base_url: str) -> None:
    url = f"sqlite:///{tmp_path / 'x.db'}"
    real = _chain_with_expired_leaf(tmp_path, leaf_days=(-1, 365))
    create_app({**app_config(tmp_path, cert_paths, url, BASE_URL=base_url), **real})
    warned = [r.getMessage() for r in caplog.records if "WALLETPASS_BASE_URL" in r.getMessage()]
    assert len(warned) == 1 and base_url in warned[0] and warned[0].count("\n") == 0


def test_no_unreachable_warning_for_a_public_https_url_or_dev_certificates(
        tmp_path: Path, cert_paths: dict[str, Path], caplog: Any) -> None:
    url = f"sqlite:///{tmp_path / 'x.db'}"
    real = _chain_with_expired_leaf(tmp_path, leaf_days=(-1, 365))
    create_app({**app_config(tmp_path, cert_paths, url,
                             BASE_URL="https://wallet.example.com"), **real})
    create_app(app_config(tmp_path, cert_paths, url, BASE_URL="http://127.0.0.1:5000"))
    assert not [r for r in caplog.records if "WALLETPASS_BASE_URL" in r.getMessage()]


def test_gunicorn_serves_wsgi_app(make_app: Any, database_url: str, tmp_path: Path) -> None:
    """The production entry point: gunicorn with two worker processes on this database.

    Both workers start at once on an empty data folder, so they race to make the secret
    key and the development certificates; they must agree on one set.
    """
    make_app()  # registers the clean-up of this test's database
    env = clean_env(tmp_path / "gdata", WALLETPASS_DATABASE_URL=database_url)
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "gunicorn", "--workers", "2", "--bind",
                             f"127.0.0.1:{port}", "wsgi:app"], env=env,
                            cwd=Path(__file__).resolve().parents[1],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        _wait_json(f"http://127.0.0.1:{port}/api/v1/openapi.json", proc)
        key = walletpass("create-merchant", "--name", "G", "--email", "g@h.co",
                         env=env).stdout.strip().splitlines()[-1]
        statuses = []
        for i in range(6):  # spread over both workers
            req = urllib.request.Request(
                f"http://127.0.0.1:{port}/api/v1/programs", method="POST",
                data=json.dumps({"name": f"Card {i}", "template": "retail"}).encode(),
                headers={"Authorization": f"Bearer {key}",
                         "Content-Type": "application/json"})
            with urllib.request.urlopen(req, timeout=30) as resp:
                statuses.append(resp.status)
        assert statuses == [201] * 6
    finally:
        proc.terminate()
        out, _ = proc.communicate(timeout=30)
    assert "Traceback" not in out, out
    assert "Worker failed to boot" not in out, out
