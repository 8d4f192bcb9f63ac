"""The README stays true: every setting documented, CI runs the README's test command."""

from __future__ import annotations

import re
from pathlib import Path

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
