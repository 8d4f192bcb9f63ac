"""Golden Apple outputs of the card fixtures: `python -m tests.card_golden` rewrites them.

tests/snapshots/<fixture>.json holds the pass.json and every pass.strings of one fixture
card, as rendered from database rows. The files were first written by the code before the
wallet-neutral card model, so the snapshot tests prove Apple passes did not change.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path
from typing import Any

from app import create_app
from app.extensions import db
from app.wallet.apple.certs import create_dev_identity
from app.wallet.apple.passjson import build_pass_json, pass_strings
from app.wallet.content import card_content
from app.wallet.snapshot import CardSnapshot, load_snapshot
from tests import card_fixtures
from tests.conftest import app_config

SNAPSHOTS = Path(__file__).parent / "snapshots"


def render(snapshot: CardSnapshot) -> dict[str, Any]:
    """pass.json and pass.strings (decoded) of the card a snapshot describes."""
    content = card_content(snapshot)
    data = build_pass_json(content, auth_token=snapshot.member.auth_token,
                           pass_type_id=card_fixtures.PASS_TYPE_ID,
                           team_id=card_fixtures.TEAM_ID,
                           web_service_url=card_fixtures.WEB_SERVICE_URL)
    strings = pass_strings(content)
    return {"pass.json": data,
            "pass.strings": {name: body[2:].decode("utf-16-le") for name, body in strings.items()}}


def write(name: str, golden: dict[str, Any]) -> None:
    """Write one fixture's golden file (readable JSON, UTF-8)."""
    text = json.dumps(golden, ensure_ascii=False, indent=1) + "\n"
    (SNAPSHOTS / f"{name}.json").write_text(text, encoding="utf-8")


def main() -> int:
    """Render every fixture from a throwaway SQLite database and rewrite the golden files."""
    SNAPSHOTS.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        certs = create_dev_identity(root / "certs")
        app = create_app(app_config(root, certs, f"sqlite:///{root / 'golden.db'}"))
        with app.app_context():
            db.create_all()
            for name in card_fixtures.FIXTURES:
                write(name, render(load_snapshot(card_fixtures.create(name))))
            db.session.rollback()
            db.engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
