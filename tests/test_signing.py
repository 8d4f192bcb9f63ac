"""Manifest, detached CMS signature and ZIP of a .pkpass, checked with openssl and zipfile."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import shutil
import subprocess
import zipfile
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.padding import PKCS1v15
from cryptography.hazmat.primitives.serialization import pkcs7

from app.wallet.apple.certs import SigningIdentity, create_dev_identity, load_identity
from app.wallet.apple.signing import (
    OID_CONTENT_TYPE,
    OID_DATA,
    OID_MESSAGE_DIGEST,
    OID_SIGNED_DATA,
    OID_SIGNING_TIME,
    PassSigner,
    StaticBundle,
    make_static_bundle,
    sign_manifest_reference,
)
from tests.test_certs import issue, name, write_cert, write_key

OID_SMIME_CAPABILITIES = bytes.fromhex("06092a864886f70d01090f")
OID_SHA256 = bytes.fromhex("0609608648016503040201")
OID_RSA = bytes.fromhex("06092a864886f70d010101")
OID_ECDSA_SHA256 = bytes.fromhex("06082a8648ce3d040302")
NEWLINE_MANIFEST = b'{\n  "icon.png": "0a0b",\n  "pass.json": "0c0d"\n}\n'
STATIC_FILES = {
    "icon.png": b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4,
    "icon@2x.png": b"\x89PNG\r\n\x1a\n" + bytes(range(255, -1, -1)) * 8,
    "logo.png": b"\x89PNG\r\n\x1a\n" + b"\x00" * 3000,
    "strip@3x.png": b"\x89PNG\r\n\x1a\n" + hashlib.sha512(b"strip").digest() * 64,
    "en.lproj/pass.strings": '"points" = "Points";\n'.encode("utf-16"),
    "th.lproj/pass.strings": '"points" = "คะแนน";\n'.encode("utf-16"),
    "zh-Hant.lproj/pass.strings": '"points" = "點數";\n'.encode("utf-16"),
}


# --- a minimal DER reader, enough to look inside a SignedData ---------------------------


def tlv(data: bytes, pos: int = 0) -> tuple[int, bytes, int]:
    """Return (tag, content, end offset) of the element at `pos`."""
    tag, size = data[pos], data[pos + 1]
    pos += 2
    if size & 0x80:
        count = size & 0x7F
        size = int.from_bytes(data[pos : pos + count], "big")
        pos += count
    return tag, data[pos : pos + size], pos + size


def children(content: bytes) -> list[tuple[int, bytes, bytes]]:
    """Return (tag, content, whole encoding) of each element in a constructed content."""
    out, pos = [], 0
    while pos < len(content):
        tag, inner, end = tlv(content, pos)
        out.append((tag, inner, content[pos:end]))
        pos = end
    return out


def signed_data(signature: bytes) -> dict[str, Any]:
    """Split a ContentInfo(SignedData) into the parts the tests look at."""
    tag, content_info, end = tlv(signature)
    assert tag == 0x30 and end == len(signature)
    (_, _, content_type), (explicit_tag, explicit, _) = children(content_info)
    assert content_type == OID_SIGNED_DATA and explicit_tag == 0xA0
    version, digest_algs, encap, certs, signer_infos = children(children(explicit)[0][1])
    assert certs[0] == 0xA0
    (_, signer_info, _), = children(signer_infos[1])  # fmt: skip
    si_version, sid, digest_alg, attrs, sig_alg, sig = children(signer_info)
    return {
        "version": version[2],
        "digest_algorithms": digest_algs[2],
        "encap": encap[2],
        "certificates": [whole for _, _, whole in children(certs[1])],
        "signer_version": si_version[2],
        "sid": sid[2],
        "digest_alg": digest_alg[2],
        "attrs": attrs,
        "sig_alg": sig_alg[2],
        "signature": sig[1],
    }


def attributes(signature: bytes) -> dict[bytes, bytes]:
    """Return the signed attributes as {OID encoding: single value encoding}."""
    _, content, _ = signed_data(signature)["attrs"]
    out = {}
    for _, attribute, _ in children(content):
        (_, _, oid), (_, values, _) = children(attribute)
        (_, _, value), = children(values)  # fmt: skip
        out[oid] = value
    return out


def signing_time(signature: bytes) -> dt.datetime:
    """Read the signingTime attribute."""
    tag, text, _ = tlv(attributes(signature)[OID_SIGNING_TIME])
    form = "%y%m%d%H%M%SZ" if tag == 0x17 else "%Y%m%d%H%M%SZ"
    return dt.datetime.strptime(text.decode(), form).replace(tzinfo=dt.UTC)


# --- fixtures and helpers ----------------------------------------------------------------


@pytest.fixture(scope="session")
def dev(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A development identity for the session."""
    return create_dev_identity(tmp_path_factory.mktemp("signing-certs"))


@pytest.fixture(scope="session")
def identity(dev: dict[str, Path]) -> SigningIdentity:
    """The loaded development identity."""
    return load_identity(cert_path=dev["cert"], key_path=dev["key"], wwdr_path=dev["wwdr"])


@pytest.fixture(scope="session")
def signer(identity: SigningIdentity) -> PassSigner:
    """A fast signer for the development identity."""
    return PassSigner(identity)


@pytest.fixture(scope="session")
def bundle() -> StaticBundle:
    """Static files of a test program."""
    return make_static_bundle(STATIC_FILES)


def openssl_verify(
    tmp_path: Path, signature: bytes, manifest: bytes, root: Path
) -> subprocess.CompletedProcess[str]:
    """Run `openssl cms -verify` on a detached signature, trusting only `root`."""
    (tmp_path / "signature").write_bytes(signature)
    (tmp_path / "manifest.json").write_bytes(manifest)
    return subprocess.run(
        ["openssl", "cms", "-verify", "-binary", "-inform", "DER",
         "-in", str(tmp_path / "signature"), "-content", str(tmp_path / "manifest.json"),
         "-CAfile", str(root), "-purpose", "any", "-out", "/dev/null"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip


def pass_json(identity: SigningIdentity, serial: str = "M0001", points: int = 120) -> dict:
    """A small storeCard pass.json with non-ASCII text."""
    return {
        "formatVersion": 1,
        "passTypeIdentifier": identity.pass_type_id,
        "teamIdentifier": identity.team_id,
        "serialNumber": serial,
        "organizationName": "Café Lumière",
        "description": "Loyalty card — ร้านกาแฟ",
        "storeCard": {"primaryFields": [{"key": "points", "label": "points", "value": points}]},
    }


# --- the signature -----------------------------------------------------------------------


def test_signature_verifies_with_openssl_and_embeds_the_wwdr(
    signer: PassSigner, dev: dict[str, Path], tmp_path: Path
) -> None:
    manifest = json.dumps({"icon.png": "ab" * 20}).encode()
    result = openssl_verify(tmp_path, signer.sign_manifest(manifest), manifest, dev["root"])
    assert result.returncode == 0, result.stderr
    assert "Verification successful" in result.stderr


def test_verification_needs_the_embedded_wwdr(
    identity: SigningIdentity, dev: dict[str, Path], tmp_path: Path
) -> None:
    """Control: without the WWDR inside, trusting only the root is not enough."""
    manifest = b'{"icon.png":"00"}'
    bare = (
        pkcs7.PKCS7SignatureBuilder()
        .set_data(manifest)
        .add_signer(identity.certificate, identity.private_key, hashes.SHA256())
        .sign(serialization.Encoding.DER, [pkcs7.PKCS7Options.DetachedSignature])
    )
    assert openssl_verify(tmp_path, bare, manifest, dev["root"]).returncode != 0


def test_tampered_manifest_fails(signer: PassSigner, dev: dict[str, Path], tmp_path: Path) -> None:
    manifest = b'{"icon.png":"0123456789abcdef0123456789abcdef01234567"}'
    signature = signer.sign_manifest(manifest)
    tampered = manifest.replace(b"0123", b"1123", 1)
    result = openssl_verify(tmp_path, signature, tampered, dev["root"])
    assert result.returncode != 0
    assert "Verification failure" in result.stderr or "digest failure" in result.stderr


def test_manifest_with_newlines_verifies_binary(
    signer: PassSigner, dev: dict[str, Path], tmp_path: Path
) -> None:
    signature = signer.sign_manifest(NEWLINE_MANIFEST)
    assert openssl_verify(tmp_path, signature, NEWLINE_MANIFEST, dev["root"]).returncode == 0
    digest = attributes(signature)[OID_MESSAGE_DIGEST]
    assert digest == b"\x04\x20" + hashlib.sha256(NEWLINE_MANIFEST).digest()
    crlf = NEWLINE_MANIFEST.replace(b"\n", b"\r\n")
    assert openssl_verify(tmp_path, signature, crlf, dev["root"]).returncode != 0


def test_signed_attributes_and_signing_time(signer: PassSigner, tmp_path: Path) -> None:
    before = dt.datetime.now(dt.UTC).replace(microsecond=0)
    signature = signer.sign_manifest(b"{}")
    after = dt.datetime.now(dt.UTC)
    attrs = attributes(signature)
    assert list(attrs) == [OID_CONTENT_TYPE, OID_SIGNING_TIME, OID_MESSAGE_DIGEST]
    assert attrs[OID_CONTENT_TYPE] == OID_DATA
    assert before <= signing_time(signature) <= after
    (tmp_path / "sig.der").write_bytes(signature)
    printed = subprocess.run(
        ["openssl", "cms", "-cmsout", "-print", "-inform", "DER", "-in", str(tmp_path / "sig.der")],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    assert "signingTime" in printed and "messageDigest" in printed
    assert "eContent: <ABSENT>" in printed


def test_explicit_signing_time_and_generalized_time_after_2049(signer: PassSigner) -> None:
    moment = dt.datetime(2031, 5, 6, 7, 8, 9, tzinfo=dt.UTC)
    assert signing_time(signer.sign_manifest(b"{}", moment)) == moment
    later = dt.datetime(2051, 1, 2, 3, 4, 5, tzinfo=dt.timezone(dt.timedelta(hours=7)))
    signature = signer.sign_manifest(b"{}", later)
    assert attributes(signature)[OID_SIGNING_TIME][0] == 0x18
    assert signing_time(signature) == later


def test_structure_and_both_certificates(signer: PassSigner, identity: SigningIdentity) -> None:
    parts = signed_data(signer.sign_manifest(b"{}"))
    der = serialization.Encoding.DER
    cert, wwdr = identity.certificate.public_bytes(der), identity.wwdr.public_bytes(der)
    assert sorted(parts["certificates"]) == sorted([cert, wwdr])
    assert parts["encap"] == b"\x30" + bytes([len(OID_DATA)]) + OID_DATA  # no eContent
    assert parts["version"] == parts["signer_version"] == b"\x02\x01\x01"
    assert OID_SHA256 in parts["digest_alg"] and OID_RSA in parts["sig_alg"]
    assert parts["attrs"][0] == 0xA0
    assert len(parts["signature"]) == 256
    serial = identity.certificate.serial_number
    assert serial.to_bytes((serial.bit_length() + 8) // 8, "big") in parts["sid"]


def test_signature_is_over_the_set_of_encoding(
    signer: PassSigner, identity: SigningIdentity
) -> None:
    signature = signer.sign_manifest(b'{"a":"b"}')
    parts = signed_data(signature)
    whole = parts["attrs"][2]
    as_set = b"\x31" + whole[1:]
    public_key = identity.certificate.public_key()
    assert isinstance(public_key, rsa.RSAPublicKey)
    public_key.verify(parts["signature"], as_set, PKCS1v15(), hashes.SHA256())


# --- against cryptography's PKCS7SignatureBuilder -----------------------------------------


def test_reference_signature_verifies(
    identity: SigningIdentity, dev: dict[str, Path], tmp_path: Path
) -> None:
    signature = sign_manifest_reference(identity, NEWLINE_MANIFEST)
    assert openssl_verify(tmp_path, signature, NEWLINE_MANIFEST, dev["root"]).returncode == 0


def test_fast_matches_reference_in_kind(signer: PassSigner, identity: SigningIdentity) -> None:
    fast = signed_data(signer.sign_manifest(NEWLINE_MANIFEST))
    reference = signed_data(sign_manifest_reference(identity, NEWLINE_MANIFEST))
    for part in ("version", "digest_algorithms", "encap", "signer_version", "sid",
                 "digest_alg", "sig_alg"):  # fmt: skip
        assert fast[part] == reference[part], part
    assert sorted(fast["certificates"]) == sorted(reference["certificates"])
    fast_attrs = attributes(signer.sign_manifest(NEWLINE_MANIFEST))
    reference_attrs = attributes(sign_manifest_reference(identity, NEWLINE_MANIFEST))
    assert set(reference_attrs) - set(fast_attrs) == {OID_SMIME_CAPABILITIES}
    assert fast_attrs[OID_MESSAGE_DIGEST] == reference_attrs[OID_MESSAGE_DIGEST]
    assert fast_attrs[OID_CONTENT_TYPE] == reference_attrs[OID_CONTENT_TYPE]


def test_fast_is_byte_identical_to_reference_without_capabilities(
    signer: PassSigner, identity: SigningIdentity
) -> None:
    reference = (
        pkcs7.PKCS7SignatureBuilder()
        .set_data(NEWLINE_MANIFEST)
        .add_signer(identity.certificate, identity.private_key, hashes.SHA256())
        .add_certificate(identity.wwdr)
        .sign(serialization.Encoding.DER, [
            pkcs7.PKCS7Options.DetachedSignature, pkcs7.PKCS7Options.Binary,
            pkcs7.PKCS7Options.NoCapabilities,
        ])
    )  # fmt: skip
    assert signer.sign_manifest(NEWLINE_MANIFEST, signing_time(reference)) == reference


def test_ec_identity_signs_and_verifies(dev: dict[str, Path], tmp_path: Path) -> None:
    root = issue(name("EC Root"), ec.generate_private_key(ec.SECP256R1()), ca=True)
    wwdr = issue(name("EC WWDR"), ec.generate_private_key(ec.SECP256R1()), root, ca=True)
    leaf = issue(name("Pass", "pass.ec", "TEAM"), ec.generate_private_key(ec.SECP256R1()), wwdr)
    identity = load_identity(
        cert_path=write_cert(tmp_path / "c.pem", leaf.cert),
        key_path=write_key(tmp_path / "k.pem", leaf.key),
        wwdr_path=write_cert(tmp_path / "w.pem", wwdr.cert),
    )
    signature = PassSigner(identity).sign_manifest(NEWLINE_MANIFEST)
    assert OID_ECDSA_SHA256 in signed_data(signature)["sig_alg"]
    root_path = write_cert(tmp_path / "root.pem", root.cert)
    result = openssl_verify(tmp_path, signature, NEWLINE_MANIFEST, root_path)
    assert result.returncode == 0, result.stderr


# --- the archive -------------------------------------------------------------------------


def test_pkpass_archive_manifest_and_signature(
    signer: PassSigner, identity: SigningIdentity, bundle: StaticBundle,
    dev: dict[str, Path], tmp_path: Path,
) -> None:  # fmt: skip
    data = pass_json(identity)
    archive = zipfile.ZipFile(io.BytesIO(signer.build_pkpass(data, bundle)))
    assert archive.testzip() is None
    names = archive.namelist()
    assert len(names) == len(set(names))
    assert set(names) == set(STATIC_FILES) | {"pass.json", "manifest.json", "signature"}
    manifest = json.loads(archive.read("manifest.json"))
    assert set(manifest) == set(names) - {"manifest.json", "signature"}
    for file_name, digest in manifest.items():
        assert hashlib.sha1(archive.read(file_name)).hexdigest() == digest, file_name
    for file_name, content in STATIC_FILES.items():
        assert archive.read(file_name) == content
    raw_pass = archive.read("pass.json")
    assert json.loads(raw_pass) == data
    assert raw_pass.startswith(b'{"formatVersion":1,"passTypeIdentifier":')  # compact
    assert "Café Lumière".encode() in raw_pass  # UTF-8, not \u escapes
    result = openssl_verify(
        tmp_path, archive.read("signature"), archive.read("manifest.json"), dev["root"]
    )
    assert result.returncode == 0, result.stderr


def test_unzip_accepts_the_archive(
    signer: PassSigner, identity: SigningIdentity, bundle: StaticBundle, tmp_path: Path
) -> None:
    if shutil.which("unzip") is None:
        pytest.skip("unzip is not installed")
    path = tmp_path / "card.pkpass"
    path.write_bytes(signer.build_pkpass(pass_json(identity), bundle))
    result = subprocess.run(["unzip", "-t", str(path)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "No errors detected" in result.stdout


def test_passes_differ_and_bundle_is_reused(
    signer: PassSigner, identity: SigningIdentity, bundle: StaticBundle
) -> None:
    first = zipfile.ZipFile(io.BytesIO(signer.build_pkpass(pass_json(identity, "A", 1), bundle)))
    second = zipfile.ZipFile(io.BytesIO(signer.build_pkpass(pass_json(identity, "B", 2), bundle)))
    assert first.read("manifest.json") != second.read("manifest.json")
    assert json.loads(second.read("pass.json"))["serialNumber"] == "B"
    assert bundle.manifest == {n: hashlib.sha1(d).hexdigest() for n, d in STATIC_FILES.items()}


def test_empty_bundle_gives_only_the_three_files(
    signer: PassSigner, identity: SigningIdentity
) -> None:
    archive = zipfile.ZipFile(
        io.BytesIO(signer.build_pkpass(pass_json(identity), make_static_bundle({})))
    )
    assert archive.testzip() is None
    assert sorted(archive.namelist()) == ["manifest.json", "pass.json", "signature"]
    assert list(json.loads(archive.read("manifest.json"))) == ["pass.json"]


def test_pass_json_must_match_the_certificate(
    signer: PassSigner, identity: SigningIdentity, bundle: StaticBundle
) -> None:
    data = pass_json(identity) | {"teamIdentifier": "OTHERTEAM"}
    with pytest.raises(ValueError, match="do not match the signing certificate"):
        signer.build_pkpass(data, bundle)


@pytest.mark.parametrize(
    "bad_name",
    ["pass.json", "manifest.json", "signature", "Pass.JSON", "../icon.png", "/etc/icon.png",
     "a/../../b.png", "en.lproj//pass.strings", "a\\b.png", "", "./icon.png"],
)  # fmt: skip
def test_static_bundle_rejects_reserved_and_unsafe_names(bad_name: str) -> None:
    with pytest.raises(ValueError, match="invalid or reserved"):
        make_static_bundle({"icon.png": b"x", bad_name: b"y"})


def test_static_bundle_rejects_non_string_names_and_non_bytes() -> None:
    with pytest.raises(TypeError, match="must be strings"):
        make_static_bundle({b"icon.png": b"x"})  # type: ignore[dict-item]
    with pytest.raises(TypeError, match="must be bytes"):
        make_static_bundle({"icon.png": "text"})  # type: ignore[dict-item]
