"""Loading and checking the Apple signing identity, and the development chain."""

from __future__ import annotations

import datetime as dt
import os
import stat
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from app.wallet.apple.certs import (
    CertificateError,
    SigningIdentity,
    create_dev_identity,
    expiry_warning,
    load_identity,
)

APPLE_WWDR_G4 = Path(os.environ.get("WALLETPASS_TEST_APPLE_WWDR", "/nonexistent"))
"""Apple's real WWDR G4 intermediate, if a tester points at a downloaded copy."""
PASSWORD = "correct horse battery staple"
NOW = dt.datetime.now(dt.UTC)
DAY = dt.timedelta(days=1)


# --- a small PKI for building good and bad certificates -------------------------------


@dataclass
class Issued:
    """A certificate with its key."""

    cert: x509.Certificate
    key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey


def name(common_name: str, uid: str | None = None, ou: str | None = None) -> x509.Name:
    """Build a subject name with optional UID and OU."""
    attrs = []
    if uid is not None:
        attrs.append(x509.NameAttribute(NameOID.USER_ID, uid))
    attrs.append(x509.NameAttribute(NameOID.COMMON_NAME, common_name))
    if ou is not None:
        attrs.append(x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, ou))
    return x509.Name(attrs)


def issue(
    subject: x509.Name,
    key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey,
    issuer: Issued | None = None,
    *,
    ca: bool = False,
    start: dt.datetime = NOW - DAY,
    end: dt.datetime = NOW + 365 * DAY,
) -> Issued:
    """Sign a certificate for `key` (self-signed when no issuer is given)."""
    signer = issuer.key if issuer else key
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer.cert.subject if issuer else subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    return Issued(builder.sign(signer, hashes.SHA256()), key)


def ec_key() -> ec.EllipticCurvePrivateKey:
    """Return a fresh P-256 key (fast to make, fine for test CAs)."""
    return ec.generate_private_key(ec.SECP256R1())


@dataclass
class Pki:
    """A test root, a WWDR-like intermediate and an RSA leaf key."""

    root: Issued
    wwdr: Issued
    leaf_key: rsa.RSAPrivateKey

    def leaf(
        self, uid: str | None = "pass.test.card", ou: str | None = "TEAM123456", **kw
    ) -> Issued:
        """Issue a Pass Type ID-shaped certificate from the intermediate."""
        return issue(name("Pass Type ID: test", uid, ou), self.leaf_key, self.wwdr, **kw)


@pytest.fixture(scope="session")
def pki() -> Pki:
    """One test chain for the whole session."""
    root = issue(name("Test Root"), ec_key(), ca=True, end=NOW + 3650 * DAY)
    wwdr = issue(name("Test WWDR", ou="G4"), ec_key(), root, ca=True, end=NOW + 3650 * DAY)
    return Pki(root, wwdr, rsa.generate_private_key(public_exponent=65537, key_size=2048))


def write_cert(path: Path, cert: x509.Certificate, der: bool = False) -> Path:
    """Write a certificate as PEM (or DER)."""
    encoding = serialization.Encoding.DER if der else serialization.Encoding.PEM
    path.write_bytes(cert.public_bytes(encoding))
    return path


def write_key(path: Path, key: object, password: str | None = None) -> Path:
    """Write a private key as PKCS#8 PEM, encrypted when a password is given."""
    protection = (
        serialization.BestAvailableEncryption(password.encode())
        if password
        else serialization.NoEncryption()
    )
    path.write_bytes(
        key.private_bytes(  # type: ignore[attr-defined]
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, protection
        )
    )
    return path


def write_p12(path: Path, leaf: Issued, extra: list[x509.Certificate], password: str) -> Path:
    """Write a password-protected .p12 with a leaf, its key and extra certificates."""
    path.write_bytes(
        pkcs12.serialize_key_and_certificates(
            b"pass", leaf.key, leaf.cert, extra,  # type: ignore[arg-type]
            serialization.BestAvailableEncryption(password.encode()),
        )
    )  # fmt: skip
    return path


def load_files(tmp_path: Path, leaf: Issued, wwdr: x509.Certificate, **kw) -> SigningIdentity:
    """Write leaf, key and WWDR as PEM files and load them."""
    return load_identity(
        cert_path=write_cert(tmp_path / "cert.pem", leaf.cert),
        key_path=write_key(tmp_path / "key.pem", leaf.key),
        wwdr_path=write_cert(tmp_path / "wwdr.pem", wwdr),
        **kw,
    )


def expect_error(match: str, **kwargs: object) -> CertificateError:
    """Call load_identity, expect a CertificateError matching `match`, and return it."""
    with pytest.raises(CertificateError, match=match) as info:
        load_identity(**kwargs)  # type: ignore[arg-type]
    message = str(info.value)
    assert PASSWORD not in message and "PRIVATE KEY" not in message
    return info.value


# --- loading good identities ----------------------------------------------------------


def test_loads_pem_files_and_reads_ids_from_subject(pki: Pki, tmp_path: Path) -> None:
    leaf = pki.leaf()
    identity = load_files(tmp_path, leaf, pki.wwdr.cert)
    assert identity.pass_type_id == "pass.test.card"
    assert identity.team_id == "TEAM123456"
    assert identity.certificate == leaf.cert
    assert identity.wwdr == pki.wwdr.cert
    assert identity.not_after == leaf.cert.not_valid_after_utc
    assert identity.not_after.tzinfo is not None


def test_loads_der_certificates_and_encrypted_key(pki: Pki, tmp_path: Path) -> None:
    leaf = pki.leaf()
    identity = load_identity(
        cert_path=write_cert(tmp_path / "cert.cer", leaf.cert, der=True),
        key_path=write_key(tmp_path / "key.pem", leaf.key, PASSWORD),
        key_password=PASSWORD,
        wwdr_path=write_cert(tmp_path / "wwdr.cer", pki.wwdr.cert, der=True),
    )
    assert identity.pass_type_id == "pass.test.card"


def test_accepts_ec_key(pki: Pki, tmp_path: Path) -> None:
    leaf = issue(name("Pass Type ID: ec", "pass.test.ec", "TEAM"), ec_key(), pki.wwdr)
    identity = load_files(tmp_path, leaf, pki.wwdr.cert)
    assert isinstance(identity.private_key, ec.EllipticCurvePrivateKey)


def test_p12_with_wwdr_inside(pki: Pki, tmp_path: Path) -> None:
    leaf = pki.leaf()
    p12 = write_p12(tmp_path / "id.p12", leaf, [pki.root.cert, pki.wwdr.cert], PASSWORD)
    identity = load_identity(p12_path=p12, p12_password=PASSWORD)
    assert identity.wwdr == pki.wwdr.cert
    assert identity.certificate == leaf.cert


def test_p12_without_wwdr_needs_a_wwdr_file(pki: Pki, tmp_path: Path) -> None:
    p12 = write_p12(tmp_path / "id.p12", pki.leaf(), [], PASSWORD)
    expect_error("WWDR intermediate certificate is missing", p12_path=p12, p12_password=PASSWORD)
    expect_error("WWDR intermediate certificate is missing", p12_path=p12, p12_password=PASSWORD,
                 wwdr_path="")  # fmt: skip
    wwdr = write_cert(tmp_path / "wwdr.pem", pki.wwdr.cert)
    identity = load_identity(p12_path=p12, p12_password=PASSWORD, wwdr_path=wwdr)
    assert identity.wwdr == pki.wwdr.cert


def test_separate_wwdr_file_wins_over_p12_contents(pki: Pki, tmp_path: Path) -> None:
    other = issue(name("Test WWDR", ou="G4"), ec_key(), pki.root, ca=True)
    p12 = write_p12(tmp_path / "id.p12", pki.leaf(), [pki.wwdr.cert], PASSWORD)
    wwdr = write_cert(tmp_path / "wwdr.pem", other.cert)
    expect_error("signature does not verify", p12_path=p12, p12_password=PASSWORD, wwdr_path=wwdr)


# --- each failure, with a clear message -------------------------------------------------


def test_no_files_configured(tmp_path: Path) -> None:
    expect_error("no signing certificate configured")
    expect_error("no signing certificate configured", cert_path="", key_path="", p12_path="")
    cert = tmp_path / "cert.pem"
    expect_error("a certificate file is configured but no private key", cert_path=cert)
    expect_error("a private key file is configured but no certificate", key_path=cert)


def test_missing_and_unreadable_files(pki: Pki, tmp_path: Path) -> None:
    key = write_key(tmp_path / "key.pem", pki.leaf_key)
    wwdr = write_cert(tmp_path / "wwdr.pem", pki.wwdr.cert)
    missing = tmp_path / "nope.pem"
    expect_error(f"{missing} does not exist", cert_path=missing, key_path=key, wwdr_path=wwdr)
    folder = tmp_path / "folder.pem"
    folder.mkdir()
    expect_error(f"{folder} cannot be read", cert_path=folder, key_path=key, wwdr_path=wwdr)


def test_files_that_are_not_certificates_or_keys(pki: Pki, tmp_path: Path) -> None:
    leaf = pki.leaf()
    cert = write_cert(tmp_path / "cert.pem", leaf.cert)
    key = write_key(tmp_path / "key.pem", leaf.key)
    wwdr = write_cert(tmp_path / "wwdr.pem", pki.wwdr.cert)
    junk = tmp_path / "junk.txt"
    junk.write_bytes(b"this is not a certificate")
    expect_error("junk.txt is not a PEM or DER X.509", cert_path=junk, key_path=key, wwdr_path=wwdr)
    expect_error(
        "junk.txt is not a PEM or DER private", cert_path=cert, key_path=junk, wwdr_path=wwdr
    )
    expect_error("junk.txt is not a PEM or DER X.509", cert_path=cert, key_path=key, wwdr_path=junk)


def test_key_passwords(pki: Pki, tmp_path: Path) -> None:
    leaf = pki.leaf()
    cert = write_cert(tmp_path / "cert.pem", leaf.cert)
    key = write_key(tmp_path / "key.pem", leaf.key, PASSWORD)
    wwdr = write_cert(tmp_path / "wwdr.pem", pki.wwdr.cert)
    files = {"cert_path": cert, "key_path": key, "wwdr_path": wwdr}
    error = expect_error("wrong key password", key_password="not it", **files)
    assert "not it" not in str(error)
    expect_error("is encrypted: set its password", **files)


def test_key_that_does_not_match_the_certificate(pki: Pki, tmp_path: Path) -> None:
    leaf = pki.leaf()
    expect_error(
        "private key does not match",
        cert_path=write_cert(tmp_path / "cert.pem", leaf.cert),
        key_path=write_key(tmp_path / "key.pem", ec_key()),
        wwdr_path=write_cert(tmp_path / "wwdr.pem", pki.wwdr.cert),
    )


def test_expired_and_not_yet_valid_certificate(pki: Pki, tmp_path: Path) -> None:
    expired = pki.leaf(start=NOW - 400 * DAY, end=NOW - DAY)
    with pytest.raises(CertificateError, match="expired on"):
        load_files(tmp_path, expired, pki.wwdr.cert)
    future = pki.leaf(start=NOW + 10 * DAY, end=NOW + 400 * DAY)
    with pytest.raises(CertificateError, match="not valid before"):
        load_files(tmp_path, future, pki.wwdr.cert)
    with pytest.raises(CertificateError, match="expired on"):
        load_files(tmp_path, pki.leaf(), pki.wwdr.cert, now=NOW + 3 * 365 * DAY)


@pytest.mark.parametrize(("uid", "ou", "missing"), [(None, "TEAM", "UID"), ("pass.x", None, "OU")])
def test_subject_without_uid_or_ou(
    pki: Pki, tmp_path: Path, uid: str | None, ou: str | None, missing: str
) -> None:
    with pytest.raises(CertificateError, match=f"not a Pass Type ID certificate.*no {missing}"):
        load_files(tmp_path, pki.leaf(uid=uid, ou=ou), pki.wwdr.cert)


def test_missing_wwdr(pki: Pki, tmp_path: Path) -> None:
    leaf = pki.leaf()
    expect_error(
        "WWDR intermediate certificate is missing",
        cert_path=write_cert(tmp_path / "cert.pem", leaf.cert),
        key_path=write_key(tmp_path / "key.pem", leaf.key),
    )


def test_wwdr_with_another_name_is_not_the_issuer(pki: Pki, tmp_path: Path) -> None:
    stranger = issue(name("Some Other CA"), ec_key(), pki.root, ca=True)
    with pytest.raises(CertificateError, match="Some Other CA.*is not the issuer"):
        load_files(tmp_path, pki.leaf(), stranger.cert)


def test_wwdr_with_same_name_but_other_key_is_not_the_issuer(pki: Pki, tmp_path: Path) -> None:
    impostor = issue(pki.wwdr.cert.subject, ec_key(), pki.root, ca=True)
    with pytest.raises(CertificateError, match="is not the issuer.*signature does not verify"):
        load_files(tmp_path, pki.leaf(), impostor.cert)


def test_real_apple_wwdr_is_not_the_issuer_of_a_dev_certificate(
    dev_paths: dict[str, Path], pki: Pki
) -> None:
    if APPLE_WWDR_G4.exists():
        wwdr_path, expected = APPLE_WWDR_G4, "Apple Worldwide Developer Relations"
    else:  # build the same case from a CA of our own
        wwdr_path = write_cert(dev_paths["root"].parent / "other-wwdr.pem", pki.wwdr.cert)
        expected = "Test WWDR"
    with pytest.raises(CertificateError, match=f"{expected}.*is not the issuer") as info:
        load_identity(cert_path=dev_paths["cert"], key_path=dev_paths["key"], wwdr_path=wwdr_path)
    assert "walletpass Development WWDR" in str(info.value)


def test_expired_wwdr(pki: Pki, tmp_path: Path) -> None:
    old_wwdr = issue(pki.wwdr.cert.subject, pki.wwdr.key, pki.root, ca=True, end=NOW - DAY)
    with pytest.raises(CertificateError, match="WWDR intermediate certificate expired"):
        load_files(tmp_path, pki.leaf(), old_wwdr.cert)


def test_p12_wrong_password_and_bad_file(pki: Pki, tmp_path: Path) -> None:
    p12 = write_p12(tmp_path / "id.p12", pki.leaf(), [pki.wwdr.cert], PASSWORD)
    error = expect_error("could not be opened: wrong password", p12_path=p12, p12_password="guess")
    assert "guess" not in str(error)
    junk = tmp_path / "junk.p12"
    junk.write_bytes(b"not a pkcs12 at all")
    expect_error("junk.p12 is not a PKCS#12", p12_path=junk, p12_password=PASSWORD)


# --- expiry warnings -------------------------------------------------------------------


def test_expiry_warning_20_days_but_not_60(pki: Pki, tmp_path: Path) -> None:
    identity = load_files(tmp_path, pki.leaf(end=NOW + 400 * DAY), pki.wwdr.cert)
    soon = identity.not_after - 20 * DAY
    warning = expiry_warning(identity, now=soon)
    assert warning is not None
    assert "pass.test.card" in warning and "in 20 days" in warning
    assert expiry_warning(identity, now=identity.not_after - 60 * DAY) is None
    assert expiry_warning(identity, now=soon, days=10) is None


def test_expiry_warning_for_the_wwdr(pki: Pki, tmp_path: Path) -> None:
    short_wwdr = issue(pki.wwdr.cert.subject, pki.wwdr.key, pki.root, ca=True, end=NOW + 15 * DAY)
    identity = load_files(tmp_path, pki.leaf(), short_wwdr.cert)
    warning = expiry_warning(identity)
    assert warning is not None and "WWDR" in warning


# --- the development identity -------------------------------------------------------------


@pytest.fixture(scope="session")
def dev_paths(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A development identity made once for this module's session."""
    return create_dev_identity(tmp_path_factory.mktemp("dev-certs"))


def test_dev_identity_files_and_shape(dev_paths: dict[str, Path]) -> None:
    assert {p.name for p in dev_paths.values()} == {
        "dev-root.pem", "dev-wwdr.pem", "pass-cert.pem", "pass-key.pem",
    }  # fmt: skip
    assert stat.S_IMODE(dev_paths["key"].stat().st_mode) == 0o600
    identity = load_identity(
        cert_path=dev_paths["cert"], key_path=dev_paths["key"], wwdr_path=dev_paths["wwdr"]
    )
    assert identity.pass_type_id == "pass.example.walletpass.dev"
    assert identity.team_id == "DEVTEAM000"
    assert isinstance(identity.private_key, rsa.RSAPrivateKey)
    assert identity.private_key.key_size == 2048
    subject = identity.certificate.subject
    common_name = subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value
    assert common_name == "Pass Type ID: pass.example.walletpass.dev"
    eku = identity.certificate.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert set(eku) == {ExtendedKeyUsageOID.CLIENT_AUTH, ExtendedKeyUsageOID.EMAIL_PROTECTION}
    assert identity.wwdr.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    assert 824 <= (identity.not_after - NOW).days <= 825


def test_dev_chain_verifies_with_openssl(dev_paths: dict[str, Path]) -> None:
    result = subprocess.run(
        ["openssl", "verify", "-CAfile", str(dev_paths["root"]),
         "-untrusted", str(dev_paths["wwdr"]), "-purpose", "sslclient", str(dev_paths["cert"])],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().endswith("OK")


def test_dev_identity_is_not_overwritten(tmp_path: Path) -> None:
    first = create_dev_identity(tmp_path, pass_type_id="pass.example.one", team_id="ONE")
    before = {role: path.read_bytes() for role, path in first.items()}
    again = create_dev_identity(tmp_path, pass_type_id="pass.example.two", team_id="TWO")
    assert again == first
    assert {role: path.read_bytes() for role, path in again.items()} == before


def test_partial_dev_identity_is_refused(tmp_path: Path) -> None:
    (tmp_path / "pass-key.pem").write_bytes(b"someone's key")
    with pytest.raises(CertificateError, match="pass-key.pem"):
        create_dev_identity(tmp_path)
    assert (tmp_path / "pass-key.pem").read_bytes() == b"someone's key"
    assert not (tmp_path / "pass-cert.pem").exists()
