"""Stamp cards: stamps in the ledger, the strip drawn once per stamp count, on the pass."""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any
from urllib.parse import urlsplit

from flask import Flask
from PIL import Image

from app.wallet import stamps
from app.wallet.stamps import StampRow, layout, render
from tests.conftest import Api


def stamp_program(api: Api) -> dict[str, Any]:
    """A stamp card: 10 stamps, one per purchase, rewards at 5 and 10."""
    program = api.post("/programs", {"name": "Coffee Stamps", "template": "cafe"}).get_json()
    resp = api.patch(f"/programs/{program['id']}/rules", {
        "mode": "stamps", "stamps_required": 10, "points_per_unit": "0",
        "points_per_purchase": 1})
    assert resp.status_code == 200, resp.get_json()
    for name, cost in (("Cookie", 5), ("Free coffee", 10)):
        api.post(f"/programs/{program['id']}/rewards",
                 {"name": name, "kind": "free_item", "points_cost": cost})
    return dict(program)


def pkpass(api: Api, member: dict[str, Any]) -> zipfile.ZipFile:
    """The member's downloaded pass."""
    resp = api.client.get(urlsplit(member["links"]["apple"]).path)
    assert resp.status_code == 200
    return zipfile.ZipFile(io.BytesIO(resp.data))


def centre_of_stamp(index: int, required: int, scale: int = 1) -> tuple[int, int]:
    """Pixel at the middle of stamp `index` (0-based) in the strip."""
    columns, rows, cell = layout(required, scale)
    width, height = 375 * scale, 123 * scale
    left, top = (width - columns * cell) // 2, (height - rows * cell) // 2
    return left + (index % columns) * cell + cell // 2, top + (index // columns) * cell + cell // 2


def test_render_fills_collected_stamps() -> None:
    png = render("#FFFFFF", "#000000", None, StampRow(3, 10, (5, 10)), 1)
    im = Image.open(io.BytesIO(png)).convert("RGB")
    assert im.size == (375, 123)
    filled = [im.getpixel(centre_of_stamp(i, 10)) for i in range(10)]
    # a filled stamp is a dark disc (its tick crosses near, not at, the centre); empty are white
    dark = [sum(px[:3]) < 200 for px in filled]
    assert dark == [True] * 3 + [False] * 7
    big = Image.open(io.BytesIO(render("#FFFFFF", "#000000", None, StampRow(3, 10), 3)))
    assert big.size == (1125, 369)


def test_stamp_card_strip_on_pass_and_cached(api: Api, app: Flask) -> None:
    program = stamp_program(api)
    ann = api.post(f"/programs/{program['id']}/members", {"email": "s1@example.test"}).get_json()
    bob = api.post(f"/programs/{program['id']}/members", {"email": "s2@example.test"}).get_json()
    for member in (ann, bob):
        for _ in range(3):
            resp = api.post(f"/members/{member['id']}/earn", {"amount": "4.50"})
            assert resp.get_json()["transaction"]["points"] == 1
    shown = api.get(f"/members/{ann['id']}").get_json()
    assert shown["stamps"] == {"count": 3, "required": 10}
    stamps.clear_cache()
    first, second = pkpass(api, ann), pkpass(api, bob)
    assert stamps.cache_info() == 1  # one drawing for both members' count of 3
    data = json.loads(first.read("pass.json"))
    assert data["storeCard"]["primaryFields"][0]["value"] == "3/10"
    assert data["storeCard"]["primaryFields"][0]["changeMessage"] == "You now have %@ stamps"
    assert first.read("strip@3x.png") == second.read("strip@3x.png")
    assert "stamp-art.png" not in first.namelist()
    api.post(f"/members/{ann['id']}/earn", {"points": 2})
    assert pkpass(api, ann).read("strip.png") != first.read("strip.png")
    reward = [f for f in json.loads(pkpass(api, ann).read("pass.json"))["storeCard"]
              ["auxiliaryFields"] if f["key"] == "reward"]
    assert reward[0]["value"] == "Cookie"


def test_stamp_artwork_upload(api: Api, app: Flask) -> None:
    program = stamp_program(api)
    ann = api.post(f"/programs/{program['id']}/members", {"email": "s3@example.test"}).get_json()
    api.post(f"/members/{ann['id']}/earn", {"points": 4})
    plain = pkpass(api, ann).read("strip@2x.png")
    art = io.BytesIO()
    Image.new("RGB", (200, 200), (220, 20, 60)).save(art, "PNG")
    resp = api.put(f"/programs/{program['id']}/stamp", data=art.getvalue(),
                   content_type="image/png")
    assert resp.status_code == 200, resp.get_json()
    assert resp.get_json()["design_version"] > program["design_version"]
    drawn = Image.open(io.BytesIO(pkpass(api, ann).read("strip@2x.png"))).convert("RGB")
    assert drawn.tobytes() != Image.open(io.BytesIO(plain)).convert("RGB").tobytes()
    assert drawn.getpixel(centre_of_stamp(0, 10, 2))[0] > 180  # the red artwork
    bad = api.put(f"/programs/{program['id']}/stamp", data=b"not an image",
                  content_type="image/png")
    assert bad.status_code in (400, 415, 422)
