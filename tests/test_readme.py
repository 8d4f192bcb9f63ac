"""The README stays true: every setting documented, CI runs the README's test command."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from flask.testing import FlaskClient

from app.config import Settings

ROOT = Path(__file__).resolve().parents[1]


def test_every_setting_is_documented() -> None:
    readme = (ROOT / "README.md").read_text()
    for var, _default, doc in Settings.documentation():
        assert f"`{var}`" in readme, var
        assert doc, f"{var} has no description"


def test_ci_runs_the_readme_test_command() -> None:
    readme = (ROOT / "README.md").read_text()
    blocks = re.findall(r"```sh\n(.*?)```", readme, re.S)
    test_command = next(b.strip() for b in blocks if "pytest" in b)
    assert test_command in (ROOT / ".ci" / "run").read_text()
    assert any(b.strip().startswith("pip install -e . && walletpass serve") for b in blocks)


def test_the_openssl_verify_example_works_as_written(
        client: FlaskClient, member: dict[str, Any], cert_paths: dict[str, Path],
        tmp_path: Path) -> None:
    """The README's development-pass check, run verbatim on a card the app just issued."""
    readme = (ROOT / "README.md").read_text()
    block = next(b for b in re.findall(r"```sh\n(.*?)```", readme, re.S)
                 if "openssl cms -verify" in b)
    link = member["links"]["apple"]
    card = tmp_path / "downloaded.pkpass"
    card.write_bytes(client.get(urlsplit(link).path).get_data())
    data = tmp_path / "readme-data"
    data.mkdir()
    (data / "dev-certs").symlink_to(cert_paths["root"].parent)
    work = tmp_path / "work"
    work.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("WALLETPASS_")}
    env.update(LINK=card.as_uri(), WALLETPASS_DATA_DIR=str(data))
    result = subprocess.run(["bash", "-euo", "pipefail", "-c", block], cwd=work, env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "Verification successful" in result.stderr


def test_ci_runs_ruff_and_mypy() -> None:
    lines = (ROOT / ".ci" / "run").read_text().splitlines()
    assert "ruff check ." in lines and "mypy" in lines
