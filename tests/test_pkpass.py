"""A pass downloaded from links.apple follows every rule of the pass format."""

from __future__ import annotations

import hashlib
import io
import json
import re
import subprocess
import zipfile
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.x509.oid import NameOID

from tests.conftest import BASE_URL, Api

RGB = re.compile(r"^rgb\(\d{1,3}, \d{1,3}, \d{1,3}\)$")
LANGS = ("en", "th", "zh-Hant", "vi", "ms")


def download(api: Api, member: dict[str, Any]) -> zipfile.ZipFile:
    """Fetch a member's pass through its public link."""
    resp = api.client.get(member["links"]["apple"].removeprefix(BASE_URL))
    assert resp.status_code == 200
    return zipfile.ZipFile(io.BytesIO(resp.data))


def all_fields(pass_json: dict[str, Any]) -> list[dict[str, Any]]:
    """Every field of the storeCard."""
    card = pass_json["storeCard"]
    return [f for group in ("headerFields", "primaryFields", "secondaryFields",
                            "auxiliaryFields", "backFields") for f in card[group]]


def test_pass_json_rules(api: Api, member: dict[str, Any], cert_paths: dict[str, Path]
                         ) -> None:
    zf = download(api, member)
    data = json.loads(zf.read("pass.json"))
    cert = x509.load_pem_x509_certificate(cert_paths["cert"].read_bytes())
    uid = cert.subject.get_attributes_for_oid(NameOID.USER_ID)[0].value
    ou = cert.subject.get_attributes_for_oid(NameOID.ORGANIZATIONAL_UNIT_NAME)[0].value
    assert data["formatVersion"] == 1
    assert data["passTypeIdentifier"] == uid
    assert data["teamIdentifier"] == ou
    assert data["serialNumber"] == member["serial_number"]
    assert data["organizationName"] and data["description"]
    styles = {"boardingPass", "coupon", "eventTicket", "generic", "storeCard"} & set(data)
    assert styles == {"storeCard"}
    for color in ("backgroundColor", "foregroundColor", "labelColor"):
        assert RGB.match(data[color]), data[color]
    assert "barcode" not in data and "nfc" not in data
    [barcode] = data["barcodes"]
    assert barcode["format"] == "PKBarcodeFormatQR"
    assert barcode["message"] == member["serial_number"]
    assert barcode["messageEncoding"] == "iso-8859-1"
    assert data["webServiceURL"] == BASE_URL + "/wallet"
    assert not data["webServiceURL"].rstrip("/").endswith("/v1")
    assert len(data["authenticationToken"]) >= 16
    keys = [f["key"] for f in all_fields(data)]
    assert len(keys) == len(set(keys))
    [points] = data["storeCard"]["primaryFields"]
    assert points["value"] == member["points"]
    assert "%@" in points["changeMessage"]
    for f in all_fields(data):
        assert "%@" in f.get("changeMessage", "%@")


def test_images_manifest_and_signature(api: Api, member: dict[str, Any],
                                       cert_paths: dict[str, Path], tmp_path: Path) -> None:
    zf = download(api, member)
    names = set(zf.namelist())
    assert {"icon.png", "icon@2x.png", "icon@3x.png"} <= names
    manifest = json.loads(zf.read("manifest.json"))
    assert set(manifest) == names - {"manifest.json", "signature"}
    for name, digest in manifest.items():
        assert hashlib.sha1(zf.read(name)).hexdigest() == digest
    (tmp_path / "manifest.json").write_bytes(zf.read("manifest.json"))
    (tmp_path / "signature").write_bytes(zf.read("signature"))
    result = subprocess.run(
        ["openssl", "cms", "-verify", "-binary", "-inform", "DER", "-in",
         str(tmp_path / "signature"), "-content", str(tmp_path / "manifest.json"),
         "-CAfile", str(cert_paths["root"]), "-purpose", "any", "-out", "/dev/null"],
        capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr


def test_localizations(api: Api, member: dict[str, Any]) -> None:
    from app.wallet.i18n import parse_strings

    zf = download(api, member)
    data = json.loads(zf.read("pass.json"))
    labels = {f["label"] for f in all_fields(data)}
    for lang in LANGS:
        raw = zf.read(f"{lang}.lproj/pass.strings")
        assert raw[:2] in (b"\xff\xfe", b"\xfe\xff"), lang
        strings = parse_strings(raw)
        assert "Points" in labels
        if lang != "en":
            assert strings["Points"] != "Points", lang
            assert "%@" in strings["You now have %@ points"]


def test_each_pass_is_distinct_and_tracks_points(api: Api, program: dict[str, Any],
                                                 member: dict[str, Any]) -> None:
    other = api.post(f"/programs/{program['id']}/members", {"email": "bo@example.test"})
    first = json.loads(download(api, member).read("pass.json"))
    second = json.loads(download(api, other.get_json()).read("pass.json"))
    assert first["serialNumber"] != second["serialNumber"]
    assert first["authenticationToken"] != second["authenticationToken"]


def test_design_change_shows_in_pass(api: Api, program: dict[str, Any],
                                     member: dict[str, Any]) -> None:
    api.patch(f"/programs/{program['id']}", {"background_color": "#102030",
                                             "barcode_format": "pdf417",
                                             "locations": [{"latitude": 13.75,
                                                            "longitude": 100.5,
                                                            "relevant_text": "Hi!"}]})
    data = json.loads(download(api, member).read("pass.json"))
    assert data["backgroundColor"] == "rgb(16, 32, 48)"
    assert data["barcodes"][0]["format"] == "PKBarcodeFormatPDF417"
    assert data["locations"] == [{"latitude": 13.75, "longitude": 100.5,
                                  "relevantText": "Hi!"}]


def test_tier_recolours_the_card(api: Api, program: dict[str, Any],
                                 member: dict[str, Any]) -> None:
    resp = api.post(f"/programs/{program['id']}/tiers",
                    {"name": "Gold", "threshold": 50, "background_color": "#AA8800"})
    assert resp.status_code == 201, resp.get_json()
    assert api.post(f"/members/{member['id']}/earn", {"points": 60}).status_code in (200, 201)
    data = json.loads(download(api, member).read("pass.json"))
    assert data["backgroundColor"] == "rgb(170, 136, 0)"
    values = {f["key"]: f["value"] for f in all_fields(data)}
    assert "Gold" in values.values()
